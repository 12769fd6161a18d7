// One NTS-KE exchange as a client: TCP through Deno, TLS 1.3 through OpenSSL, records read in the core.
import { AeadId, AES_SIV_KEY_BYTES } from "../core/nts/aead.ts";
import { encodeKeRequest, type KeAnswer, readKeAnswer } from "../core/nts/ke_client_answer.ts";
import { NTS_EXPORTER_LABEL, NTS_KE_ALPN, readKeMessage } from "../core/nts/ke_records.ts";
import { exporterContext } from "../core/nts/ke_server_answer.ts";
import type { NtsSessionKeys } from "../core/nts/cookie.ts";
import { TlsClientContext } from "./tls_client_openssl.ts";

/** Why a key exchange failed, in words (connection, TLS, or the server's answer). */
export class NtsKeError extends Error {
  override name = "NtsKeError";
}

/** The result of a successful key exchange. */
export interface NtsKeResult {
  readonly keys: NtsSessionKeys;
  readonly cookies: readonly Uint8Array[];
  /** Where to send NTP: the negotiated server (or the KE host). */
  readonly ntpServer: string;
  /** The negotiated NTP port, or undefined when the server sent none (then the caller's, or 123). */
  readonly ntpPort: number | undefined;
}

/**
 * Runs NTS-KE with `host:port` and returns the keys, the cookies and where NTP goes.
 *
 * @throws {NtsKeError} On a connection failure, a TLS failure (certificate not trusted, name
 *   mismatch), a timeout or a refusal by the server.
 * @example
 * ```ts
 * const ke = await runNtsKeyExchange({ host: "time.cloudflare.com", port: 4460, caFile: null, timeoutMs: 5000 });
 * ke.cookies.length; // usually 8
 * ```
 */
export async function runNtsKeyExchange(options: {
  /** The server's name (or IP literal): SNI and the certificate check. */
  readonly host: string;
  /** The address to connect to, when resolved already; default `host`. */
  readonly connectTo?: string;
  readonly port: number;
  readonly caFile: string | null;
  /** False: accept any certificate (NTPsec's `noval`; tests only). Default true. */
  readonly verifyCertificate?: boolean;
  readonly timeoutMs: number;
  /** Ends the exchange early (the daemon stopping); it then fails as cancelled. */
  readonly signal?: AbortSignal;
}): Promise<NtsKeResult> {
  const where = `${
    options.host.includes(":") ? `[${options.host}]` : options.host
  }:${options.port}`;
  using tls = TlsClientContext.create({
    caFile: options.caFile,
    verifyCertificate: options.verifyCertificate ?? true,
  });
  const session = tls.newSession({ host: options.host, alpn: NTS_KE_ALPN });
  let conn: Deno.TcpConn | null = null;
  let timedOut = false;
  const abort = new AbortController();
  const stop = () => {
    abort.abort();
    try {
      conn?.close();
    } catch { /* closed */ }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  try {
    try {
      conn = await Deno.connect({
        hostname: options.connectTo ?? options.host,
        port: options.port,
        signal: abort.signal,
      });
    } catch (error) {
      if (timedOut) throw error;
      throw new NtsKeError(
        `cannot connect to ${where}: ${error instanceof Error ? error.message : error}`,
      );
    }
    const flush = async () => {
      for (let out = session.outgoing(); out !== null; out = session.outgoing()) {
        let at = 0;
        while (at < out.length) at += await conn!.write(out.subarray(at));
      }
    };
    session.advance(); // ClientHello
    await flush();
    const buffer = new Uint8Array(16384);
    let requestSent = false;
    let answer = new Uint8Array(0);
    for (;;) {
      const read = await conn.read(buffer);
      if (read === null) throw new NtsKeError(`${where} closed the connection before answering`);
      session.receive(buffer.subarray(0, read));
      const progress = session.advance();
      await flush();
      if (progress.state === "failed") {
        const verify = session.verifyError();
        throw new NtsKeError(
          `TLS with ${where} failed: ${
            verify === null ? progress.reason : `its certificate: ${verify}`
          }`,
        );
      }
      if (progress.state === "handshaking") continue;
      if (progress.state === "closed") throw new NtsKeError(`${where} closed TLS before answering`);
      if (session.alpn() !== NTS_KE_ALPN) {
        throw new NtsKeError(`${where} did not agree to ALPN ${NTS_KE_ALPN}`);
      }
      if (!requestSent) {
        session.write(encodeKeRequest([AeadId.aesSivCmac256]));
        await flush();
        requestSent = true;
      }
      if (progress.data.length > 0) {
        const joined = new Uint8Array(answer.length + progress.data.length);
        joined.set(answer);
        joined.set(progress.data, answer.length);
        answer = joined;
      }
      const message = readKeMessage(answer, { maxMessageBytes: 65536, maxRecordBodyBytes: 65535 });
      if (message.status === "incomplete") continue;
      if (message.status !== "complete") {
        throw new NtsKeError(`${where} sent a malformed NTS-KE answer`);
      }
      const result: KeAnswer = readKeAnswer(message.records, [AeadId.aesSivCmac256]);
      if (!result.ok) throw new NtsKeError(`NTS-KE with ${where}: ${result.reason}`);
      const key = (direction: "c2s" | "s2c") =>
        session.exportKeyingMaterial({
          label: NTS_EXPORTER_LABEL,
          context: exporterContext(result.aeadId, direction),
          length: AES_SIV_KEY_BYTES,
        });
      return {
        keys: { aeadId: result.aeadId, c2s: key("c2s"), s2c: key("s2c") },
        cookies: result.cookies,
        ntpServer: result.ntpServer ?? options.host,
        ntpPort: result.ntpPort,
      };
    }
  } catch (error) {
    if (timedOut) {
      throw new NtsKeError(`NTS-KE with ${where} timed out after ${options.timeoutMs} ms`);
    }
    if (error instanceof NtsKeError) throw error;
    throw new NtsKeError(`NTS-KE with ${where}: ${error instanceof Error ? error.message : error}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", stop);
    session.free();
    try {
      conn?.close();
    } catch { /* closed */ }
  }
}
