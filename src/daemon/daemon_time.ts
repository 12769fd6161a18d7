// The daemon's time and timers, handed to its parts so tests can drive them: a monotonic clock in seconds and one-shot timers.

/** What setTimer returns; only for clearTimer. */
export type TimerHandle = ReturnType<typeof setTimeout>;

/** A monotonic clock (never steps; timers and intervals, never wall time) and one-shot timers. */
export interface DaemonTime {
  /** Seconds from an arbitrary origin. */
  monotonicSeconds(): number;
  /** Calls `callback` once after `delayMs`; the handle cancels it. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimer(handle: TimerHandle): void;
}

/**
 * A monotonic clock in seconds that never steps (timers, rate limiting); never wall time.
 *
 * @example
 * ```ts
 * const started = monotonicSeconds();
 * ```
 */
export function monotonicSeconds(): number {
  return performance.now() / 1000;
}

/**
 * The real time and timers: performance.now() and setTimeout.
 *
 * @example
 * ```ts
 * const handle = systemTime.setTimer(() => console.log("tick"), 1000);
 * systemTime.clearTimer(handle);
 * ```
 */
export const systemTime: DaemonTime = Object.freeze({
  monotonicSeconds,
  setTimer: (callback: () => void, delayMs: number) => setTimeout(callback, delayMs),
  clearTimer: (handle: TimerHandle) => clearTimeout(handle),
});
