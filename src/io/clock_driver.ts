// The one interface every clock driver implements (kernel via clock_adjtime, soft, simulated),
// after chrony's driver table: the discipline decides, a driver only carries out.
import type { ClockSyncStatus } from "../core/client/clock_sync_status.ts";

export type { ClockSyncStatus } from "../core/client/clock_sync_status.ts";

/** A wall-clock reading: Unix seconds plus nanoseconds (0..999_999_999). */
export interface ClockReading {
  readonly unixSeconds: number;
  readonly nanoseconds: number;
}

/**
 * A clock the daemon disciplines. Sign conventions: a positive frequency makes the clock run
 * faster; `stepSeconds(+d)` moves the clock forward by d seconds. Offsets are slewed by the
 * discipline through temporary frequency changes, as chrony does, so drivers need no PLL.
 */
export interface ClockDriver {
  /** "kernel", "soft" or "simulated", for logs and status. */
  readonly kind: string;
  /** The time this clock serves (for soft: the host clock plus its correction). */
  now(): ClockReading;
  /**
   * Maps a raw kernel clock reading (e.g. a SO_TIMESTAMPNS receive timestamp) to this clock's
   * time: identity for the kernel driver, plus the correction for the soft driver.
   */
  fromKernel(raw: ClockReading): ClockReading;
  /** The frequency correction in force, ppm. */
  getFrequencyPpm(): number;
  /** Sets the frequency correction, ppm; drivers clamp to +-500 and return what they set. */
  setFrequencyPpm(freqPpm: number): number;
  /** Steps the clock by `offsetSeconds` (positive = forward). */
  stepSeconds(offsetSeconds: number): void;
  /** Publishes the sync status (kernel: STA_UNSYNC, maxerror, esterror, leap flags). */
  setSyncStatus(status: ClockSyncStatus): void;
}
