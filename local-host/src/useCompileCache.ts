// Imported first by each of the local host's entry points (host, worker, emulators), so the
// modules they load after it come from the code cache. LOCALHOST_COMPILE_CACHE=false turns it off.
import { defaultCompileCacheDir, installCompileCache } from "./compileCache";

const dir = process.env.LOCALHOST_COMPILE_CACHE === "false" ? undefined : defaultCompileCacheDir();
if (dir) installCompileCache(dir);
