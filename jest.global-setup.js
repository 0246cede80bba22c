// Builds dist/ once for the whole run, before any test file starts a host. Test files used to
// rebuild it each (ensureBuilt), and tsc rewriting dist/ while another worker's host was
// loading the app could hand that host a half-written module. `npm test` has built it already
// (pretest); the workers inherit LOCALHOST_SKIP_BUILD.
const { execFileSync } = require("node:child_process");
const path = require("node:path");

module.exports = () => {
  if (process.env.LOCALHOST_SKIP_BUILD === "true") return;
  if (process.env.npm_lifecycle_event !== "test") {
    const tsc = path.join(__dirname, "node_modules", "typescript", "bin", "tsc");
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
      cwd: __dirname,
      stdio: "inherit",
    });
  }
  process.env.LOCALHOST_SKIP_BUILD = "true";
};
