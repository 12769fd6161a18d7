// The local clock the library measures against: the system's, or one a program (or a test) supplies.
import type { ClockReading } from "../io/clock_driver.ts";
import { chooseRealtimeReader } from "../io/clock_realtime.ts";

/** A local clock: the current time as epoch milliseconds (fractions allowed), like `Date.now`. */
export type LocalClock = () => number;

/**
 * The reader the sockets and the soft clock use: `clock` turned into readings, or by default
 * the best clock the program may read (clock_gettime with --allow-ffi, else `Date.now()`).
 *
 * @example
 * ```ts
 * const slow = localClockReader(() => Date.now() - 90_000); // a clock 90 s behind
 * slow().unixSeconds;
 * ```
 */
export function localClockReader(clock?: LocalClock): () => ClockReading {
  if (clock === undefined) return chooseRealtimeReader();
  return () => {
    const milliseconds = clock();
    const unixSeconds = Math.floor(milliseconds / 1000);
    return {
      unixSeconds,
      nanoseconds: Math.min(999_999_999, Math.round((milliseconds - unixSeconds * 1000) * 1e6)),
    };
  };
}

/**
 * The system clock as it was when the program started, advanced by the monotonic clock:
 * `performance.timeOrigin + performance.now()` (microseconds with only --allow-net; a step of
 * the system clock does not move it, a suspend stops it).
 *
 * @example
 * ```ts
 * monotonicWallClock() - Date.now(); // about 0 unless the system clock was stepped
 * ```
 */
export const monotonicWallClock: LocalClock = (): number =>
  performance.timeOrigin + performance.now();
