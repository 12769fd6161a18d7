// Deno FFI bindings to the few OpenSSL 3 libcrypto calls NTS needs (AES block modes, random bytes).

/** The libcrypto symbols this project calls (all synchronous, all cheap). */
const symbols = {
  EVP_CIPHER_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_CIPHER_CTX_set_padding: { parameters: ["pointer", "i32"], result: "i32" },
  EVP_CipherInit_ex2: {
    parameters: ["pointer", "pointer", "buffer", "buffer", "i32", "pointer"],
    result: "i32",
  },
  EVP_CipherUpdate: { parameters: ["pointer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
  EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  RAND_bytes: { parameters: ["buffer", "i32"], result: "i32" },
  X509_get0_notAfter: { parameters: ["pointer"], result: "pointer" },
  X509_get0_notBefore: { parameters: ["pointer"], result: "pointer" },
  ASN1_TIME_to_tm: { parameters: ["pointer", "buffer"], result: "i32" },
  X509_VERIFY_PARAM_set1_ip_asc: { parameters: ["pointer", "buffer"], result: "i32" },
  X509_verify_cert_error_string: { parameters: ["i64"], result: "pointer" },
  ERR_get_error: { parameters: [], result: "u64" },
  ERR_error_string_n: { parameters: ["u64", "buffer", "usize"], result: "void" },
  ERR_clear_error: { parameters: [], result: "void" },
} as const;

/** The opened libcrypto. */
export type Libcrypto = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** Raised when OpenSSL 3's libcrypto cannot be loaded or refuses a call. */
export class OpenSslError extends Error {
  override name = "OpenSslError";
}

let opened: Libcrypto | undefined;

/**
 * Opens libcrypto.so.3 once per thread (each worker has its own handle).
 *
 * @throws {OpenSslError} When the library is missing (NTS needs OpenSSL 3).
 * @example
 * ```ts
 * const crypto = openLibcrypto();
 * const bytes = new Uint8Array(16);
 * crypto.RAND_bytes(bytes, bytes.length);
 * ```
 */
export function openLibcrypto(): Libcrypto {
  if (opened !== undefined) return opened;
  try {
    opened = Deno.dlopen("libcrypto.so.3", symbols).symbols;
  } catch (error) {
    throw new OpenSslError(
      `NTS needs OpenSSL 3 (libcrypto.so.3), which could not be loaded: ${
        error instanceof Error ? error.message : String(error)
      } (Debian/Ubuntu: apt install libssl3)`,
    );
  }
  return opened;
}

/**
 * OpenSSL's queued error texts (oldest first), emptying the queue; "" when there are none.
 *
 * @example
 * ```ts
 * const text = openSslErrors(openLibcrypto());
 * ```
 */
export function openSslErrors(crypto: Libcrypto): string {
  const texts: string[] = [];
  const buffer = new Uint8Array(256);
  for (let i = 0; i < 16; i++) {
    const code = crypto.ERR_get_error();
    if (code === 0n) break;
    crypto.ERR_error_string_n(code, buffer, BigInt(buffer.length));
    const end = buffer.indexOf(0);
    texts.push(new TextDecoder().decode(buffer.subarray(0, end < 0 ? buffer.length : end)));
  }
  return texts.join("; ");
}

/**
 * A source of random bytes that asks OpenSSL's CSPRNG for 4 KiB at a time and hands them out in
 * order (each byte once): RAND_bytes costs about 3 us a call here, whatever the size, which the
 * two 16-byte nonces of every NTS reply cannot afford.
 *
 * @throws {OpenSslError} When the generator fails (not seeded).
 * @example
 * ```ts
 * const random = bufferedRandom(openLibcrypto());
 * const nonce = new Uint8Array(16);
 * random(nonce);
 * ```
 */
export function bufferedRandom(crypto: Libcrypto): (out: Uint8Array) => void {
  const pool = new Uint8Array(4096);
  let next = pool.length;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      if (next === pool.length) {
        randomBytes(crypto, pool);
        next = 0;
      }
      out[i] = pool[next] as number;
      pool[next++] = 0;
    }
  };
}

/**
 * Fills `bytes` from OpenSSL's CSPRNG.
 *
 * @throws {OpenSslError} When the generator fails (not seeded).
 * @example
 * ```ts
 * const nonce = new Uint8Array(16);
 * randomBytes(openLibcrypto(), nonce);
 * ```
 */
export function randomBytes(crypto: Libcrypto, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  if (crypto.RAND_bytes(bytes, bytes.length) !== 1) {
    throw new OpenSslError(`RAND_bytes failed: ${openSslErrors(crypto)}`);
  }
}
