// Doctor check: which library NTS's AES-SIV runs on. Nettle (as chronyd's) is the fast one; the OpenSSL fallback works but costs NTS throughput.

import { type Finding, ok, warn } from "./finding.ts";

/** The AES-SIV back end this machine gives NTS, as the CLI found it. */
export interface NtsCryptoFacts {
  readonly backend: "nettle" | "openssl";
  /** Why Nettle could not be used; empty for Nettle. */
  readonly reason: string;
}

/**
 * The "nts crypto" finding (null when NTS is not used, as server or client): OK on Nettle, WARN
 * on the OpenSSL fallback with the package to install.
 *
 * @example
 * ```ts
 * checkNtsCrypto({ backend: "nettle", reason: "" })?.status; // "ok"
 * checkNtsCrypto(null); // null: no NTS in the config
 * ```
 */
export function checkNtsCrypto(facts: NtsCryptoFacts | null): Finding | null {
  if (facts === null) return null;
  const check = "nts crypto";
  if (facts.backend === "nettle") {
    return ok(check, "AES-SIV through Nettle (libnettle.so.8), as chronyd's NTS");
  }
  return warn(
    check,
    `AES-SIV through OpenSSL, slower than Nettle (about twice the time per NTS request in our ` +
      `benchmark): ${facts.reason}`,
    "install Nettle's library (the package is named above), then restart ntp",
  );
}
