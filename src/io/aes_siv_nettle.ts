// AES-SIV-CMAC-256 (RFC 5297) through Nettle: one FFI call per seal or open, one more when the key changes.
//
// Nettle's siv_cmac_aes128 does S2V and CTR in C (AES-NI when the CPU has it), where the OpenSSL
// back end (aes_siv_openssl.ts) needs about five calls and JavaScript between them. Nettle asks for
// a nonce of at least one byte (it asserts, which would abort the process), so a seal or open
// without one goes to the OpenSSL back end: our server refuses such requests before it opens
// anything, but a client opens whatever nonce a server's reply names, empty ones too.
import type { SivAead } from "../core/nts/aead.ts";
import {
  AES_SIV_KEY_BYTES,
  AES_SIV_MAX_INPUT_BYTES,
  AES_SIV_TAG_BYTES,
  checkSealRoom,
  checkSivArguments,
  checkSivKey,
  sivInputTooLong,
} from "../core/nts/aead.ts";
import type { Libnettle } from "./libnettle.ts";
import { SIV_CONTEXT_BYTES } from "./libnettle.ts";

/**
 * The size_t arguments as the bigints Deno's FFI takes, made once: every length passed is at most
 * the largest input plus a tag (checkSivArguments holds nonces to the same limit), so no call
 * allocates one.
 */
const sizes: readonly bigint[] = Array.from(
  { length: AES_SIV_MAX_INPUT_BYTES + AES_SIV_TAG_BYTES + 1 },
  (_, n) => BigInt(n),
);

function size(n: number): bigint {
  const value = sizes[n];
  if (value === undefined) throw new RangeError(`AES-SIV length ${n} out of range`);
  return value;
}

/** One AES-SIV instance on Nettle: a context for the last key set, for one thread. */
class NettleAesSiv implements SivAead {
  readonly #nettle: Libnettle;
  /** struct siv_cmac_aes128_ctx, keyed with #key while #keySet. */
  readonly #context = new Uint8Array(SIV_CONTEXT_BYTES);
  readonly #key = new Uint8Array(AES_SIV_KEY_BYTES);
  #keySet = false;
  readonly #withoutNonce: () => SivAead;
  #fallback: SivAead | null = null;

  constructor(nettle: Libnettle, withoutNonce: () => SivAead) {
    this.#nettle = nettle;
    this.#withoutNonce = withoutNonce;
  }

  seal(
    key: Uint8Array,
    input: { associated: Uint8Array; nonce: Uint8Array | null; plaintext: Uint8Array },
    out: Uint8Array,
    at: number,
  ): number {
    const { associated, nonce, plaintext } = input;
    const length = plaintext.length;
    checkSivArguments(key, associated.length, nonce?.length ?? 0, length);
    checkSealRoom(out, at, AES_SIV_TAG_BYTES + length);
    if (nonce === null || nonce.length === 0) return this.#fallbackAead().seal(key, input, out, at);
    this.#setKey(key);
    const sealed = AES_SIV_TAG_BYTES + length;
    this.#nettle.nettle_siv_cmac_aes128_encrypt_message(
      this.#context,
      size(nonce.length),
      nonce,
      size(associated.length),
      associated,
      size(sealed),
      at === 0 ? out : out.subarray(at),
      plaintext,
    );
    return sealed;
  }

  open(
    key: Uint8Array,
    input: { associated: Uint8Array; nonce: Uint8Array | null; ciphertext: Uint8Array },
    out: Uint8Array,
  ): number {
    const { associated, nonce, ciphertext } = input;
    checkSivKey(key);
    if (ciphertext.length < AES_SIV_TAG_BYTES) return -1;
    if (
      sivInputTooLong(
        associated.length,
        nonce?.length ?? 0,
        ciphertext.length - AES_SIV_TAG_BYTES,
      )
    ) return -1;
    const length = ciphertext.length - AES_SIV_TAG_BYTES;
    if (out.length < length) throw new RangeError("AES-SIV output buffer too small");
    if (nonce === null || nonce.length === 0) return this.#fallbackAead().open(key, input, out);
    this.#setKey(key);
    const valid = this.#nettle.nettle_siv_cmac_aes128_decrypt_message(
      this.#context,
      size(nonce.length),
      nonce,
      size(associated.length),
      associated,
      size(length),
      out,
      ciphertext,
    );
    if (valid !== 1) {
      // Nettle leaves the unauthenticated plaintext in `out`.
      out.fill(0, 0, length);
      return -1;
    }
    return length;
  }

  #setKey(key: Uint8Array): void {
    const copy = this.#key;
    if (this.#keySet) {
      let same = true;
      for (let i = 0; i < AES_SIV_KEY_BYTES; i++) {
        if (copy[i] !== key[i]) {
          same = false;
          break;
        }
      }
      if (same) return;
    }
    copy.set(key);
    this.#nettle.nettle_siv_cmac_aes128_set_key(this.#context, copy);
    this.#keySet = true;
  }

  #fallbackAead(): SivAead {
    return this.#fallback ??= this.#withoutNonce();
  }
}

/**
 * AES-SIV-CMAC-256 on Nettle; `withoutNonce` makes the instance used for calls without a nonce
 * (created on the first such call). Keys are compared by content with the last one set, so use
 * one instance per key family (server cookie keys, per-client keys).
 *
 * @example
 * ```ts
 * import { openLibnettle } from "./libnettle.ts";
 * import { createOpenSslAesSiv } from "./aes_siv_openssl.ts";
 * const nettle = openLibnettle();
 * if (nettle !== null) {
 *   const aead = createNettleAesSiv(nettle, createOpenSslAesSiv);
 *   const key = new Uint8Array(32);
 *   const nonce = new Uint8Array(16);
 *   const out = new Uint8Array(16 + 5);
 *   const plaintext = new TextEncoder().encode("hello");
 *   aead.seal(key, { associated: new Uint8Array(0), nonce, plaintext }, out, 0);
 *   const back = new Uint8Array(5);
 *   aead.open(key, { associated: new Uint8Array(0), nonce, ciphertext: out }, back); // 5
 * }
 * ```
 */
export function createNettleAesSiv(nettle: Libnettle, withoutNonce: () => SivAead): SivAead {
  return new NettleAesSiv(nettle, withoutNonce);
}
