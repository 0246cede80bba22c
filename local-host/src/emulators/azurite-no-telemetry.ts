import Module from "node:module";
import path from "node:path";

/*
 * Azurite's Telemetry module loads `applicationinsights` at require time although in-process
 * servers never enable telemetry. That package (with OpenTelemetry and diagnostic-channel, ~470
 * modules) costs ~0.4 s of start-up and patches `require` for the whole process. Registering an
 * empty module under its resolved path before Azurite loads avoids both. This host process runs
 * no app code, so nothing else here wants the real package.
 */
const telemetry = require.resolve("azurite/dist/src/common/Telemetry");
const resolved = require.resolve("applicationinsights", { paths: [path.dirname(telemetry)] });
if (!require.cache[resolved]) {
  const stub = new Module(resolved);
  stub.filename = resolved;
  stub.loaded = true;
  stub.exports = {};
  require.cache[resolved] = stub;
}
