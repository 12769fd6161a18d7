// The AEAD the NTS code uses (AES-SIV-CMAC-256, RFC 5297), as an interface the I/O layer implements.

/** AEAD algorithm numbers (IANA "AEAD Algorithms" registry) this project speaks. */
export const AeadId = {
  /** AEAD_AES_SIV_CMAC_256: 32-byte key (16 for S2V/CMAC, 16 for CTR), 16-byte tag. */
  aesSivCmac256: 15,
} as const;

/** Key length of AEAD_AES_SIV_CMAC_256, bytes. */
export const AES_SIV_KEY_BYTES = 32;

/** Tag (synthetic IV) length of AES-SIV, bytes: a ciphertext is the tag then the encrypted text. */
export const AES_SIV_TAG_BYTES = 16;

/**
 * AES-SIV-CMAC-256 with one associated-data string and an optional nonce (RFC 5297: S2V over
 * the associated data, then the nonce when given, then the plaintext). Implementations keep no
 * reference to the arrays they are given beyond the call (a key may be cached as a copy).
 */
export interface SivAead {
  /**
   * Encrypts `plaintext` into `out[at..at + 16 + plaintext.length)`: the 16-byte synthetic IV,
   * then the encrypted text. Returns the number of bytes written. `out` must not overlap the
   * inputs.
   */
  seal(
    key: Uint8Array,
    input: { associated: Uint8Array; nonce: Uint8Array | null; plaintext: Uint8Array },
    out: Uint8Array,
    at: number,
  ): number;
  /**
   * Checks and decrypts `ciphertext` (tag then encrypted text) into `out[0..)`. Returns the
   * plaintext length, or -1 when the tag does not match or an input is longer than
   * {@link AES_SIV_MAX_INPUT_BYTES} (what a peer sent is refused, not thrown at; nothing in `out`
   * may be used then). `out` must not overlap the inputs.
   */
  open(
    key: Uint8Array,
    input: { associated: Uint8Array; nonce: Uint8Array | null; ciphertext: Uint8Array },
    out: Uint8Array,
  ): number;
}

/** Largest associated data, nonce or plaintext an AES-SIV implementation here accepts, bytes. */
export const AES_SIV_MAX_INPUT_BYTES = 4096;

/**
 * Throws unless `key` is an AES-SIV-CMAC-256 key and every length (the nonce's is 0 without one) is within
 * {@link AES_SIV_MAX_INPUT_BYTES}: the checks every implementation makes before it calls out.
 *
 * @throws {RangeError} On a key of another length or an input that is too long.
 * @example
 * ```ts
 * checkSivArguments(new Uint8Array(32), 48, 16, 0); // associated data, nonce, text
 * ```
 */
export function checkSivArguments(
  key: Uint8Array,
  associatedBytes: number,
  nonceBytes: number,
  textBytes: number,
): void {
  checkSivKey(key);
  if (sivInputTooLong(associatedBytes, nonceBytes, textBytes)) {
    throw new RangeError(`AES-SIV input longer than ${AES_SIV_MAX_INPUT_BYTES} bytes`);
  }
}

/**
 * Throws unless `key` is an AES-SIV-CMAC-256 key (32 bytes): a wrong key is the caller's mistake.
 *
 * @throws {RangeError} On a key of another length.
 * @example
 * ```ts
 * checkSivKey(new Uint8Array(32)); // fine
 * ```
 */
export function checkSivKey(key: Uint8Array): void {
  if (key.length !== AES_SIV_KEY_BYTES) {
    throw new RangeError(
      `AES-SIV-CMAC-256 needs a ${AES_SIV_KEY_BYTES}-byte key, got ${key.length}`,
    );
  }
}

/**
 * Whether any length is beyond {@link AES_SIV_MAX_INPUT_BYTES}: an open refuses such input (-1)
 * where a seal throws.
 *
 * @example
 * ```ts
 * sivInputTooLong(48, 16, 5000); // true
 * ```
 */
export function sivInputTooLong(
  associatedBytes: number,
  nonceBytes: number,
  textBytes: number,
): boolean {
  return associatedBytes > AES_SIV_MAX_INPUT_BYTES || nonceBytes > AES_SIV_MAX_INPUT_BYTES ||
    textBytes > AES_SIV_MAX_INPUT_BYTES;
}

/**
 * Throws unless `out[at..at + sealedBytes)` lies within `out` with `at` a whole number: a seal's
 * output goes to native code, which must never write past the buffer (NaN passes `<`/`>`).
 *
 * @throws {RangeError} When it does not fit.
 * @example
 * ```ts
 * checkSealRoom(new Uint8Array(64), 8, 16 + 40); // fine
 * ```
 */
export function checkSealRoom(out: Uint8Array, at: number, sealedBytes: number): void {
  if (!Number.isSafeInteger(at) || at < 0 || out.length < at + sealedBytes) {
    throw new RangeError("AES-SIV output buffer too small");
  }
}
