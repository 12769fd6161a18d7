// TLS 1.3 server sessions on OpenSSL through FFI, driven over memory BIOs (the sockets stay Deno's).
//
// Deno's TLS offers no RFC 5705 keying-material exporter, which NTS-KE needs; OpenSSL does.
// OpenSSL here never touches a socket: bytes from the peer are written into a memory BIO, the
// state machine runs, and what it wants to send is read from the other memory BIO.
import {
  clearSslErrors,
  cString,
  type Libssl,
  newTls13Context,
  SslConst,
  sslErrors,
} from "./libssl.ts";
import { openLibcrypto, OpenSslError } from "./libcrypto.ts";

/** Why a certificate and key could not be loaded, in words a user can act on. */
export class TlsSetupError extends Error {
  override name = "TlsSetupError";
}

/** The ALPN protocols a server context accepts, in wire form (length-prefixed names). */
function alpnWire(protocols: readonly string[]): Uint8Array {
  const parts = protocols.map((name) => new TextEncoder().encode(name));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 1 + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out[at++] = part.length;
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * One server configuration: certificate chain, private key, TLS 1.3 only, one ALPN protocol
 * (a client offering none of it is refused with the no_application_protocol alert). Dispose
 * of it when replaced; sessions already open keep working (OpenSSL counts references).
 */
export class TlsServerContext implements Disposable {
  readonly #ssl: Libssl;
  #ctx: Deno.PointerValue;
  readonly #callback: Deno.UnsafeCallback<{
    readonly parameters: readonly ["pointer", "pointer", "pointer", "pointer", "u32", "pointer"];
    readonly result: "i32";
  }>;
  /** Kept alive as long as the context: OpenSSL may point into it. */
  readonly #alpn: Uint8Array;

  private constructor(ssl: Libssl, ctx: Deno.PointerValue, alpn: Uint8Array) {
    this.#ssl = ssl;
    this.#ctx = ctx;
    this.#alpn = alpn;
    this.#callback = new Deno.UnsafeCallback(
      {
        parameters: ["pointer", "pointer", "pointer", "pointer", "u32", "pointer"],
        result: "i32",
      } as const,
      (_session, out, outLength, offered, offeredLength) => {
        const result = ssl.SSL_select_next_proto(
          out,
          outLength,
          this.#alpn,
          this.#alpn.length,
          offered,
          offeredLength,
        );
        return result === SslConst.OPENSSL_NPN_NEGOTIATED
          ? SslConst.SSL_TLSEXT_ERR_OK
          : SslConst.SSL_TLSEXT_ERR_ALERT_FATAL;
      },
    );
    ssl.SSL_CTX_set_alpn_select_cb(ctx, this.#callback.pointer, null);
  }

  /**
   * Loads a certificate chain (PEM, leaf first) and its private key (PEM).
   *
   * @throws {TlsSetupError} When a file cannot be read or parsed, or the key does not match the
   *   certificate (the message names the file).
   * @throws {OpenSslError} When libssl is missing.
   * @example
   * ```ts
   * using tls = TlsServerContext.load({
   *   certificateFile: "/etc/ntp/cert.pem", keyFile: "/etc/ntp/key.pem", alpn: "ntske/1",
   * });
   * ```
   */
  static load(
    files: { readonly certificateFile: string; readonly keyFile: string; readonly alpn: string },
  ): TlsServerContext {
    const { ssl, ctx } = newTls13Context("server");
    const fail = (message: string): never => {
      const detail = sslErrors();
      ssl.SSL_CTX_free(ctx);
      throw new TlsSetupError(detail === "" ? message : `${message} (${detail})`);
    };
    ssl.SSL_CTX_set_num_tickets(ctx, 0n);
    if (ssl.SSL_CTX_use_certificate_chain_file(ctx, cString(files.certificateFile)) !== 1) {
      fail(`cannot load the certificate chain from ${files.certificateFile}`);
    }
    if (
      ssl.SSL_CTX_use_PrivateKey_file(ctx, cString(files.keyFile), SslConst.SSL_FILETYPE_PEM) !== 1
    ) {
      fail(
        `cannot load the private key from ${files.keyFile}, or it does not match the certificate`,
      );
    }
    if (ssl.SSL_CTX_check_private_key(ctx) !== 1) {
      fail(
        `the private key in ${files.keyFile} does not match the certificate ${files.certificateFile}`,
      );
    }
    return new TlsServerContext(ssl, ctx, alpnWire([files.alpn]));
  }

  /**
   * The certificate's validity (notBefore, notAfter), or null when OpenSSL cannot tell.
   *
   * @example
   * ```ts
   * declare const tls: TlsServerContext;
   * const validity = tls.validity();
   * if (validity !== null && validity.notAfter.getTime() < Date.now()) console.log("expired");
   * ```
   */
  validity(): { readonly notBefore: Date; readonly notAfter: Date } | null {
    if (this.#ctx === null) return null;
    const certificate = this.#ssl.SSL_CTX_get0_certificate(this.#ctx);
    if (certificate === null) return null;
    const crypto = openLibcrypto();
    const read = (time: Deno.PointerValue): Date | null => {
      if (time === null) return null;
      // struct tm: nine ints (sec, min, hour, mday, mon, year-1900, ...), then more we ignore.
      const tm = new Int32Array(16);
      if (crypto.ASN1_TIME_to_tm(time, new Uint8Array(tm.buffer)) !== 1) return null;
      return new Date(Date.UTC(tm[5]! + 1900, tm[4]!, tm[3]!, tm[2]!, tm[1]!, tm[0]!));
    };
    const notBefore = read(crypto.X509_get0_notBefore(certificate));
    const notAfter = read(crypto.X509_get0_notAfter(certificate));
    return notBefore === null || notAfter === null ? null : { notBefore, notAfter };
  }

  /**
   * A new server-side session (its own memory BIOs).
   *
   * @throws {OpenSslError} When OpenSSL cannot allocate it, or after dispose.
   */
  newSession(): TlsSession {
    if (this.#ctx === null) throw new OpenSslError("TLS context already closed");
    return new TlsSession(this.#ssl, this.#ctx);
  }

  [Symbol.dispose](): void {
    if (this.#ctx === null) return;
    this.#ssl.SSL_CTX_free(this.#ctx);
    this.#ctx = null;
    // The callback stays: sessions still open may call it (one per context, never freed).
  }
}

/** What {@link TlsSession.advance} reports. */
export type TlsProgress =
  /** Waiting for more bytes from the peer (send `outgoing()` first). */
  | { readonly state: "handshaking" }
  /** Handshake done; `data` holds the application bytes decrypted so far (maybe empty). */
  | { readonly state: "open"; readonly data: Uint8Array }
  /** The peer closed (close_notify). */
  | { readonly state: "closed" }
  /** A TLS failure (bad handshake, wrong protocol): `reason` in OpenSSL's words. */
  | { readonly state: "failed"; readonly reason: string };

/** One TLS server session over memory BIOs. Call {@link TlsSession.free} when done. */
export class TlsSession {
  readonly #ssl: Libssl;
  #session: Deno.PointerValue;
  readonly #input: Deno.PointerValue;
  readonly #output: Deno.PointerValue;
  #handshakeDone = false;
  #peerClosed = false;
  readonly #buffer = new Uint8Array(16384);

  /**
   * @internal Use {@link TlsServerContext.newSession} or TlsClientContext's. `prepare` sets the
   * role (accept or connect state) and any per-session options before the first byte.
   */
  constructor(
    ssl: Libssl,
    ctx: Deno.PointerValue,
    prepare: (session: NonNullable<Deno.PointerValue>) => void = (session) =>
      ssl.SSL_set_accept_state(session),
  ) {
    this.#ssl = ssl;
    const session = ssl.SSL_new(ctx);
    const input = ssl.BIO_new(ssl.BIO_s_mem());
    const output = ssl.BIO_new(ssl.BIO_s_mem());
    if (session === null || input === null || output === null) {
      throw new OpenSslError(`cannot create a TLS session: ${sslErrors()}`);
    }
    ssl.SSL_set_bio(session, input, output);
    try {
      prepare(session);
    } catch (error) {
      ssl.SSL_free(session);
      throw error;
    }
    this.#session = session;
    this.#input = input;
    this.#output = output;
  }

  /** Whether the handshake has completed. */
  get handshakeDone(): boolean {
    return this.#handshakeDone;
  }

  /** Hands bytes received from the peer to OpenSSL. */
  receive(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const written = this.#ssl.BIO_write(this.#input, bytes.subarray(at), bytes.length - at);
      if (written <= 0) throw new OpenSslError("memory BIO refused a write");
      at += written;
    }
  }

  /** Runs the handshake and then reads application data, as far as the bytes received allow. */
  advance(): TlsProgress {
    const ssl = this.#ssl;
    const session = this.#requireSession();
    clearSslErrors();
    if (!this.#handshakeDone) {
      const result = ssl.SSL_do_handshake(session);
      if (result !== 1) return this.#progressFrom(result, "handshaking");
      this.#handshakeDone = true;
    }
    if (this.#peerClosed) return { state: "closed" };
    const chunks: Uint8Array[] = [];
    for (;;) {
      const read = ssl.SSL_read(session, this.#buffer, this.#buffer.length);
      if (read > 0) {
        chunks.push(this.#buffer.slice(0, read));
        continue;
      }
      const progress = this.#progressFrom(read, "open");
      if (progress.state === "open") break;
      // Data that came with the close is handed over first; "closed" comes at the next call.
      if (progress.state === "closed" && chunks.length > 0) {
        this.#peerClosed = true;
        break;
      }
      return progress;
    }
    return { state: "open", data: concat(chunks) };
  }

  /** Queues application data for the peer (then send `outgoing()`). */
  write(data: Uint8Array): void {
    const ssl = this.#ssl;
    const session = this.#requireSession();
    let at = 0;
    while (at < data.length) {
      const written = ssl.SSL_write(session, data.subarray(at), data.length - at);
      if (written <= 0) throw new OpenSslError(`TLS write failed: ${sslErrors()}`);
      at += written;
    }
  }

  /** Queues a close_notify alert (then send `outgoing()`). */
  shutdown(): void {
    if (this.#session !== null) this.#ssl.SSL_shutdown(this.#session);
  }

  /** The bytes OpenSSL wants sent to the peer, or null when there are none. */
  outgoing(): Uint8Array | null {
    const ssl = this.#ssl;
    const pending = Number(ssl.BIO_ctrl(this.#output, SslConst.BIO_CTRL_PENDING, 0n, null));
    if (pending <= 0) return null;
    const out = new Uint8Array(pending);
    let at = 0;
    while (at < pending) {
      const read = ssl.BIO_read(this.#output, out.subarray(at), pending - at);
      if (read <= 0) break;
      at += read;
    }
    return out.subarray(0, at);
  }

  /** The ALPN protocol agreed on, or null when the client offered none. */
  alpn(): string | null {
    const pointerSlot = new BigUint64Array(1);
    const length = new Uint32Array(1);
    this.#ssl.SSL_get0_alpn_selected(
      this.#requireSession(),
      new Uint8Array(pointerSlot.buffer),
      new Uint8Array(length.buffer),
    );
    const pointer = Deno.UnsafePointer.create(pointerSlot[0]!);
    if (pointer === null || length[0] === 0) return null;
    const bytes = new Uint8Array(length[0]!);
    new Deno.UnsafePointerView(pointer).copyInto(bytes);
    return new TextDecoder().decode(bytes);
  }

  /**
   * RFC 5705 keying material (after the handshake).
   *
   * @throws {OpenSslError} When OpenSSL refuses (no handshake yet).
   */
  exportKeyingMaterial(
    request: { label: string; context: Uint8Array; length: number },
  ): Uint8Array {
    const out = new Uint8Array(request.length);
    const label = new TextEncoder().encode(request.label);
    const result = this.#ssl.SSL_export_keying_material(
      this.#requireSession(),
      out,
      BigInt(out.length),
      label,
      BigInt(label.length),
      request.context,
      BigInt(request.context.length),
      1,
    );
    if (result !== 1) {
      throw new OpenSslError(`TLS key export failed: ${sslErrors()}`);
    }
    return out;
  }

  /** Why the peer's certificate was not accepted (e.g. "certificate has expired"), or null. */
  verifyError(): string | null {
    if (this.#session === null) return null;
    const code = this.#ssl.SSL_get_verify_result(this.#session);
    if (code === 0n) return null;
    const text = openLibcrypto().X509_verify_cert_error_string(code);
    return text === null ? `verify error ${code}` : Deno.UnsafePointerView.getCString(text);
  }

  /** Frees the session and its BIOs (idempotent). */
  free(): void {
    if (this.#session === null) return;
    this.#ssl.SSL_free(this.#session);
    this.#session = null;
  }

  #requireSession(): NonNullable<Deno.PointerValue> {
    if (this.#session === null) throw new OpenSslError("TLS session already freed");
    return this.#session;
  }

  #progressFrom(result: number, waiting: "handshaking" | "open"): TlsProgress {
    const ssl = this.#ssl;
    const code = ssl.SSL_get_error(this.#requireSession(), result);
    switch (code) {
      case SslConst.SSL_ERROR_WANT_READ:
      case SslConst.SSL_ERROR_WANT_WRITE:
        return waiting === "handshaking"
          ? { state: "handshaking" }
          : { state: "open", data: new Uint8Array(0) };
      case SslConst.SSL_ERROR_ZERO_RETURN:
        return { state: "closed" };
      default: {
        const reason = sslErrors();
        return { state: "failed", reason: reason === "" ? `TLS error ${code}` : reason };
      }
    }
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
