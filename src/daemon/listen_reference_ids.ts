// The refids of the addresses the daemon listens on: a reply carrying one of them is our own time come back (a loop).
import { ipBytes } from "../config/addresses.ts";
import { refidFromAddress } from "../core/packet/refid.ts";

/**
 * Refids of the explicit (non-wildcard) listen addresses, for loop detection.
 *
 * @example
 * ```ts
 * listenReferenceIds([{ hostname: "192.0.2.1" }, { hostname: "0.0.0.0" }]); // [0xc0000201]
 * ```
 */
export function listenReferenceIds(listen: readonly { hostname: string }[]): number[] {
  return listen
    .filter((l) => l.hostname !== "0.0.0.0" && l.hostname !== "::")
    .map((l) => refidFromAddress(ipBytes(l.hostname)));
}
