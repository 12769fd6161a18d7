// Starts the packet responders with the chosen back end: fast (FFI worker threads) or portable (node:dgram).
import { startFastResponders } from "../io/udp_fast.ts";
import { loadLater } from "../io/load_later.ts";
import { defaultIoBackend } from "../io/io_backend.ts";
import { NtsStartError } from "./nts_start_error.ts";
import type { Responders, RespondersOptions } from "../io/responders_types.ts";

export type {
  BoundEndpoint,
  IoBackend,
  ListenEndpoint,
  Responders,
  RespondersOptions,
} from "../io/responders_types.ts";
export type { PublishedSnapshot } from "../io/snapshot_buffer.ts";
export { BindError } from "../io/bind_error.ts";

export { defaultIoBackend } from "../io/io_backend.ts";

/**
 * Binds the listen addresses and starts answering NTP requests. Rejects with a BindError
 * (message names the address and the fix) when an address cannot be bound.
 *
 * @example
 * ```ts
 * import { defaultRateLimitPolicy } from "../core/server/rate_limit.ts";
 * import type { PublishedSnapshot } from "../io/snapshot_buffer.ts";
 * declare const snapshot: PublishedSnapshot;
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
export async function startResponders(options: RespondersOptions): Promise<Responders> {
  const io = options.io ?? defaultIoBackend();
  if (io === "fast") return await startFastResponders(options);
  if (options.nts !== undefined) {
    throw new NtsStartError(
      'NTS needs io "fast" (FFI worker threads); the portable back end cannot serve it',
    );
  }
  // node:dgram is loaded only for this back end.
  const portable = await loadLater<typeof import("../io/udp_portable.ts")>(
    new URL("../io/udp_portable.ts", import.meta.url),
  );
  return await portable.startPortableResponders(options);
}
