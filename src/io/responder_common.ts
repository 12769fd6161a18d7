// What both responder back ends share: the I/O counters, the first snapshot, the soft clock correction.
import type { SystemSnapshot } from "../core/server/types.ts";
import { refidInit } from "../core/discipline/system_state.ts";
import type { ClockCorrection, PublishedSnapshot } from "./snapshot_buffer.ts";
import { type LeapSmear, smearOffsetSeconds } from "../core/leap/leap_smear.ts";
import { oldestEntry, type RateTable, rateTableSize } from "../core/server/rate_limit.ts";

/** Counters the I/O layer keeps itself (the core keeps its own); the index is the position. */
export const ioCounterNames = [
  "ioReceived",
  "ioSent",
  "ioSendErrors",
  "ioReceiveErrors",
  "ioTruncated",
  "ioNoKernelTimestamp",
  "ioControlForwarded",
  "ioHandlerErrors",
] as const;

/** Index of each I/O counter in a counters array laid out as {@link ioCounterNames}. */
export const IoCounter = {
  received: 0,
  sent: 1,
  sendErrors: 2,
  receiveErrors: 3,
  truncated: 4,
  noKernelTimestamp: 5,
  controlForwarded: 6,
  /** The core threw on a datagram (a bug): the datagram was dropped, the responder went on. */
  handlerErrors: 7,
} as const;

/** The unsynchronised snapshot (LI 3, stratum 16, refid INIT) served until the daemon publishes. */
export function unsynchronisedSnapshot(precisionLog2: number): SystemSnapshot {
  return {
    leap: 3,
    stratum: 16,
    precisionLog2,
    referenceId: refidInit,
    referenceTime: { seconds: 0, fraction: 0 },
    rootDelaySeconds: 0,
    rootDispersionSeconds: 0,
  };
}

/**
 * Fills in the correction epoch with `nowUnixSeconds()` (the uncorrected kernel clock) when a
 * correction is given without one; otherwise returns the snapshot unchanged.
 */
export function withCorrectionEpoch(
  snapshot: PublishedSnapshot,
  nowUnixSeconds: () => number,
): PublishedSnapshot {
  if (snapshot.clockEpochUnixSeconds !== undefined) return snapshot;
  if ((snapshot.clockOffsetSeconds ?? 0) === 0 && (snapshot.clockFreqPpm ?? 0) === 0) {
    return snapshot;
  }
  return { ...snapshot, clockEpochUnixSeconds: nowUnixSeconds() };
}

/** The correction a published snapshot carries (zeros when absent). */
export function correctionOf(snapshot: PublishedSnapshot): ClockCorrection {
  return {
    offsetSeconds: snapshot.clockOffsetSeconds ?? 0,
    freqPpm: snapshot.clockFreqPpm ?? 0,
    epochUnixSeconds: snapshot.clockEpochUnixSeconds ?? 0,
  };
}

/**
 * Nanoseconds to write for a kernel reading (unixSeconds, nanoseconds) after the soft clock
 * correction: + offsetSeconds + freqPpm·1e-6·(reading − epoch). The result may fall outside
 * 0..1e9; ntpFromUnix / writeUnixAsNtp carry it into the seconds. Kept in two parts because a
 * double holding Unix seconds resolves only ~240 ns.
 *
 * @example
 * ```ts
 * correctedNanoseconds(100, 5, { offsetSeconds: 1e-6, freqPpm: 0, epochUnixSeconds: 0 }); // 1005
 * ```
 */
export function correctedNanoseconds(
  unixSeconds: number,
  nanoseconds: number,
  correction: ClockCorrection,
): number {
  if (correction.offsetSeconds === 0 && correction.freqPpm === 0) return nanoseconds;
  const elapsedSeconds = unixSeconds - correction.epochUnixSeconds + nanoseconds * 1e-9;
  return nanoseconds + correction.offsetSeconds * 1e9 + correction.freqPpm * 1e3 * elapsedSeconds;
}

/**
 * Nanoseconds to write on a smearing listener: `nanoseconds` (already corrected, see
 * {@link correctedNanoseconds}) plus the smear at that time (core/leap/leap_smear.ts).
 *
 * @example
 * ```ts
 * const leap = Date.UTC(2027, 6, 1) / 1000;
 * const smear = { startUnixSeconds: leap - 100, leapUnixSeconds: leap, stepSeconds: -1, executing: false } as const;
 * smearedNanoseconds(leap - 50, 0, smear); // -500000000
 * smearedNanoseconds(leap - 50, 0, null); // 0
 * ```
 */
export function smearedNanoseconds(
  unixSeconds: number,
  nanoseconds: number,
  smear: LeapSmear | null,
): number {
  if (smear === null) return nanoseconds;
  return nanoseconds + smearOffsetSeconds(unixSeconds + nanoseconds * 1e-9, smear) * 1e9;
}

/**
 * A smearing listener never announces the leap it smears (its clients would insert it again):
 * LI 1 or 2 in the reply `bytes` becomes 0; LI 3 (unsynchronised) stays.
 *
 * @example
 * ```ts
 * const reply = new Uint8Array(48);
 * reply[0] = 0x64; // LI 1, version 4, mode 4
 * withoutLeapAnnouncement(reply);
 * reply[0]; // 0x24
 * ```
 */
export function withoutLeapAnnouncement(bytes: Uint8Array): void {
  const first = bytes[0]!;
  const leap = first >> 6;
  if (leap === 1 || leap === 2) bytes[0] = first & 0x3f;
}

/**
 * The client tables' counters for the daemon's record (ntpq -c monstats), summed over `tables`
 * (one per responder thread): entries in use, capacity, bytes, how clients found their entries
 * (existing, new, recycled from the least recently seen), and the age of the least recently seen
 * entry at `monotonicSeconds` (the oldest of all tables).
 *
 * @example
 * ```ts
 * import { createRateTable, defaultRateLimitPolicy } from "../core/server/rate_limit.ts";
 * clientTableCounters([createRateTable(defaultRateLimitPolicy)], 0).clientTableCapacity; // 65536
 * ```
 */
export function clientTableCounters(
  tables: readonly RateTable[],
  monotonicSeconds: number,
): Record<string, number> {
  let entries = 0, capacity = 0, bytes = 0, existing = 0, fresh = 0, recycled = 0, oldest = 0;
  for (const table of tables) {
    entries += rateTableSize(table);
    capacity += table.policy.tableEntries;
    bytes += table.memory.byteLength;
    existing += table.allocations[0]!;
    fresh += table.allocations[1]!;
    recycled += table.allocations[2]!;
    const tail = oldestEntry(table);
    if (tail >= 0) {
      oldest = Math.max(oldest, monotonicSeconds - (table.lastSeenSeconds[tail] as number));
    }
  }
  return {
    clientTableEntries: entries,
    clientTableCapacity: capacity,
    clientTableBytes: bytes,
    clientsExisting: existing,
    clientsNew: fresh,
    clientsRecycled: recycled,
    clientTableOldestAgeSeconds: oldest,
  };
}
