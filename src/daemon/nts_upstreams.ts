// The NTS side of the upstream associations: runs NTS-KE for each one (TLS through OpenSSL in the I/O layer), holds each association's session, protects its requests and passes on only its authenticated replies. The rules are the core's (src/core/nts/nts_client_session.ts).
import type { SivAead } from "../core/nts/aead.ts";
import {
  acceptNtsReply,
  initialNtsClientState,
  keyExchangeDue,
  keyExchangeFailed,
  keyExchangeStarted,
  keyExchangeSucceeded,
  NTS_NONCE_BYTES,
  NTS_UNIQUE_ID_BYTES,
  type NtsClientCounters,
  type NtsClientPhase,
  ntsClientPhase,
  type NtsClientState,
  prepareNtsRequest,
} from "../core/nts/nts_client_session.ts";
import type { NtsSessionKeys } from "../core/nts/cookie.ts";
import { createAesSiv } from "../io/aes_siv.ts";
import { warnIfAesSivOnOpenSsl } from "./aes_siv_warning.ts";
import { log } from "./logging.ts";
import { runNtsKeyExchange } from "../io/nts_ke_client.ts";
import type { DaemonTime, TimerHandle } from "./daemon_time.ts";

const logger = log("nts");

/** How long one key exchange may take (connect, TLS, records), milliseconds. */
export const NTS_KE_TIMEOUT_MS = 5000;

/** Where and how one association runs its key exchange. */
export interface NtsKeTarget {
  /** The name the certificate must carry (as configured: a DNS name or an IP literal). */
  readonly host: string;
  /** The address to connect to (the resolved one, so NTS-KE and NTP go to the same server). */
  readonly connectAddress: string;
  readonly port: number;
  /** Trusted CAs (PEM), or null for the system's store. */
  readonly caFile: string | null;
  /** False only with `noval` (tests): any certificate is accepted. */
  readonly verifyCertificate: boolean;
}

/** What a successful key exchange gave: keys, cookies and where NTP goes. */
export interface NtsKeResultLike {
  readonly keys: NtsSessionKeys;
  readonly cookies: readonly Uint8Array[];
  readonly ntpServer: string;
  readonly ntpPort: number | undefined;
}

/** Runs one key exchange (default: src/io/nts_ke_client.ts); rejects with a readable message. */
export type RunKeyExchange = (
  target: NtsKeTarget & { readonly timeoutMs: number; readonly signal: AbortSignal },
) => Promise<NtsKeResultLike>;

/** What `ntp status`, mode 6 and the metrics show of one NTS association. */
export interface NtsUpstreamView {
  readonly phase: NtsClientPhase;
  readonly cookies: number;
  /** "host:port" of the NTS-KE server. */
  readonly keServer: string;
  /** Why it cannot send, or was last refused, or null. */
  readonly problem: string | null;
  readonly counters: NtsClientCounters;
}

interface Entry {
  readonly target: NtsKeTarget;
  readonly pollLog2: () => number;
  state: NtsClientState;
  retry: TimerHandle | undefined;
}

/** Options of {@link NtsUpstreams}. */
export interface NtsUpstreamsOptions {
  readonly time: DaemonTime;
  /**
   * A key exchange succeeded: settle where NTP goes (`ntpServer`:`ntpPort`); a throw (the name
   * does not resolve, the address is another association's) fails the key exchange. The keys
   * and cookies are taken only after it.
   */
  readonly onReady: (associationId: number, result: NtsKeResultLike) => void | Promise<void>;
  /** The keys and cookies are in place: polls waiting for them may be sent. */
  readonly afterReady: (associationId: number) => void;
  /** A key exchange failed (logged by the caller; the retry is scheduled here). */
  readonly onFailure: (associationId: number, reason: string, retryInSeconds: number) => void;
  /** Default: runNtsKeyExchange from src/io/nts_ke_client.ts. */
  readonly runKeyExchange?: RunKeyExchange;
  /** Default: AES-SIV-CMAC-256 through OpenSSL. */
  readonly aead?: SivAead;
  /** Fills a buffer with random bytes (default crypto.getRandomValues). */
  readonly randomBytes?: (out: Uint8Array) => void;
}

/**
 * The NTS sessions of the NTS associations, by association id.
 *
 * @example
 * ```ts
 * import { systemTime } from "./daemon_time.ts";
 * const nts = new NtsUpstreams({ time: systemTime, onReady: () => {}, afterReady: () => {},
 *   onFailure: () => {} });
 * nts.add(1, { host: "time.example", connectAddress: "192.0.2.1", port: 4460, caFile: null,
 *   verifyCertificate: true }, () => 6);
 * nts.protect(1, new Uint8Array(48)); // null: no cookies before the key exchange ends
 * ```
 */
export class NtsUpstreams {
  readonly #options: NtsUpstreamsOptions;
  readonly #entries = new Map<number, Entry>();
  readonly #aead: SivAead;
  readonly #run: RunKeyExchange;
  readonly #random: (out: Uint8Array) => void;
  #closed = false;
  /** Aborts the key exchanges still running at close(). */
  readonly #abort = new AbortController();

  constructor(options: NtsUpstreamsOptions) {
    this.#options = options;
    this.#aead = options.aead ?? createAesSiv();
    if (options.aead === undefined) warnIfAesSivOnOpenSsl((message) => logger.warn(message));
    this.#run = options.runKeyExchange ?? ((target) =>
      runNtsKeyExchange({
        host: target.host,
        connectTo: target.connectAddress,
        port: target.port,
        caFile: target.caFile,
        verifyCertificate: target.verifyCertificate,
        timeoutMs: target.timeoutMs,
        signal: target.signal,
      }));
    this.#random = options.randomBytes ?? ((out) => crypto.getRandomValues(out));
  }

  /** Adds association `id` and starts its key exchange. */
  add(id: number, target: NtsKeTarget, pollLog2: () => number): void {
    if (this.#closed) return;
    this.#entries.set(id, { target, pollLog2, state: initialNtsClientState, retry: undefined });
    this.#startIfDue(id);
  }

  /** Forgets association `id` (a key exchange still running is ignored when it ends). */
  remove(id: number): void {
    const entry = this.#entries.get(id);
    if (entry?.retry !== undefined) this.#options.time.clearTimer(entry.retry);
    this.#entries.delete(id);
  }

  /** Whether association `id` uses NTS. */
  has(id: number): boolean {
    return this.#entries.has(id);
  }

  /**
   * The NTS request for `header` (transmit timestamp already written), or null when there is no
   * cookie (a key exchange is started if due; the caller keeps the poll for {@link onReady}).
   */
  protect(id: number, header: Uint8Array): Uint8Array | null {
    const entry = this.#entries.get(id);
    if (entry === undefined) return null;
    const uniqueId = new Uint8Array(NTS_UNIQUE_ID_BYTES);
    const nonce = new Uint8Array(NTS_NONCE_BYTES);
    this.#random(uniqueId);
    this.#random(nonce);
    const prepared = prepareNtsRequest(entry.state, header, { uniqueId, nonce }, this.#aead);
    entry.state = prepared.state;
    this.#startIfDue(id); // out of cookies, or a NAK not followed by a valid reply
    return prepared.bytes;
  }

  /**
   * The authenticated header of `reply` from association `id`'s server, or null when it is
   * dropped (counted) or an NTS NAK (a new key exchange starts).
   */
  check(id: number, reply: Uint8Array): Uint8Array | null {
    const entry = this.#entries.get(id);
    if (entry === undefined) return null;
    const { state, verdict } = acceptNtsReply(entry.state, reply, this.#aead, {
      monotonicSeconds: this.#options.time.monotonicSeconds(),
      pollLog2: entry.pollLog2(),
    });
    entry.state = state;
    // After a NAK the next poll starts the key exchange (protect), unless a valid reply comes.
    return verdict.kind === "authenticated" ? verdict.header : null;
  }

  /** What status views show of association `id`, or null when it does not use NTS. */
  view(id: number): NtsUpstreamView | null {
    const entry = this.#entries.get(id);
    if (entry === undefined) return null;
    const { host, port } = entry.target;
    return {
      phase: ntsClientPhase(entry.state),
      cookies: entry.state.cookies.length,
      keServer: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
      problem: entry.state.problem,
      counters: entry.state.counters,
    };
  }

  /** Stops retries; key exchanges still running are ignored when they end. */
  close(): void {
    this.#closed = true;
    this.#abort.abort();
    for (const entry of this.#entries.values()) {
      if (entry.retry !== undefined) this.#options.time.clearTimer(entry.retry);
      entry.retry = undefined;
    }
  }

  #now() {
    return { monotonicSeconds: this.#options.time.monotonicSeconds() };
  }

  #startIfDue(id: number): void {
    const entry = this.#entries.get(id);
    if (entry === undefined || this.#closed) return;
    if (!keyExchangeDue(entry.state, this.#now())) return;
    if (entry.retry !== undefined) this.#options.time.clearTimer(entry.retry);
    entry.retry = undefined;
    entry.state = keyExchangeStarted(entry.state);
    const failed = (reason: string) => {
      if (this.#closed || this.#entries.get(id) !== entry) return;
      const now = this.#options.time.monotonicSeconds();
      entry.state = keyExchangeFailed(entry.state, reason, {
        monotonicSeconds: now,
        pollLog2: entry.pollLog2(),
      });
      const waitSeconds = entry.state.nextKeyExchangeMonotonicSeconds - now;
      this.#options.onFailure(id, reason, waitSeconds);
      entry.retry = this.#options.time.setTimer(() => {
        entry.retry = undefined;
        this.#startIfDue(id);
      }, Math.ceil(waitSeconds * 1000));
    };
    this.#run({ ...entry.target, timeoutMs: NTS_KE_TIMEOUT_MS, signal: this.#abort.signal })
      .then(
        async (result) => {
          if (this.#closed || this.#entries.get(id) !== entry) return;
          try {
            // Where NTP goes must be settled before the cookies may be used.
            await this.#options.onReady(id, result);
          } catch (error) {
            failed(error instanceof Error ? error.message : String(error));
            return;
          }
          if (this.#closed || this.#entries.get(id) !== entry) return;
          entry.state = keyExchangeSucceeded(entry.state, result);
          this.#options.afterReady(id);
        },
        (error: unknown) => failed(error instanceof Error ? error.message : String(error)),
      )
      .catch((error: unknown) => {
        // A bug in a callback: reported, never an unhandled rejection that ends the daemon.
        this.#options.onFailure(id, `internal error: ${error}`, 0);
      });
  }
}
