// Restrict entries in matching form (RestrictRule[] of core/server/types.ts), with ntpd's semantics.
import type { RestrictRule } from "../core/server/types.ts";
import { ipBytes, prefixMaskBytes } from "./addresses.ts";
import type { NtpConfig } from "./ntp_config.ts";

/**
 * The config's restrict entries as matching rules, in file order. `default` without a family
 * gives one all-zero-mask rule per family, with ipv4/ipv6 only that family's; an address is a
 * full-length mask; a network has its prefix mask. No entries give no rules (no restrictions).
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "./ntp_config.ts";
 * declare const config: NtpConfig;
 * const rules = toRestrictRules(config); // hand to the responder's ServerPolicy
 * ```
 */
export function toRestrictRules(config: NtpConfig): RestrictRule[] {
  const rules: RestrictRule[] = [];
  for (const entry of config.restrict) {
    if (entry.kind === "default") {
      const families: (4 | 6)[] = entry.family === null ? [4, 6] : [entry.family];
      for (const family of families) {
        const mask = prefixMaskBytes(family, 0);
        rules.push({ family, network: new Uint8Array(mask.length), mask, flags: [...entry.flags] });
      }
      continue;
    }
    const mask = prefixMaskBytes(entry.family, entry.prefixLength);
    const network = ipBytes(entry.network).map((byte, k) => byte & (mask[k] ?? 0));
    rules.push({ family: entry.family, network, mask, flags: [...entry.flags] });
  }
  return rules;
}
