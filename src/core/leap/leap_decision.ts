// Which leap second, if any, to announce and to hand the kernel: the leap-seconds file when one is valid, else the upstreams' majority vote, and that only on the last day of June or December (as chrony: one upstream, or a majority announcing on another day, decides nothing).
import type { LeapAnnouncement, LeapStatus } from "./leap_status.ts";

/** Why the announcement is what it is. */
export type LeapSource = "file" | "upstreams" | "none";

/** The decision and its reason (for logs and `ntp status`). */
export interface LeapDecision {
  readonly announcement: LeapAnnouncement;
  readonly source: LeapSource;
  /** An upstream vote that was set aside, and why; null when none was. */
  readonly ignored: string | null;
}

/** Whether Unix time `unixSeconds` falls on June 30 or December 31 (UTC). */
function lastDayOfJuneOrDecember(unixSeconds: number): boolean {
  const date = new Date(unixSeconds * 1000);
  const month = date.getUTCMonth();
  const day = date.getUTCDate();
  return (month === 5 && day === 30) || (month === 11 && day === 31);
}

/**
 * The leap indicator to serve and to set in the kernel at `unixSeconds`.
 * - A leap-seconds file that has not expired decides alone: its announcement (from 24 h before
 *   a leap in it) or none, whatever the upstreams say.
 * - Otherwise the upstreams' majority (`voted`, RFC 5905 §11.2.3) counts only on June 30 and
 *   December 31 UTC, where leap seconds are scheduled; on any other day it is ignored.
 *
 * @example
 * ```ts
 * decideLeap({ voted: 1, unixSeconds: Date.UTC(2027, 5, 30, 12) / 1000, file: null });
 * // { announcement: 1, source: "upstreams", ignored: null }
 * decideLeap({ voted: 1, unixSeconds: Date.UTC(2027, 5, 15, 12) / 1000, file: null }).announcement;
 * // 0
 * ```
 */
export function decideLeap(input: {
  readonly voted: LeapAnnouncement;
  readonly unixSeconds: number;
  readonly file: LeapStatus | null;
}): LeapDecision {
  const { voted, unixSeconds, file } = input;
  if (file !== null && !file.expired) {
    const ignored = voted !== 0 && voted !== file.announcement
      ? `the upstreams announce a leap second (LI ${voted}) that the leap-seconds file does not`
      : null;
    return {
      announcement: file.announcement,
      source: file.announcement === 0 ? "none" : "file",
      ignored,
    };
  }
  if (voted === 0) return { announcement: 0, source: "none", ignored: null };
  if (!lastDayOfJuneOrDecember(unixSeconds)) {
    return {
      announcement: 0,
      source: "none",
      ignored: `the upstreams announce a leap second (LI ${voted}) on ${
        new Date(unixSeconds * 1000).toISOString().slice(0, 10)
      }, not the last day of June or December`,
    };
  }
  return { announcement: voted, source: "upstreams", ignored: null };
}
