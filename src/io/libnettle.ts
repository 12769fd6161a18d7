// Deno FFI bindings to Nettle's AES-SIV-CMAC-256 (libnettle.so.8, Nettle 3.6 or later): one call per seal or open.

/** The libnettle symbols this project calls (synchronous, no allocation inside). */
const symbols = {
  nettle_siv_cmac_aes128_set_key: { parameters: ["buffer", "buffer"], result: "void" },
  nettle_siv_cmac_aes128_encrypt_message: {
    parameters: ["buffer", "usize", "buffer", "usize", "buffer", "usize", "buffer", "buffer"],
    result: "void",
  },
  nettle_siv_cmac_aes128_decrypt_message: {
    parameters: ["buffer", "usize", "buffer", "usize", "buffer", "usize", "buffer", "buffer"],
    result: "i32",
  },
} as const;

/** The opened libnettle. */
export type Libnettle = Deno.DynamicLibrary<typeof symbols>["symbols"];

/**
 * Bytes of `struct siv_cmac_aes128_ctx` (two 16-byte CMAC subkeys and two expanded AES-128 keys
 * of 176 bytes: 384 on x86_64 and aarch64, 8-byte aligned), rounded up for headroom.
 */
export const SIV_CONTEXT_BYTES = 512;

/** The library file opened: the soname of Nettle 3.6 and later (SIV-CMAC came with 3.6). */
export const LIBNETTLE_NAME = "libnettle.so.8";

let opened: Libnettle | null | undefined;
let failure = "";

/**
 * Opens libnettle.so.8 once per thread (each worker has its own handle), or null when this
 * machine has no Nettle with SIV-CMAC; {@link libnettleFailure} then says why.
 *
 * @example
 * ```ts
 * const nettle = openLibnettle();
 * if (nettle === null) console.log(libnettleFailure());
 * ```
 */
export function openLibnettle(): Libnettle | null {
  if (opened !== undefined) return opened;
  try {
    opened = Deno.dlopen(LIBNETTLE_NAME, symbols).symbols;
  } catch (error) {
    opened = null;
    failure = `${LIBNETTLE_NAME} could not be loaded: ${
      error instanceof Error ? error.message : String(error)
    } (Debian/Ubuntu: apt install libnettle8, named libnettle8t64 on Debian 13 and Ubuntu 24.04)`;
  }
  return opened;
}

/**
 * Why {@link openLibnettle} returned null; "" when it has not failed.
 *
 * @example
 * ```ts
 * libnettleFailure(); // "" until openLibnettle() failed
 * ```
 */
export function libnettleFailure(): string {
  return failure;
}
