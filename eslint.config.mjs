// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import { builtinModules } from "node:module";

// Orchestrators are replayed: anything that reads the clock, randomness, the environment or does
// I/O gives a different answer on replay and corrupts the instance. These rules make that a lint
// error instead of a production incident (see docs on Durable code constraints).
const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const ioModules = [
  "@azure/cosmos",
  "@azure/service-bus",
  "@azure/identity",
  "@azure/storage-*",
  "axios",
  "node-fetch",
  "undici",
  "uuid",
  "fs-extra",
];

export const orchestratorDeterminismRules = {
  "no-restricted-imports": [
    "error",
    {
      paths: nodeBuiltins.map((name) => ({
        name,
        message:
          "Orchestrators must not use Node builtins (I/O, crypto, timers): do it in an activity.",
      })),
      patterns: [
        { group: ioModules, message: "Orchestrators must not do I/O: call an activity." },
        {
          group: ["**/adapters/**", "**/adapters"],
          message: "Orchestrators must not touch adapters: call an activity.",
        },
      ],
    },
  ],
  "no-restricted-globals": [
    "error",
    {
      name: "process",
      message: "process.env is not replay-safe: pass configuration as orchestration input.",
    },
    { name: "crypto", message: "Use context.df.newGuid() instead of crypto." },
    { name: "setTimeout", message: "Use context.df.createTimer()." },
    { name: "setInterval", message: "Use context.df.createTimer()." },
    { name: "fetch", message: "Orchestrators must not do I/O: call an activity." },
    { name: "require", message: "Orchestrators must not load modules dynamically." },
  ],
  "no-restricted-properties": [
    "error",
    { object: "Date", property: "now", message: "Use context.df.currentUtcDateTime." },
    {
      object: "Math",
      property: "random",
      message: "Randomness is not replay-safe: get it from an activity.",
    },
    {
      object: "process",
      property: "env",
      message: "process.env is not replay-safe: pass configuration as orchestration input.",
    },
  ],
  "no-restricted-syntax": [
    "error",
    {
      selector: "NewExpression[callee.name='Date'][arguments.length=0]",
      message: "new Date() reads the clock: use context.df.currentUtcDateTime.",
    },
    {
      selector: "CallExpression[callee.name='Date'][arguments.length=0]",
      message: "Date() reads the clock: use context.df.currentUtcDateTime.",
    },
    {
      selector: ":function[async=true]",
      message: "Orchestrators are synchronous generators: no async functions.",
    },
    { selector: "AwaitExpression", message: "Orchestrators must not await: yield durable tasks." },
    { selector: "ImportExpression", message: "Orchestrators must not load modules dynamically." },
  ],
};

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "dist/**",
      ".data/**",
      "coverage/**",
      "**/*.js",
      "!eslint.config.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    files: ["**/test/**/*.ts"],
    languageOptions: { globals: { ...globals.jest } },
  },
  {
    // The console runs in the browser.
    files: ["console/**/*.ts", "console/**/*.tsx"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["src/orchestrators/**/*.ts"],
    rules: orchestratorDeterminismRules,
  },
);
