// The host's console output, coalesced: under load the host logs a few dozen lines per order,
// and one write(2) per line cost a quarter of the host's CPU (profiled, 2026-12-02). Lines
// written in one turn of the event loop go out in one write at the end of it, or at once past
// 64 KiB; on exit whatever is pending is written synchronously (stdout to a pipe, file or
// terminal is synchronous on Linux). Only a SIGKILL can lose a turn's lines.
import { TurnQueue } from "./turnQueue";

const FLUSH_AT = 64 * 1024;

export interface CoalescedWriter {
  write(text: string): void;
  flush(): void;
}

export function coalescedWriter(out: { write(text: string): unknown }): CoalescedWriter {
  let size = 0;
  const lines = new TurnQueue<string>((texts) => {
    size = 0;
    out.write(texts.length === 1 ? texts[0]! : texts.join(""));
  });
  const flush = () => lines.flush();
  process.on("exit", flush);
  return {
    write(text) {
      lines.add(text);
      size += text.length;
      if (size >= FLUSH_AT) flush();
    },
    flush,
  };
}

let stdout: CoalescedWriter | undefined;

/** The process's stdout through one shared coalescing buffer, so lines keep their order. */
export function writeStdout(text: string): void {
  (stdout ??= coalescedWriter(process.stdout)).write(text);
}
