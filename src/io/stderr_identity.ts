// Device and inode of this process's stderr via fstat(2), to tell whether it is the journal stream systemd named in JOURNAL_STREAM. (Deno refuses to stat /proc/self/fd/2 without --allow-all.)
import { ffiPermitted } from "./libc.ts";

/** Device and inode numbers, as systemd writes them in JOURNAL_STREAM ("DEV:INO", decimal). */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * st_dev and st_ino of a struct stat: u64 at offsets 0 and 8 on Linux x86_64 and aarch64 alike.
 *
 * @example
 * ```ts
 * declare const statBuffer: Uint8Array; // the struct stat fstat(2) filled in
 * identityFromStat(statBuffer); // { dev: 64768, ino: 131 }
 * ```
 */
export function identityFromStat(stat: Uint8Array): FileIdentity {
  const view = new DataView(stat.buffer, stat.byteOffset, stat.byteLength);
  return { dev: Number(view.getBigUint64(0, true)), ino: Number(view.getBigUint64(8, true)) };
}

/**
 * The identity of file descriptor 2, or null when it cannot be had (no --allow-ffi, not Linux
 * x86_64/aarch64, a libc without `fstat`).
 */
export function stderrIdentity(): FileIdentity | null {
  const supported = Deno.build.os === "linux" &&
    (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");
  if (!supported || !ffiPermitted()) return null;
  let library: Deno.DynamicLibrary<{ fstat: { parameters: ["i32", "buffer"]; result: "i32" } }>;
  try {
    library = Deno.dlopen("libc.so.6", { fstat: { parameters: ["i32", "buffer"], result: "i32" } });
  } catch {
    return null;
  }
  try {
    const stat = new Uint8Array(256); // struct stat is 144 (x86_64) or 128 (aarch64) bytes
    return library.symbols.fstat(2, stat) === 0 ? identityFromStat(stat) : null;
  } finally {
    library.close();
  }
}
