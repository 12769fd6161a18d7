// The NTS session of a one-shot client (`ntp query --nts`, `ntp doctor`): NTS-KE, then requests protected and replies checked by the core's NTS client session. The NTS modules and OpenSSL load only when called.
import { loadLater } from "../io/load_later.ts";

/** An NTS session of a one-shot client: keys and cookies from NTS-KE, one cookie per request. */
export interface NtsQuery {
  readonly ntpServer: string;
  /** The negotiated NTP port; undefined: the caller's. */
  readonly ntpPort: number | undefined;
  readonly aeadId: number;
  /** The request for `header` with its NTS fields, and the check of its reply (null: no cookie). */
  wrap(header: Uint8Array): {
    readonly bytes: Uint8Array;
    /** null when the reply authenticates (its cookies are kept), "NTS NAK", or why not. */
    check(reply: Uint8Array): string | null;
  } | null;
  cookiesLeft(): number;
}

/**
 * Runs NTS-KE with `target.host` on `nts.port` (certificates from `nts.caFile`, or the system's
 * store) and returns the session, or the reason it failed (connection, TLS, certificate, the
 * server's answer). Other errors (bugs) are thrown.
 *
 * @example
 * ```ts
 * const started = await startNtsQuery({ host: "time.cloudflare.com", timeoutSeconds: 5 },
 *   { caFile: null, port: 4460 });
 * if (!started.ok) console.error(started.message);
 * ```
 */
export async function startNtsQuery(
  target: { readonly host: string; readonly timeoutSeconds: number },
  nts: { readonly caFile: string | null; readonly port: number },
): Promise<{ ok: true; query: NtsQuery } | { ok: false; message: string }> {
  const [keClient, aeadModule, session] = await Promise.all([
    loadLater<typeof import("../io/nts_ke_client.ts")>(
      new URL("../io/nts_ke_client.ts", import.meta.url),
    ),
    loadLater<typeof import("../io/aes_siv.ts")>(
      new URL("../io/aes_siv.ts", import.meta.url),
    ),
    loadLater<typeof import("../core/nts/nts_client_session.ts")>(
      new URL("../core/nts/nts_client_session.ts", import.meta.url),
    ),
  ]);
  let ke;
  try {
    ke = await keClient.runNtsKeyExchange({
      host: target.host,
      port: nts.port,
      caFile: nts.caFile,
      timeoutMs: target.timeoutSeconds * 1000,
    });
  } catch (error) {
    if (
      error instanceof Error && error.name !== "NtsKeError" && error.name !== "TlsSetupError" &&
      error.name !== "OpenSslError"
    ) throw error;
    return { ok: false, message: (error as Error).message };
  }
  const aead = aeadModule.createAesSiv();
  let state = session.keyExchangeSucceeded(
    session.keyExchangeStarted(session.initialNtsClientState),
    { keys: ke.keys, cookies: ke.cookies },
  );
  return {
    ok: true,
    query: {
      ntpServer: ke.ntpServer,
      ntpPort: ke.ntpPort,
      aeadId: ke.keys.aeadId,
      cookiesLeft: () => state.cookies.length,
      wrap(header) {
        const fresh = {
          uniqueId: crypto.getRandomValues(new Uint8Array(session.NTS_UNIQUE_ID_BYTES)),
          nonce: crypto.getRandomValues(new Uint8Array(session.NTS_NONCE_BYTES)),
        };
        const prepared = session.prepareNtsRequest(state, header, fresh, aead);
        if (prepared.bytes === null) return null;
        state = prepared.state;
        return {
          bytes: prepared.bytes,
          check(reply) {
            const accepted = session.acceptNtsReply(state, reply, aead, {
              monotonicSeconds: performance.now() / 1000,
              pollLog2: 0,
            });
            state = accepted.state;
            switch (accepted.verdict.kind) {
              case "authenticated":
                return null;
              case "nak":
                return "NTS NAK";
              case "dropped":
                return accepted.verdict.reason;
            }
          },
        };
      },
    },
  };
}
