// Picks the AES-SIV-CMAC-256 back end: Nettle when libnettle.so.8 loads (one call a message), else OpenSSL's block modes.
import type { SivAead } from "../core/nts/aead.ts";
import { createNettleAesSiv } from "./aes_siv_nettle.ts";
import { createOpenSslAesSiv } from "./aes_siv_openssl.ts";
import { type Libnettle, libnettleFailure, openLibnettle } from "./libnettle.ts";

/** The library an AES-SIV instance computes with. */
export type AesSivBackend = "nettle" | "openssl";

/** Which back end {@link createAesSiv} uses on this thread, and why not Nettle when it is not. */
export interface AesSivChoice {
  readonly backend: AesSivBackend;
  /** Empty for Nettle; else why libnettle could not be used. */
  readonly reason: string;
}

/**
 * The back end {@link createAesSiv} picks on this machine: Nettle when it loads (an NTS request
 * took about half the OpenSSL back end's time in scripts/bench/nts_request_bench.ts), else
 * OpenSSL.
 *
 * @example
 * ```ts
 * const choice = aesSivChoice();
 * if (choice.backend === "openssl") console.log(`AES-SIV through OpenSSL: ${choice.reason}`);
 * ```
 */
export function aesSivChoice(): AesSivChoice {
  return openLibnettle() === null
    ? { backend: "openssl", reason: libnettleFailure() }
    : { backend: "nettle", reason: "" };
}

/**
 * A new AES-SIV-CMAC-256 instance for this thread, on Nettle when it loads, else on OpenSSL 3
 * (OpenSSL also serves Nettle's instances for calls without a nonce, which Nettle refuses). Use
 * one per key family (the server's cookie keys, the per-client keys) so that a key stays set
 * between calls. `openNettle` is for tests (the library, or null as on a machine without it).
 *
 * @throws {OpenSslError} Without Nettle, when OpenSSL 3 is missing or refuses AES.
 * @example
 * ```ts
 * const aead = createAesSiv();
 * const key = new Uint8Array(32);
 * const nonce = new Uint8Array(16);
 * const out = new Uint8Array(16 + 5);
 * const plaintext = new TextEncoder().encode("hello");
 * aead.seal(key, { associated: new Uint8Array(0), nonce, plaintext }, out, 0);
 * const back = new Uint8Array(5);
 * aead.open(key, { associated: new Uint8Array(0), nonce, ciphertext: out }, back); // 5
 * ```
 */
export function createAesSiv(
  openNettle: () => Libnettle | null = openLibnettle,
): SivAead {
  const nettle = openNettle();
  return nettle === null ? createOpenSslAesSiv() : createNettleAesSiv(nettle, createOpenSslAesSiv);
}
