// Builds the console (Preact + oidc-client-ts + uPlot, bundled by esbuild) into dist/src/console,
// next to the compiled app, so the serveConsole function finds it and the deployment package
// (which ships dist/src) carries it. Runs as part of `npm run build`.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "dist", "src", "console");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, "src", "main.tsx") },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: out,
  logLevel: "warning",
  legalComments: "linked",
});
for (const f of ["index.html", "styles.css"]) cpSync(join(here, f), join(out, f));
