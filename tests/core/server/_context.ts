// Builds responder contexts for the server tests.
import type { ServerContext } from "../../../src/core/server/handle_request.ts";
import { createCounters } from "../../../src/core/server/counters.ts";
import { createRateTable, defaultRateLimitPolicy } from "../../../src/core/server/rate_limit.ts";
import { compileRestrict } from "../../../src/core/server/restrict.ts";
import type {
  RateLimitPolicy,
  RestrictRule,
  SystemSnapshot,
} from "../../../src/core/server/types.ts";

/** ntpd's state when it sent the captured reply (tshark_ntpd_mode3_mode4.txt). */
export const ntpdCaptureSystem: SystemSnapshot = {
  leap: 0,
  stratum: 3,
  precisionLog2: -24,
  referenceId: 0x0a7b0001,
  referenceTime: { seconds: 0xeeb527d1, fraction: 0x86e0d926 },
  rootDelaySeconds: 3 / 65536,
  rootDispersionSeconds: 80 / 65536,
};

/** A server that has not synchronised yet. */
export const unsynchronisedSystem: SystemSnapshot = {
  leap: 3,
  stratum: 16,
  precisionLog2: -20,
  referenceId: 0x494e4954, // INIT
  referenceTime: { seconds: 0, fraction: 0 },
  rootDelaySeconds: 0,
  rootDispersionSeconds: 0,
};

/** A context with the given rules and policy (defaults: no rules, default policy, ntpd's state). */
export function makeContext(
  options: {
    readonly rules?: readonly RestrictRule[];
    readonly policy?: RateLimitPolicy;
    readonly system?: SystemSnapshot;
  } = {},
): ServerContext {
  return {
    system: options.system ?? ntpdCaptureSystem,
    restrict: compileRestrict(options.rules ?? []),
    rateTable: createRateTable(options.policy ?? defaultRateLimitPolicy, { hashSeed: 7 }),
    counters: createCounters(),
  };
}
