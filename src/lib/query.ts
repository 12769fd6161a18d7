// The library's one-shot query: one checked NTP exchange with a server, as a typed result or a typed error (no answer, Kiss-o'-Death, unsynchronised, invalid).
import { parseHostPort } from "../config/addresses.ts";
import {
  answersRequest,
  buildExchangeRequest,
  judgeExchange,
  rootDistanceSeconds,
} from "../core/client/exchange.ts";
import { formatRefid } from "../core/packet/refid.ts";
import { secondsFromShort } from "../core/time/short_format.ts";
import type { ReplyRejection } from "../core/client/reply_check.ts";
import { openQueryClient, QueryResolveError } from "../io/query_client.ts";
// Imported, not loaded on demand: a dynamic import of a local module needs --allow-read.
import { openDgramSocket } from "../io/udp_client_portable.ts";
import { type LocalClock, localClockReader } from "./local_clock.ts";

/** Options of {@link query}. */
export interface QueryOptions {
  /** UDP port when `server` names none; default 123. */
  readonly port?: number;
  /** How long to wait for the answer, milliseconds; default 2000. */
  readonly timeoutMs?: number;
  /** Aborts the exchange; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * The local clock the offset is measured against, epoch milliseconds; default the system
   * clock (`Date.now()`, or clock_gettime when the program may use FFI). Tests pass a wrong one.
   */
  readonly localClock?: LocalClock;
}

/** A server's answer, checked: the request's origin echoed, synchronised, a sane header. */
export interface QueryResult {
  /** The server as given. */
  readonly server: string;
  /** The address asked (what the name resolved to) and port. */
  readonly address: string;
  /** The UDP port asked. */
  readonly port: number;
  /** Server minus local clock, seconds: positive when the local clock is behind. */
  readonly offsetSeconds: number;
  /** Round trip minus the server's processing time, seconds. */
  readonly delaySeconds: number;
  /** The server's distance from a reference clock: 1 for a primary server, 2 for its clients... */
  readonly stratum: number;
  /** The reference id as ntpq shows it: an address, or a code such as "GPS". */
  readonly referenceId: string;
  /** Leap indicator: 0 none, 1 a second inserted at the end of the day, 2 one deleted. */
  readonly leap: 0 | 1 | 2;
  /** The NTP version of the answer. */
  readonly version: number;
  /** The server's clock precision, log2 seconds. */
  readonly precisionLog2: number;
  /** Round trip from the server to its reference clock, seconds. */
  readonly rootDelaySeconds: number;
  /** The error the server admits to its reference clock, seconds. */
  readonly rootDispersionSeconds: number;
  /** How far the answer's time may be from the reference clock, seconds. */
  readonly rootDistanceSeconds: number;
}

/** Why a query failed; `kind` tells which. */
export class NtpQueryError extends Error {
  /** The error's name, as for every Error. */
  override name = "NtpQueryError";
  /** "resolve", "noAnswer", "kissOfDeath", "unsynchronised" or "invalid". */
  readonly kind: "resolve" | "noAnswer" | "kissOfDeath" | "unsynchronised" | "invalid";
  /** The server as given. */
  readonly server: string;
  /**
   * A failure of `kind` in asking `server`.
   *
   * @param kind Which failure.
   * @param server The server as given.
   * @param message What happened, for people.
   */
  constructor(
    kind: NtpQueryError["kind"],
    server: string,
    message: string,
  ) {
    super(message);
    this.kind = kind;
    this.server = server;
  }
}

/** The server sent a Kiss-o'-Death: stop asking it (RATE: slow down; DENY, RSTR: go away). */
export class KissOfDeathError extends NtpQueryError {
  /** The error's name. */
  override name = "KissOfDeathError";
  /** The kiss code: "RATE", "DENY", "RSTR", ... */
  readonly code: string;
  /**
   * `server` answered with the Kiss-o'-Death `code`.
   *
   * @param server The server as given.
   * @param code The kiss code.
   */
  constructor(server: string, code: string) {
    super("kissOfDeath", server, `${server} sent a Kiss-o'-Death (${code})`);
    this.code = code;
  }
}

/** The server is not synchronised (leap 3 or stratum 16): its time is not to be used. */
export class UnsynchronisedServerError extends NtpQueryError {
  /** The error's name. */
  override name = "UnsynchronisedServerError";
  /** The answer's leap indicator (3: unsynchronised). */
  readonly leap: number;
  /** The answer's stratum (16 or 0: unsynchronised). */
  readonly stratum: number;
  /**
   * `server` answered, unsynchronised.
   *
   * @param server The server as given.
   * @param leap The answer's leap indicator.
   * @param stratum The answer's stratum.
   */
  constructor(server: string, leap: number, stratum: number) {
    super(
      "unsynchronised",
      server,
      `${server} is not synchronised (leap ${leap}, stratum ${stratum})`,
    );
    this.leap = leap;
    this.stratum = stratum;
  }
}

const rejectionText: Readonly<Record<ReplyRejection, string>> = {
  badMode: "not a server reply (mode)",
  badVersion: "an unknown NTP version",
  bogusOrigin: "its origin timestamp does not echo the request (stray or spoofed)",
  duplicate: "its origin timestamp does not echo the request (stray or spoofed)",
  zeroTimestamp: "its receive or transmit timestamp is zero",
  badHeader: "an implausible header (root distance over 16 s, or times out of order)",
  malformed: "not an NTP packet",
  unsynchronised: "not synchronised",
};

function target(server: string, defaultPort: number): { host: string; port: number } {
  const parsed = parseHostPort(server, { allowPortZero: false });
  if (!parsed.ok) throw new TypeError(`query: ${JSON.stringify(server)}: ${parsed.message}`);
  return { host: parsed.value.host, port: parsed.value.port ?? defaultPort };
}

/**
 * Asks `server` ("host", "host:port", "192.0.2.1", "[2001:db8::1]:123") for the time once and
 * checks the answer as ntpd's client does. Needs only `--allow-net`: it uses Deno's portable UDP
 * (node:dgram) and stamps with `Date.now()` in JavaScript: offsets are good to about a
 * millisecond on an idle event loop, less when the program keeps it busy.
 *
 * @throws {NtpQueryError} kind "resolve" (the name does not resolve), "noAnswer" (nothing within
 * the timeout), "invalid" (an answer that fails the checks); {@link KissOfDeathError};
 * {@link UnsynchronisedServerError}. A TypeError for a malformed `server`.
 * @example
 * ```ts
 * import { query } from "./query.ts";
 * const answer = await query("pool.ntp.org", { timeoutMs: 1000 });
 * console.log(`this clock is ${answer.offsetSeconds.toFixed(3)} s behind`);
 * ```
 */
export async function query(server: string, options: QueryOptions = {}): Promise<QueryResult> {
  const where = target(server, options.port ?? 123);
  const signal = options.signal;
  signal?.throwIfAborted();
  const readClock = localClockReader(options.localClock);
  let client;
  try {
    client = await openQueryClient(where, { open: openDgramSocket, readClock });
    if (signal?.aborted) {
      await client.close();
      throw signal.reason;
    }
  } catch (error) {
    if (error instanceof QueryResolveError) {
      throw new NtpQueryError("resolve", server, error.message);
    }
    throw error;
  }
  let cleanup = () => {};
  const aborted = new Promise<never>((_, reject) => {
    if (signal === undefined) return;
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    // Leaves nothing registered once the exchange is over.
    cleanup = () => signal.removeEventListener("abort", onAbort);
  });
  aborted.catch(() => {});
  try {
    const request = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
    const exchange = await Promise.race([
      client.exchange(request, {
        timeoutMs: options.timeoutMs ?? 2000,
        // Anything else from the server's address (a late reply to an earlier query) is not
        // this answer: waiting goes on.
        accept: (reply) => answersRequest(reply, request),
      }),
      aborted,
    ]);
    const verdict = judgeExchange({ request, ...exchange }, { localPrecisionLog2: -20 });
    switch (verdict.kind) {
      case "noAnswer":
        throw new NtpQueryError(
          "noAnswer",
          server,
          `no answer from ${server} within ${options.timeoutMs ?? 2000} ms`,
        );
      case "kissOfDeath":
        // INIT and STEP (RFC 5905 7.4) say the server is not synchronised (yet, or again), not
        // that the client should go away.
        if (verdict.code === "INIT" || verdict.code === "STEP") {
          throw new UnsynchronisedServerError(
            server,
            verdict.packet.leap,
            verdict.packet.stratum,
          );
        }
        throw new KissOfDeathError(server, verdict.code);
      case "unsynchronised":
        throw new UnsynchronisedServerError(
          server,
          verdict.packet.leap,
          verdict.packet.stratum,
        );
      case "invalid":
        throw new NtpQueryError(
          "invalid",
          server,
          `invalid answer from ${server}: ${rejectionText[verdict.reason]}`,
        );
      case "ok": {
        const p = verdict.packet;
        return {
          server,
          address: client.address,
          port: client.port,
          offsetSeconds: verdict.offsetSeconds,
          delaySeconds: verdict.delaySeconds,
          stratum: p.stratum,
          referenceId: formatRefid(p.referenceId, p.stratum),
          leap: p.leap as 0 | 1 | 2,
          version: p.version,
          precisionLog2: p.precisionLog2,
          rootDelaySeconds: secondsFromShort(p.rootDelayShort),
          rootDispersionSeconds: secondsFromShort(p.rootDispersionShort),
          rootDistanceSeconds: rootDistanceSeconds(p, verdict.delaySeconds),
        };
      }
    }
  } finally {
    cleanup();
    await client.close();
  }
}
