// TLS 1.3 client sessions on OpenSSL through FFI (certificate and name verified), over memory BIOs like the server's.
import { cString, type Libssl, newTls13Context, SslConst, sslErrors } from "./libssl.ts";
import { openLibcrypto, OpenSslError } from "./libcrypto.ts";
import { TlsSession, TlsSetupError } from "./tls_server_openssl.ts";

/** Whether `host` is an IPv4 or IPv6 literal (checked as an IP address, sent without SNI). */
function isIpLiteral(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(":");
}

/**
 * A client configuration: TLS 1.3 only, the peer's certificate verified against `caFile` (or the
 * system's trust store) and its name or IP address checked. Dispose when done.
 */
export class TlsClientContext implements Disposable {
  readonly #ssl: Libssl;
  #ctx: Deno.PointerValue;

  private constructor(ssl: Libssl, ctx: Deno.PointerValue) {
    this.#ssl = ssl;
    this.#ctx = ctx;
  }

  /**
   * @param options.caFile A PEM file of trusted CAs, or a directory of hashed certificates (as
   *   /etc/ssl/certs); null for the system's store.
   * @param options.verifyCertificate False accepts any certificate (NTPsec's `noval`; tests only).
   * @throws {TlsSetupError} When the CA file cannot be loaded (or no system store exists).
   * @example
   * ```ts
   * using tls = TlsClientContext.create({ caFile: null });
   * ```
   */
  static create(
    options: { readonly caFile: string | null; readonly verifyCertificate?: boolean },
  ): TlsClientContext {
    const { ssl, ctx } = newTls13Context("client");
    const fail = (message: string): never => {
      const detail = sslErrors();
      ssl.SSL_CTX_free(ctx);
      throw new TlsSetupError(detail === "" ? message : `${message} (${detail})`);
    };
    if (options.caFile !== null) {
      // A PEM file, or a directory of hashed certificates as /etc/ssl/certs (c_rehash).
      let directory = false;
      try {
        directory = Deno.statSync(options.caFile).isDirectory;
      } catch { /* OpenSSL names the problem below */ }
      const path = cString(options.caFile);
      const loaded = directory
        ? ssl.SSL_CTX_load_verify_locations(ctx, null, path)
        : ssl.SSL_CTX_load_verify_locations(ctx, path, null);
      if (loaded !== 1) fail(`cannot load trusted certificates from ${options.caFile}`);
    } else if (ssl.SSL_CTX_set_default_verify_paths(ctx) !== 1) {
      fail("cannot load the system's trusted certificates");
    }
    // verifyCertificate false (NTPsec's noval, tests only): the handshake accepts any certificate.
    ssl.SSL_CTX_set_verify(
      ctx,
      options.verifyCertificate === false ? SslConst.SSL_VERIFY_NONE : SslConst.SSL_VERIFY_PEER,
      null,
    );
    return new TlsClientContext(ssl, ctx);
  }

  /**
   * A session to `host` (a name: SNI and name check; an IP literal: IP check) offering `alpn`.
   *
   * @throws {OpenSslError} When OpenSSL refuses the settings.
   */
  newSession(options: { readonly host: string; readonly alpn: string }): TlsSession {
    if (this.#ctx === null) throw new OpenSslError("TLS context already closed");
    const ssl = this.#ssl;
    return new TlsSession(ssl, this.#ctx, (session) => {
      ssl.SSL_set_connect_state(session);
      const alpn = new TextEncoder().encode(options.alpn);
      const wire = new Uint8Array([alpn.length, ...alpn]);
      if (ssl.SSL_set_alpn_protos(session, wire, wire.length) !== 0) {
        throw new OpenSslError(`cannot offer ALPN ${options.alpn}: ${sslErrors()}`);
      }
      const host = options.host;
      if (isIpLiteral(host)) {
        const param = ssl.SSL_get0_param(session);
        if (
          param === null ||
          openLibcrypto().X509_VERIFY_PARAM_set1_ip_asc(param, cString(host)) !== 1
        ) {
          throw new OpenSslError(`cannot check the certificate for IP address ${host}`);
        }
      } else {
        const name = cString(host);
        if (
          ssl.SSL_ctrl(
              session,
              SslConst.SSL_CTRL_SET_TLSEXT_HOSTNAME,
              BigInt(SslConst.TLSEXT_NAMETYPE_host_name),
              name,
            ) !== 1n ||
          ssl.SSL_set1_host(session, name) !== 1
        ) {
          throw new OpenSslError(`cannot set the server name ${host}: ${sslErrors()}`);
        }
      }
    });
  }

  [Symbol.dispose](): void {
    if (this.#ctx === null) return;
    this.#ssl.SSL_CTX_free(this.#ctx);
    this.#ctx = null;
  }
}
