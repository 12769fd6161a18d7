// The [discard] section as the responder's RateLimitPolicy (core/server/types.ts).
import type { RateLimitPolicy } from "../core/server/types.ts";
import type { NtpConfig } from "./ntp_config.ts";

/**
 * Rate limits for clients under a `limited` restrict rule: `discard average` (log2 s),
 * `minimum` (s), `burst` (packets) and `monitor` (table entries).
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "./ntp_config.ts";
 * declare const config: NtpConfig; // with the default [discard] section
 * toRateLimitPolicy(config); // { averageLog2: 3, minimumSeconds: 2, burstPackets: 16, tableEntries: 65536 }
 * ```
 */
export function toRateLimitPolicy(config: NtpConfig): RateLimitPolicy {
  const { averageLog2, minimumSeconds, burstPackets, monitorEntries } = config.discard;
  return { averageLog2, minimumSeconds, burstPackets, tableEntries: monitorEntries };
}
