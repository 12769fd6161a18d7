// Reads /proc (files, symlinks, the PID list) through libc, because Deno refuses every /proc path without --allow-all.
//
// Deno 2 treats /proc as privileged: even with --allow-read, Deno.readTextFile("/proc/1/comm")
// fails with NotCapable. The daemon and CLI run with --allow-ffi, so these helpers call open(2),
// read(2), readlink(2) and opendir(3)/readdir(3) directly. Without FFI they try Deno's API (which
// works under --allow-all) and otherwise answer null / []. Linux x86_64 and aarch64 (glibc) only.
import { ffiPermitted } from "./libc.ts";

const symbols = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
} as const;

/** O_RDONLY | O_CLOEXEC. */
const openFlags = 0o2000000;
/** Offset of d_name in glibc's struct dirent on LP64 Linux (d_ino, d_off, d_reclen, d_type). */
const direntNameOffset = 19;
/** Largest /proc file we read (status, net/udp with many sockets); larger files are cut. */
const maxFileBytes = 4 * 1024 * 1024;

let library: Deno.DynamicLibrary<typeof symbols> | null | undefined;

function libc(): Deno.DynamicLibrary<typeof symbols> | null {
  if (library !== undefined) return library;
  const supported = Deno.build.os === "linux" &&
    (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");
  library = null;
  if (supported && ffiPermitted()) {
    try {
      library = Deno.dlopen("libc.so.6", symbols);
    } catch {
      library = null;
    }
  }
  return library;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/**
 * The contents of a /proc file (e.g. "/proc/1234/status"), or null when it cannot be read
 * (the process is gone, no permission, no FFI).
 *
 * @example
 * ```ts
 * readProcText("/proc/1/comm"); // "systemd\n"
 * ```
 */
export function readProcText(path: string): string | null {
  const lib = libc();
  if (lib === null) {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return null;
    }
  }
  const fd = lib.symbols.open(cString(path), openFlags);
  if (fd < 0) return null;
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buffer = new Uint8Array(65536);
    while (total < maxFileBytes) {
      const count = Number(lib.symbols.read(fd, buffer, BigInt(buffer.length)));
      if (count < 0) return null;
      if (count === 0) break;
      chunks.push(buffer.slice(0, count));
      total += count;
    }
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    return decoder.decode(joined);
  } finally {
    lib.symbols.close(fd);
  }
}

/**
 * The target of a /proc symlink (e.g. "/proc/1234/ns/net" -> "net:[4026531840]",
 * "/proc/1234/fd/5" -> "socket:[190476]"), or null when it cannot be read.
 */
export function readProcLink(path: string): string | null {
  const lib = libc();
  if (lib === null) {
    try {
      return Deno.readLinkSync(path);
    } catch {
      return null;
    }
  }
  const buffer = new Uint8Array(4096);
  const count = Number(lib.symbols.readlink(cString(path), buffer, BigInt(buffer.length)));
  return count < 0 ? null : decoder.decode(buffer.subarray(0, count));
}

/**
 * The entry names of a /proc directory (e.g. "/proc" or "/proc/1234/fd"), without "." and "..";
 * [] when it cannot be read.
 */
export function listProcDirectory(path: string): string[] {
  const lib = libc();
  if (lib === null) {
    try {
      return [...Deno.readDirSync(path)].map((entry) => entry.name);
    } catch {
      return [];
    }
  }
  const dir = lib.symbols.opendir(cString(path));
  if (dir === null) return [];
  const names: string[] = [];
  try {
    for (let entry = lib.symbols.readdir(dir); entry !== null; entry = lib.symbols.readdir(dir)) {
      const name = Deno.UnsafePointerView.getCString(entry, direntNameOffset);
      if (name !== "." && name !== "..") names.push(name);
    }
  } finally {
    lib.symbols.closedir(dir);
  }
  return names;
}

/** The PIDs of every process /proc lists (numeric entries), ascending. */
export function listProcessIds(): number[] {
  return listProcDirectory("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
}
