// When the leap second announced falls (the discontinuity of UTC), and whether a moment is close enough to it that a measurement across it cannot be trusted (chrony drops samples within 5 s of a leap; so do we).
import type { LeapAnnouncement } from "./leap_status.ts";

/** Seconds either side of a leap second in which samples are dropped (as chrony's 5 s). */
export const LEAP_SECOND_CLOSE_SECONDS = 5;

/** Seconds in a day: leap seconds happen at the end of a UTC day. */
export const DAY_SECONDS = 86_400;

/**
 * The Unix time at which UTC jumps for the leap announced at `unixSeconds`: the end of that UTC
 * day for an insertion (23:59:60 repeats as the clock's 23:59:59 on a Unix clock, which steps
 * back at midnight), the start of 23:59:59 for a deletion (skipped). Null when nothing is
 * announced.
 *
 * @example
 * ```ts
 * const juneThirtyNoon = Date.UTC(2027, 5, 30, 12) / 1000;
 * leapDiscontinuityUnixSeconds(1, juneThirtyNoon) === Date.UTC(2027, 6, 1) / 1000; // true
 * leapDiscontinuityUnixSeconds(2, juneThirtyNoon) === Date.UTC(2027, 6, 1) / 1000 - 1; // true
 * leapDiscontinuityUnixSeconds(0, juneThirtyNoon); // null
 * ```
 */
export function leapDiscontinuityUnixSeconds(
  announcement: LeapAnnouncement,
  unixSeconds: number,
): number | null {
  if (announcement === 0) return null;
  const midnight = (Math.floor(unixSeconds / DAY_SECONDS) + 1) * DAY_SECONDS;
  return announcement === 1 ? midnight : midnight - 1;
}

/**
 * Whether `unixSeconds` lies within {@link LEAP_SECOND_CLOSE_SECONDS} of the leap at
 * `leapUnixSeconds` (null: no leap, never close).
 *
 * @example
 * ```ts
 * const leap = Date.UTC(2027, 6, 1) / 1000;
 * isLeapSecondClose(leap - 4.5, leap); // true
 * isLeapSecondClose(leap + 5, leap); // false
 * isLeapSecondClose(leap, null); // false
 * ```
 */
export function isLeapSecondClose(unixSeconds: number, leapUnixSeconds: number | null): boolean {
  return leapUnixSeconds !== null &&
    unixSeconds >= leapUnixSeconds - LEAP_SECOND_CLOSE_SECONDS &&
    unixSeconds < leapUnixSeconds + LEAP_SECOND_CLOSE_SECONDS;
}

/**
 * Remembers the leap last announced so that the moments after it (when the date has moved on and
 * nothing is announced any more) still count as close to it.
 *
 * @example
 * ```ts
 * let window = emptyLeapWindow;
 * const juneThirtyNoon = Date.UTC(2027, 5, 30, 12) / 1000;
 * window = observeLeapAnnouncement(window, 1, juneThirtyNoon);
 * window.leapUnixSeconds === Date.UTC(2027, 6, 1) / 1000; // true
 * // Two seconds after midnight nothing is announced, and the leap is still close:
 * window = observeLeapAnnouncement(window, 0, Date.UTC(2027, 6, 1) / 1000 + 2);
 * window.leapUnixSeconds === Date.UTC(2027, 6, 1) / 1000; // true
 * ```
 */
export function observeLeapAnnouncement(
  window: LeapWindow,
  announcement: LeapAnnouncement,
  unixSeconds: number,
): LeapWindow {
  const leap = leapDiscontinuityUnixSeconds(announcement, unixSeconds);
  if (leap !== null && unixSeconds < leap) return { leapUnixSeconds: leap };
  // Withdrawn or past: kept while it is still close, then forgotten.
  if (isLeapSecondClose(unixSeconds, window.leapUnixSeconds)) return window;
  return emptyLeapWindow;
}

/**
 * The leap of `window` while it is still ahead or less than {@link LEAP_SECOND_CLOSE_SECONDS}
 * past at `unixSeconds`, else null.
 *
 * @example
 * ```ts
 * const leap = Date.UTC(2027, 6, 1) / 1000;
 * pendingLeapUnixSeconds({ leapUnixSeconds: leap }, leap + 1) === leap; // true
 * pendingLeapUnixSeconds({ leapUnixSeconds: leap }, leap + 6); // null
 * ```
 */
export function pendingLeapUnixSeconds(window: LeapWindow, unixSeconds: number): number | null {
  const leap = window.leapUnixSeconds;
  return leap !== null && unixSeconds < leap + LEAP_SECOND_CLOSE_SECONDS ? leap : null;
}

/** The leap second a daemon has last seen announced (null: none pending or just past). */
export interface LeapWindow {
  readonly leapUnixSeconds: number | null;
}

/** No leap pending. */
export const emptyLeapWindow: LeapWindow = { leapUnixSeconds: null };
