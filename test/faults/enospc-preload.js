// Preloaded (NODE_OPTIONS=--require) into every process of a fault-suite host when DATA_DIR cannot
// be a tmpfs of its own (mounting refused): while the file FAULT_DISK_FULL_FLAG exists, every
// FileHandle write fails with ENOSPC, as a full disk would. Test support only; never in the app.
"use strict";
const fs = require("node:fs");
const flag = process.env.FAULT_DISK_FULL_FLAG;
if (flag) {
  const probe = fs.promises.open(__filename, "r");
  probe.then((fh) => {
    const proto = Object.getPrototypeOf(fh);
    void fh.close();
    const wrap = (original) =>
      async function (...args) {
        if (fs.existsSync(flag)) {
          const err = new Error("ENOSPC: no space left on device, write");
          err.code = "ENOSPC";
          err.errno = -28;
          err.syscall = "write";
          throw err;
        }
        return original.apply(this, args);
      };
    proto.write = wrap(proto.write);
    proto.writeFile = wrap(proto.writeFile);
  });
}
