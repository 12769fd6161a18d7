// Starts the packet responders with the chosen back end: fast (FFI worker threads) or portable (node:dgram).
import { ffiPermitted } from "../io/libc.ts";
import { startFastResponders } from "../io/udp_fast.ts";
import { startPortableResponders } from "../io/udp_portable.ts";
import type { IoBackend, Responders, RespondersOptions } from "../io/responders_types.ts";

export type {
  BoundEndpoint,
  IoBackend,
  ListenEndpoint,
  Responders,
  RespondersOptions,
} from "../io/responders_types.ts";
export type { PublishedSnapshot } from "../io/snapshot_buffer.ts";
export { BindError } from "../io/bind_error.ts";

/**
 * The back end used when none is asked for: fast on Linux x86_64/aarch64 with --allow-ffi,
 * portable otherwise.
 */
export function defaultIoBackend(): IoBackend {
  const supported = Deno.build.os === "linux" &&
    (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");
  return supported && ffiPermitted() ? "fast" : "portable";
}

/**
 * Binds the listen addresses and starts answering NTP requests. Rejects with a BindError
 * (message names the address and the fix) when an address cannot be bound.
 *
 * @example
 * ```ts
 * const responders = await startResponders({
 *   listen: [{ hostname: "0.0.0.0", port: 123, family: 4 }, { hostname: "::", port: 123, family: 6 }],
 *   workers: navigator.hardwareConcurrency,
 *   restrict: [],
 *   rateLimit: defaultRateLimitPolicy,
 * });
 * responders.publish(snapshot);
 * await responders.close();
 * ```
 */
export function startResponders(options: RespondersOptions): Promise<Responders> {
  const io = options.io ?? defaultIoBackend();
  return io === "fast" ? startFastResponders(options) : startPortableResponders(options);
}
