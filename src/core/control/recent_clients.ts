// Reads a responder's client table (rate_limit.ts) as the recently-used list ntpq's mrulist shows.
import { formatIpAddress } from "../address/ip_text.ts";
import { newestEntry, type RateTable } from "../server/rate_limit.ts";
import { namesFromFlags } from "../server/restrict.ts";
import { ntpDiffSeconds, ntpFromUnix } from "../time/ntp_timestamp.ts";
import type { MruEntry } from "./control_view.ts";

/** The clock readings that turn the table's monotonic times into wall-clock timestamps. */
export interface ClockPair {
  /** The monotonic clock the table's times were taken on, read now (seconds). */
  readonly monotonicSeconds: number;
  /** The wall clock read at the same moment (Unix seconds, fractional). */
  readonly unixSeconds: number;
}

/**
 * The table's clients, most recently seen first, at most `limit` of them, as {@link MruEntry}
 * records with wall-clock times (`clock` says how far in the past each monotonic time lies).
 * Entries that were created but have no request recorded yet are skipped. The table may be
 * written by another thread meanwhile: a link out of range ends the walk, and the walk never
 * takes more steps than the table has entries, so a torn read costs at most an odd row.
 *
 * @example
 * ```ts
 * import type { RateTable } from "../server/rate_limit.ts";
 * declare const table: RateTable;
 * const monotonicSeconds = performance.now() / 1000;
 * const unixSeconds = Date.now() / 1000;
 * const clients = recentClients(table, { limit: 1000, clock: { monotonicSeconds, unixSeconds } });
 * ```
 */
export function recentClients(
  table: RateTable,
  options: { readonly limit: number; readonly clock: ClockPair },
): MruEntry[] {
  const capacity = table.policy.tableEntries;
  const steps = Math.min(options.limit, capacity);
  const { monotonicSeconds, unixSeconds } = options.clock;
  const wallClock = (at: number) =>
    ntpFromUnix(unixSeconds - Math.max(0, monotonicSeconds - at), 0);
  const clients: MruEntry[] = [];
  let entry = newestEntry(table);
  // A torn read can link entries into a cycle: never list one twice.
  const seen = new Uint8Array(capacity);
  for (let step = 0; step < steps && entry >= 0 && entry < capacity; step++) {
    if (seen[entry] === 1) break;
    seen[entry] = 1;
    const packets = table.packets[entry] as number;
    if (packets >= 1) {
      const bits = table.restrictBits[entry] as number;
      const versionMode = table.versionModes[entry] as number;
      clients.push({
        address: addressText(table.keys, entry),
        port: table.ports[entry] as number,
        firstSeen: wallClock(table.firstSeenSeconds[entry] as number),
        lastSeen: wallClock(table.lastSeenSeconds[entry] as number),
        packets,
        mode: versionMode & 7,
        version: versionMode >>> 3,
        restrictFlags: namesFromFlags(bits),
        droppedPackets: table.droppedPackets[entry] as number,
      });
    }
    entry = table.older[entry] as number;
  }
  return clients;
}

/**
 * Merges the lists of several tables (several responder threads): most recently seen first, at
 * most `limit`.
 *
 * @example
 * ```ts
 * import type { MruEntry } from "./control_view.ts";
 * declare const fromWorker0: readonly MruEntry[];
 * declare const fromWorker1: readonly MruEntry[];
 * newestFirst([...fromWorker0, ...fromWorker1], 1000);
 * ```
 */
export function newestFirst(clients: readonly MruEntry[], limit: number): MruEntry[] {
  return [...clients].sort((a, b) => ntpDiffSeconds(b.lastSeen, a.lastSeen)).slice(0, limit);
}

/** The table key (four big-endian words; IPv4 as ::ffff:a.b.c.d) as an IP literal. */
function addressText(keys: Uint32Array, entry: number): string {
  const k = entry * 4;
  const w3 = keys[k + 3] as number;
  if (keys[k] === 0 && keys[k + 1] === 0 && keys[k + 2] === 0xffff) {
    return `${w3 >>> 24}.${(w3 >>> 16) & 0xff}.${(w3 >>> 8) & 0xff}.${w3 & 0xff}`;
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const word = keys[k + i] as number;
    bytes.set([word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff], 4 * i);
  }
  return formatIpAddress(bytes);
}
