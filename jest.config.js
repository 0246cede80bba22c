/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Type-checking is `npm run typecheck`'s job; tests only transpile (fast, per file).
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }] },
  testMatch: ["<rootDir>/**/test/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "/.data/"],
  modulePathIgnorePatterns: ["<rootDir>/dist/"],
  testTimeout: 30000,
  globalSetup: "<rootDir>/jest.global-setup.js",
  // Two workers on CI's two cores: the host-based suites spend much of their time waiting on
  // timers, retries and restarts (one worker left a core idle about half the run).
  maxWorkers: 2,
};
