// Which packet I/O back end the responders use when none is asked for.
import { ffiPermitted } from "./libc.ts";
import type { IoBackend } from "./responders_types.ts";

/**
 * The back end used when none is asked for: fast on Linux x86_64/aarch64 with --allow-ffi,
 * portable otherwise.
 *
 * @example
 * ```ts
 * defaultIoBackend(); // "fast" on Linux x86_64 with --allow-ffi
 * ```
 */
export function defaultIoBackend(): IoBackend {
  const supported = Deno.build.os === "linux" &&
    (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");
  return supported && ffiPermitted() ? "fast" : "portable";
}
