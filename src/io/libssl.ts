// Deno FFI bindings to the OpenSSL 3 libssl calls an NTS-KE server needs (TLS 1.3 over memory BIOs).
import { openLibcrypto, OpenSslError, openSslErrors } from "./libcrypto.ts";

/** The libssl symbols this project calls (all synchronous). */
const symbols = {
  TLS_server_method: { parameters: [], result: "pointer" },
  TLS_client_method: { parameters: [], result: "pointer" },
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  SSL_CTX_free: { parameters: ["pointer"], result: "void" },
  SSL_CTX_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  SSL_CTX_use_certificate_chain_file: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_CTX_use_PrivateKey_file: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_CTX_check_private_key: { parameters: ["pointer"], result: "i32" },
  SSL_CTX_get0_certificate: { parameters: ["pointer"], result: "pointer" },
  SSL_CTX_set_num_tickets: { parameters: ["pointer", "usize"], result: "i32" },
  SSL_CTX_set_alpn_select_cb: { parameters: ["pointer", "function", "pointer"], result: "void" },
  SSL_select_next_proto: {
    parameters: ["pointer", "pointer", "buffer", "u32", "pointer", "u32"],
    result: "i32",
  },
  SSL_CTX_load_verify_locations: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  SSL_CTX_set_default_verify_paths: { parameters: ["pointer"], result: "i32" },
  SSL_CTX_set_verify: { parameters: ["pointer", "i32", "pointer"], result: "void" },
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  SSL_set_connect_state: { parameters: ["pointer"], result: "void" },
  SSL_ctrl: { parameters: ["pointer", "i32", "i64", "buffer"], result: "i64" },
  SSL_set1_host: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_get0_param: { parameters: ["pointer"], result: "pointer" },
  SSL_set_alpn_protos: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  SSL_get_verify_result: { parameters: ["pointer"], result: "i64" },
  SSL_free: { parameters: ["pointer"], result: "void" },
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_set_accept_state: { parameters: ["pointer"], result: "void" },
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
  SSL_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_shutdown: { parameters: ["pointer"], result: "i32" },
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  SSL_get0_alpn_selected: { parameters: ["pointer", "buffer", "buffer"], result: "void" },
  SSL_export_keying_material: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize", "buffer", "usize", "i32"],
    result: "i32",
  },
  BIO_s_mem: { parameters: [], result: "pointer" },
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
} as const;

/** The opened libssl. */
export type Libssl = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** Constants of OpenSSL 3's headers used with these calls. */
export const SslConst = {
  SSL_CTRL_SET_MIN_PROTO_VERSION: 123,
  SSL_CTRL_SET_MAX_PROTO_VERSION: 124,
  TLS1_3_VERSION: 0x0304,
  SSL_FILETYPE_PEM: 1,
  SSL_VERIFY_NONE: 0,
  SSL_VERIFY_PEER: 1,
  SSL_CTRL_SET_TLSEXT_HOSTNAME: 55,
  TLSEXT_NAMETYPE_host_name: 0,
  SSL_ERROR_NONE: 0,
  SSL_ERROR_SSL: 1,
  SSL_ERROR_WANT_READ: 2,
  SSL_ERROR_WANT_WRITE: 3,
  SSL_ERROR_SYSCALL: 5,
  SSL_ERROR_ZERO_RETURN: 6,
  SSL_TLSEXT_ERR_OK: 0,
  SSL_TLSEXT_ERR_ALERT_FATAL: 2,
  OPENSSL_NPN_NEGOTIATED: 1,
  BIO_CTRL_PENDING: 10,
  /** BIO_set_mem_eof_return: what a read of an empty memory BIO returns (-1: "retry"). */
  BIO_C_SET_BUF_MEM_EOF_RETURN: 130,
} as const;

let opened: Libssl | undefined;

/**
 * Opens libssl.so.3 once.
 *
 * @throws {OpenSslError} When the library is missing.
 * @example
 * ```ts
 * const ssl = openLibssl();
 * ```
 */
export function openLibssl(): Libssl {
  if (opened !== undefined) return opened;
  try {
    opened = Deno.dlopen("libssl.so.3", symbols).symbols;
  } catch (error) {
    throw new OpenSslError(
      `NTS needs OpenSSL 3 (libssl.so.3), which could not be loaded: ${
        error instanceof Error ? error.message : String(error)
      } (Debian/Ubuntu: apt install libssl3)`,
    );
  }
  return opened;
}

/**
 * OpenSSL's queued error texts (oldest first), emptying the queue; "" when there are none. The
 * queue is libcrypto's (per thread), whichever library queued the error.
 *
 * @example
 * ```ts
 * const text = sslErrors();
 * ```
 */
export function sslErrors(): string {
  return openSslErrors(openLibcrypto());
}

/**
 * Empties OpenSSL's error queue, so that what a call leaves there is its own.
 *
 * @example
 * ```ts
 * clearSslErrors();
 * ```
 */
export function clearSslErrors(): void {
  openLibcrypto().ERR_clear_error();
}

/**
 * A TLS 1.3-only SSL_CTX for the server or client method (the caller frees it).
 *
 * @throws {OpenSslError} When OpenSSL cannot make it or refuses TLS 1.3 only.
 * @example
 * ```ts
 * const { ssl, ctx } = newTls13Context("server");
 * ssl.SSL_CTX_free(ctx);
 * ```
 */
export function newTls13Context(
  role: "server" | "client",
): { ssl: Libssl; ctx: NonNullable<Deno.PointerValue> } {
  const ssl = openLibssl();
  clearSslErrors();
  const ctx = ssl.SSL_CTX_new(
    role === "server" ? ssl.TLS_server_method() : ssl.TLS_client_method(),
  );
  if (ctx === null) throw new OpenSslError(`SSL_CTX_new failed: ${sslErrors()}`);
  if (
    ssl.SSL_CTX_ctrl(
        ctx,
        SslConst.SSL_CTRL_SET_MIN_PROTO_VERSION,
        BigInt(SslConst.TLS1_3_VERSION),
        null,
      ) !==
      1n ||
    ssl.SSL_CTX_ctrl(
        ctx,
        SslConst.SSL_CTRL_SET_MAX_PROTO_VERSION,
        BigInt(SslConst.TLS1_3_VERSION),
        null,
      ) !==
      1n
  ) {
    const detail = sslErrors();
    ssl.SSL_CTX_free(ctx);
    throw new OpenSslError(`OpenSSL refused to limit TLS to version 1.3 (${detail})`);
  }
  return { ssl, ctx };
}

/**
 * A NUL-terminated copy of `text` for C.
 *
 * @example
 * ```ts
 * cString("ntske/1").length; // 8
 * ```
 */
export function cString(text: string): Uint8Array {
  return new TextEncoder().encode(text + "\0");
}
