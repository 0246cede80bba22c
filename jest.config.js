/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Type-checking is `npm run typecheck`'s job; tests only transpile (fast, per file).
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }] },
  testMatch: ["<rootDir>/**/test/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "/.data/"],
  modulePathIgnorePatterns: ["<rootDir>/dist/"],
  testTimeout: 30000,
};
