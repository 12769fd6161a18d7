// The NTS-KE server (RFC 8915 §4): TCP through Deno, TLS 1.3 through OpenSSL, the exchange in the core.
import {
  encodeKeAnswer,
  exporterContext,
  type KePlan,
  planKeAnswer,
} from "../core/nts/ke_server_answer.ts";
import { NTS_EXPORTER_LABEL, NTS_KE_ALPN, readKeMessage } from "../core/nts/ke_records.ts";
import { AES_SIV_KEY_BYTES } from "../core/nts/aead.ts";
import type { NtsSessionKeys } from "../core/nts/cookie.ts";
import type { TlsServerContext, TlsSession } from "./tls_server_openssl.ts";

/** Limits that keep floods of connections or oversized requests from exhausting the server. */
export interface NtsKeLimits {
  /** Connections open at once; more are closed at once (counted). Default 512. */
  readonly maxConnections: number;
  /** Handshake + request + response must finish within this, ms. Default 1000. */
  readonly timeoutMs: number;
  /** Longest request message, bytes. Default 4096. */
  readonly maxRequestBytes: number;
  /** Longest record body in a request, bytes. Default 1024. */
  readonly maxRecordBodyBytes: number;
  /** Per source address: sustained connections per second. Default 20. */
  readonly perSourceRate: number;
  /** Per source address: connections allowed in a burst. Default 40. */
  readonly perSourceBurst: number;
}

/** The defaults of {@link NtsKeLimits}. */
export const defaultNtsKeLimits: NtsKeLimits = Object.freeze({
  maxConnections: 512,
  timeoutMs: 1000,
  maxRequestBytes: 4096,
  maxRecordBodyBytes: 1024,
  perSourceRate: 20,
  perSourceBurst: 40,
});

/** NTS-KE counters (since start). */
export interface NtsKeCounters {
  /** TCP connections accepted. */
  connections: number;
  /** Exchanges that ended with cookies handed out. */
  keysIssued: number;
  /** Cookies handed out. */
  cookiesIssued: number;
  /** Answers with an Error record, or no usable protocol/AEAD. */
  errorsSent: number;
  /** TLS failures (bad handshake, no ntske/1 ALPN). */
  tlsFailures: number;
  /** Connections that ran out of time. */
  timeouts: number;
  /** Connections closed unanswered because of the connection limit or the per-source rate. */
  refused: number;
  /** Requests over the size limits or malformed. */
  badRequests: number;
}

/** What the daemon supplies. */
export interface NtsKeServerOptions {
  readonly listen: readonly { readonly hostname: string; readonly port: number }[];
  /** The TLS context to use for a new connection (replaced when the certificate is renewed). */
  readonly tls: () => TlsServerContext;
  /** Seals `count` cookies for these keys under the current cookie key. */
  readonly issueCookies: (session: NtsSessionKeys, count: number) => Uint8Array[];
  /** AEAD ids supported, in order of preference. */
  readonly aeads: readonly number[];
  /** NTP port to announce (Port Negotiation) when not 123; read per exchange. */
  readonly ntpPort?: () => number;
  /** NTP server name to announce (Server Negotiation), when not this host. */
  readonly ntpServer?: string;
  readonly limits?: Partial<NtsKeLimits>;
  /** Told about failures worth a log line (rate-limited by the caller). */
  readonly onProblem?: (problem: { readonly peer: string; readonly reason: string }) => void;
  /** Monotonic seconds (for the per-source rate). */
  readonly monotonicSeconds: () => number;
}

/** A running NTS-KE server. */
export interface NtsKeServer extends AsyncDisposable {
  readonly addresses: readonly { readonly hostname: string; readonly port: number }[];
  readonly counters: Readonly<NtsKeCounters>;
  /** Connections open now. */
  readonly openConnections: number;
  close(): Promise<void>;
}

const COOKIES_PER_EXCHANGE = 8;

/**
 * Listens on the addresses (TCP) and answers NTS-KE requests until closed.
 *
 * @throws {Deno.errors.AddrInUse | Deno.errors.PermissionDenied} When an address cannot be bound
 *   (nothing is left listening then).
 * @example
 * ```ts
 * import type { TlsServerContext } from "./tls_server_openssl.ts";
 * declare const tls: TlsServerContext;
 * await using server = startNtsKeServer({
 *   listen: [{ hostname: "127.0.0.1", port: 4460 }],
 *   tls: () => tls,
 *   issueCookies: () => [],
 *   aeads: [15],
 *   monotonicSeconds: () => performance.now() / 1000,
 * });
 * ```
 */
export function startNtsKeServer(options: NtsKeServerOptions): NtsKeServer {
  const limits: NtsKeLimits = { ...defaultNtsKeLimits, ...options.limits };
  const counters: NtsKeCounters = {
    connections: 0,
    keysIssued: 0,
    cookiesIssued: 0,
    errorsSent: 0,
    tlsFailures: 0,
    timeouts: 0,
    refused: 0,
    badRequests: 0,
  };
  const listeners: Deno.TcpListener[] = [];
  try {
    for (const endpoint of options.listen) {
      listeners.push(Deno.listen({ hostname: endpoint.hostname, port: endpoint.port }));
    }
  } catch (error) {
    for (const listener of listeners) listener.close();
    throw error;
  }
  const open = new Set<Deno.TcpConn>();
  /** The exchanges running, awaited by close() (their timers and TLS sessions end with them). */
  const inFlight = new Set<Promise<void>>();
  const buckets = new Map<string, { tokens: number; atSeconds: number }>();
  let closed = false;

  const admit = (source: string): boolean => {
    const now = options.monotonicSeconds();
    let bucket = buckets.get(source);
    if (bucket === undefined) {
      if (buckets.size >= 65536) buckets.clear(); // bounded memory; a flood from many sources resets it
      bucket = { tokens: limits.perSourceBurst, atSeconds: now };
      buckets.set(source, bucket);
    }
    bucket.tokens = Math.min(
      limits.perSourceBurst,
      bucket.tokens + (now - bucket.atSeconds) * limits.perSourceRate,
    );
    bucket.atSeconds = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  const serveConnection = async (conn: Deno.TcpConn): Promise<void> => {
    const peer = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    let session: TlsSession | null = null;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    }, limits.timeoutMs);
    try {
      session = options.tls().newSession();
      const outcome = await exchange(conn, session);
      if (outcome !== null) options.onProblem?.({ peer, reason: outcome });
    } catch (error) {
      if (timedOut) counters.timeouts++;
      else if (!closed) {
        options.onProblem?.({
          peer,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    } finally {
      clearTimeout(timer);
      session?.free();
      open.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };

  /** Runs one exchange; returns a problem to report, or null. */
  const exchange = async (conn: Deno.TcpConn, session: TlsSession): Promise<string | null> => {
    const buffer = new Uint8Array(4096);
    let request = new Uint8Array(0);
    const flush = async () => {
      for (let out = session.outgoing(); out !== null; out = session.outgoing()) {
        let at = 0;
        while (at < out.length) at += await conn.write(out.subarray(at));
      }
    };
    for (;;) {
      const read = await conn.read(buffer);
      if (read === null) return null; // the client went away
      session.receive(buffer.subarray(0, read));
      const progress = session.advance();
      await flush();
      if (progress.state === "failed") {
        counters.tlsFailures++;
        return `TLS handshake failed: ${progress.reason}`;
      }
      if (progress.state === "closed") return null;
      if (progress.state === "handshaking") continue;
      if (session.alpn() !== NTS_KE_ALPN) {
        counters.tlsFailures++;
        return `client did not negotiate ALPN ${NTS_KE_ALPN}`;
      }
      if (progress.data.length > 0) {
        const joined = new Uint8Array(request.length + progress.data.length);
        joined.set(request);
        joined.set(progress.data, request.length);
        request = joined;
      }
      const message = readKeMessage(request, {
        maxMessageBytes: limits.maxRequestBytes,
        maxRecordBodyBytes: limits.maxRecordBodyBytes,
      });
      if (message.status === "incomplete") continue;
      let plan: KePlan;
      if (message.status === "complete") plan = planKeAnswer(message.records, options.aeads);
      else {
        counters.badRequests++;
        plan = {
          kind: "error",
          code: 1,
          reason: message.status === "tooLong" ? "request over the size limits" : message.reason,
        };
      }
      session.write(answer(session, plan));
      session.shutdown();
      await flush();
      return plan.kind === "error" ? `NTS-KE request refused: ${plan.reason}` : null;
    }
  };

  const answer = (session: TlsSession, plan: KePlan): Uint8Array => {
    if (plan.kind !== "accept") {
      counters.errorsSent++;
      return encodeKeAnswer(plan);
    }
    const key = (direction: "c2s" | "s2c") =>
      session.exportKeyingMaterial({
        label: NTS_EXPORTER_LABEL,
        context: exporterContext(plan.aeadId, direction),
        length: AES_SIV_KEY_BYTES,
      });
    const keys: NtsSessionKeys = { aeadId: plan.aeadId, c2s: key("c2s"), s2c: key("s2c") };
    const cookies = options.issueCookies(keys, COOKIES_PER_EXCHANGE);
    keys.c2s.fill(0);
    keys.s2c.fill(0);
    counters.keysIssued++;
    counters.cookiesIssued += cookies.length;
    return encodeKeAnswer(plan, {
      aeadId: plan.aeadId,
      cookies,
      ...(options.ntpPort === undefined ? {} : { ntpPort: options.ntpPort() }),
      ...(options.ntpServer === undefined ? {} : { ntpServer: options.ntpServer }),
    });
  };

  const acceptLoop = async (listener: Deno.TcpListener): Promise<void> => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closed || error instanceof Deno.errors.BadResource) return;
        options.onProblem?.({
          peer: "-",
          reason: `accept failed: ${error instanceof Error ? error.message : String(error)}`,
        });
        // Out of descriptors (EMFILE) persists until connections close: do not spin.
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      counters.connections++;
      if (open.size >= limits.maxConnections || !admit(conn.remoteAddr.hostname)) {
        counters.refused++;
        try {
          conn.close();
        } catch { /* already closed */ }
        continue;
      }
      open.add(conn);
      const serving = serveConnection(conn);
      inFlight.add(serving);
      void serving.finally(() => inFlight.delete(serving));
    }
  };

  const loops = listeners.map((listener) => acceptLoop(listener));
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const listener of listeners) {
      try {
        listener.close();
      } catch { /* already closed */ }
    }
    for (const conn of open) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.allSettled(loops);
    await Promise.allSettled([...inFlight]);
  };
  return {
    addresses: listeners.map((listener) => ({
      hostname: listener.addr.hostname,
      port: listener.addr.port,
    })),
    counters,
    get openConnections() {
      return open.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
