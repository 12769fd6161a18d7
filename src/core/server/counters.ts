// Responder statistics: one float64 slot per counter, written by a single worker, summed by the daemon.
import type { DropReason } from "./types.ts";

/** Index of each counter in the array {@link createCounters} returns. */
export const Counter = {
  /** Every datagram handed to handleRequest. */
  received: 0,
  /** Normal mode 4 replies written. */
  served: 1,
  /** Kiss-o'-Death (RATE) replies written. */
  kodSent: 2,
  /** Mode 6 requests passed on to the daemon. */
  control: 3,
  dropTooShort: 4,
  dropBadLength: 5,
  dropBadVersion: 6,
  dropBadMode: 7,
  dropMode7: 8,
  dropRestricted: 9,
  dropRateLimited: 10,
  dropMalformedExtension: 11,
  dropControlDenied: 12,
  dropBadPort: 13,
  /**
   * Time requests (mode 3) of the current version, 4, that passed the access rules (ntpd's
   * sys_newversion, ntpq's "current version"). Not an outcome: each such request also ends in
   * served, kodSent or dropRateLimited.
   */
  currentVersion: 14,
  /** As {@link Counter.currentVersion} for versions 1..3 (ntpd's sys_oldversion, "older version"). */
  olderVersion: 15,
  /** Of {@link Counter.olderVersion}, the NTPv1 requests (ntpsec's "NTPv1 clients", ss_ver1client). */
  version1: 16,
  /** NTS requests answered (also counted in served). */
  ntsServed: 17,
  /** NTS NAKs sent: a cookie this server cannot open (unknown or expired key, tampered). */
  ntsNakSent: 18,
  /** NTS requests dropped: fields incomplete or malformed. */
  dropNtsMalformed: 19,
  /** NTS requests dropped: the authenticator did not verify. */
  dropNtsBadAuthenticator: 20,
  /** Cookies handed out in NTS replies. */
  ntsCookiesIssued: 21,
} as const;

/** Name of one counter (a key of {@link Counter}). */
export type CounterName = keyof typeof Counter;

/** Number of counters. */
export const COUNTER_COUNT = 22;

/** Bytes a counters array occupies (allocate a SharedArrayBuffer of at least this size). */
export const COUNTERS_BYTE_LENGTH = COUNTER_COUNT * Float64Array.BYTES_PER_ELEMENT;

/** Counter names in index order: counterNames[Counter.served] === "served". */
export const counterNames: readonly CounterName[] = Object.freeze(
  (Object.keys(Counter) as CounterName[]).sort((a, b) => Counter[a] - Counter[b]),
);

/** The counter index for each drop reason. */
export const dropCounter: Readonly<Record<DropReason, number>> = Object.freeze({
  tooShort: Counter.dropTooShort,
  badLength: Counter.dropBadLength,
  badVersion: Counter.dropBadVersion,
  badMode: Counter.dropBadMode,
  mode7: Counter.dropMode7,
  restricted: Counter.dropRestricted,
  rateLimited: Counter.dropRateLimited,
  malformedExtension: Counter.dropMalformedExtension,
  controlDenied: Counter.dropControlDenied,
  ntsMalformed: Counter.dropNtsMalformed,
  ntsBadAuthenticator: Counter.dropNtsBadAuthenticator,
  badPort: Counter.dropBadPort,
});

/**
 * A zeroed counters array, optionally a view on `buffer` (from byte 0) so a worker can write
 * counters that the daemon reads. One writer per array; the daemon sums the workers' arrays
 * with {@link sumCounters}. Float64 stays exact up to 2^53 counts.
 *
 * @throws {RangeError} If `buffer` is shorter than {@link COUNTERS_BYTE_LENGTH}.
 * @example
 * ```ts
 * const counters = createCounters(new SharedArrayBuffer(COUNTERS_BYTE_LENGTH));
 * counters[Counter.received]!++;
 * ```
 */
export function createCounters(buffer?: SharedArrayBuffer): Float64Array {
  if (buffer === undefined) return new Float64Array(COUNTER_COUNT);
  if (buffer.byteLength < COUNTERS_BYTE_LENGTH) {
    throw new RangeError(
      `Cannot create counters: buffer has ${buffer.byteLength} bytes, need ${COUNTERS_BYTE_LENGTH}`,
    );
  }
  return new Float64Array(buffer, 0, COUNTER_COUNT);
}

/**
 * Element-wise sum of several counters arrays (one per worker).
 *
 * @example
 * ```ts
 * declare const workerA: Float64Array;
 * declare const workerB: Float64Array;
 * const total = sumCounters([workerA, workerB]);
 * ```
 */
export function sumCounters(arrays: readonly Float64Array[]): Float64Array {
  const total = new Float64Array(COUNTER_COUNT);
  for (const array of arrays) {
    for (let i = 0; i < COUNTER_COUNT; i++) total[i] = (total[i] as number) + (array[i] ?? 0);
  }
  return total;
}

/**
 * The counters as a name -> count record (for status output and logs).
 *
 * @example
 * ```ts
 * const counters = createCounters();
 * countersToRecord(counters).served; // 0
 * ```
 */
export function countersToRecord(counters: Float64Array): Record<CounterName, number> {
  const record = {} as Record<CounterName, number>;
  for (const name of counterNames) record[name] = counters[Counter[name]] ?? 0;
  return record;
}
