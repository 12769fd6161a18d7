// What a leap-second table says at a given moment: TAI - UTC now, the next leap, the leap indicator to announce (RFC 5905: during the last day before it), and whether the table has expired.
import { type LeapTable, NTP_UNIX_OFFSET_SECONDS } from "./leap_seconds_file.ts";

/** The leap indicator values (RFC 5905): 0 none, 1 insert, 2 delete (3, alarm, is not ours). */
export type LeapAnnouncement = 0 | 1 | 2;

/** The table's view of one moment. */
export interface LeapStatus {
  /** TAI - UTC now, seconds. */
  readonly taiOffsetSeconds: number;
  /** The latest leap in the table, Unix seconds (ntpd's `leapsec`). */
  readonly lastLeapUnixSeconds: number;
  /** The next leap after now, if the table holds one. */
  readonly next: { readonly unixSeconds: number; readonly kind: "insert" | "delete" } | null;
  /** What to announce now: the next leap's indicator from 24 h before it until it happens. */
  readonly announcement: LeapAnnouncement;
  /** `#@` as Unix seconds. */
  readonly expiresUnixSeconds: number;
  /** Past `#@`: the table says nothing about leaps after it. */
  readonly expired: boolean;
}

/** An announcement starts this long before the leap: the whole last day of the month. */
export const ANNOUNCE_SECONDS = 86_400;

/**
 * The table at Unix time `unixSeconds`.
 *
 * @example
 * ```ts
 * import type { LeapTable } from "./leap_seconds_file.ts";
 * declare const table: LeapTable; // tzdata's, expiring 2026-06-28
 * const status = leapStatusAt(table, Date.UTC(2026, 11, 6) / 1000);
 * status.taiOffsetSeconds; // 37
 * status.expired; // true
 * ```
 */
export function leapStatusAt(table: LeapTable, unixSeconds: number): LeapStatus {
  const unixOf = (ntp: number) => ntp - NTP_UNIX_OFFSET_SECONDS;
  let current = table.entries[0]!;
  let nextIndex = -1;
  for (let i = 0; i < table.entries.length; i++) {
    const entry = table.entries[i]!;
    if (unixOf(entry.ntpSeconds) <= unixSeconds) current = entry;
    else {
      nextIndex = i;
      break;
    }
  }
  const upcoming = nextIndex < 0 ? undefined : table.entries[nextIndex];
  const next = upcoming === undefined ? null : {
    unixSeconds: unixOf(upcoming.ntpSeconds),
    kind: upcoming.taiOffsetSeconds > current.taiOffsetSeconds
      ? "insert" as const
      : "delete" as const,
  };
  const expiresUnixSeconds = unixOf(table.expiresNtpSeconds);
  const announcing = next !== null && next.unixSeconds - unixSeconds <= ANNOUNCE_SECONDS;
  return {
    taiOffsetSeconds: current.taiOffsetSeconds,
    lastLeapUnixSeconds: unixOf(table.entries.at(-1)!.ntpSeconds),
    next,
    announcement: !announcing ? 0 : next.kind === "insert" ? 1 : 2,
    expiresUnixSeconds,
    expired: unixSeconds >= expiresUnixSeconds,
  };
}

/**
 * A Unix time as ntpd writes `leapsec` and `expire` in mode 6: UTC "YYYYMMDDHHMM".
 *
 * @example
 * ```ts
 * ntpdLeapTime(Date.UTC(2017, 0, 1) / 1000); // "201701010000"
 * ```
 */
export function ntpdLeapTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${
    two(d.getUTCHours())
  }${two(d.getUTCMinutes())}`;
}
