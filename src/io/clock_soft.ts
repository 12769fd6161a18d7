// The soft clock driver: its own offset and frequency correction over the kernel clock, never touching the host clock.
import type { ClockDriver, ClockReading, ClockSyncStatus } from "./clock_driver.ts";
import type { ClockCorrection, PublishedSnapshot } from "./snapshot_buffer.ts";
import type { KernelClockAccess } from "./kernel_clock_access.ts";
import { readRealtime } from "./clock_realtime.ts";
import { correctedNanoseconds } from "./responder_common.ts";
import { clampFreqPpm } from "./clock_kernel.ts";

/** The snapshot fields that carry the soft clock's correction to the responder threads. */
export type SoftClockSnapshotFields = Required<
  Pick<PublishedSnapshot, "clockOffsetSeconds" | "clockFreqPpm" | "clockEpochUnixSeconds">
>;

/** The soft driver: a ClockDriver plus its correction, for the responders' snapshot. */
export interface SoftClockDriver extends ClockDriver {
  readonly kind: "soft";
  /** The correction in force: offset at the epoch (kernel Unix seconds) and its rate. */
  correction(): ClockCorrection;
  /** The same, as PublishedSnapshot fields: spread them into every snapshot the daemon publishes. */
  snapshotFields(): SoftClockSnapshotFields;
  /** The last status given to setSyncStatus (the host clock is not told). */
  syncStatus(): ClockSyncStatus;
}

/** Options for {@link createSoftClock}. */
export interface SoftClockOptions {
  /**
   * Where kernel time comes from; only `readRealtime` is ever called (never `adjtime`).
   * Default: CLOCK_REALTIME through FFI.
   */
  readonly kernel?: Pick<KernelClockAccess, "readRealtime">;
  /** Starting frequency correction, ppm (e.g. from the drift file); default 0. */
  readonly initialFreqPpm?: number;
  /** Starting offset correction, seconds; default 0. */
  readonly initialOffsetSeconds?: number;
}

function secondsOf(reading: ClockReading): number {
  return reading.unixSeconds + reading.nanoseconds * 1e-9;
}

/**
 * Applies a correction to a kernel reading: reading + offsetSeconds + freqPpm·1e-6·(reading -
 * epoch), normalised to whole nanoseconds in 0..999 999 999. The same arithmetic the responder
 * threads apply to their kernel timestamps (correctedNanoseconds).
 *
 * @example
 * ```ts
 * applyCorrection({ unixSeconds: 100, nanoseconds: 0 },
 *   { offsetSeconds: 0.5, freqPpm: 10, epochUnixSeconds: 0 }); // 100.501 s
 * ```
 */
export function applyCorrection(raw: ClockReading, correction: ClockCorrection): ClockReading {
  const total = correctedNanoseconds(raw.unixSeconds, raw.nanoseconds, correction);
  const carrySeconds = Math.floor(total / 1e9);
  let nanoseconds = Math.round(total - carrySeconds * 1e9);
  let unixSeconds = raw.unixSeconds + carrySeconds;
  if (nanoseconds >= 1e9) {
    nanoseconds -= 1e9;
    unixSeconds += 1;
  }
  return { unixSeconds, nanoseconds };
}

/**
 * Creates the soft clock: it serves kernel time plus its own correction and never calls a
 * clock-setting syscall, so it needs no capability. Frequency changes and steps re-base the
 * correction at the current kernel time, so the served time is continuous except for steps.
 * Sign: a positive frequency makes the soft clock run faster than the kernel clock; a positive
 * step moves it forward.
 *
 * @example
 * ```ts
 * import type { Responders } from "./responders_types.ts";
 * import type { SystemSnapshot } from "../core/server/types.ts";
 * declare const driftFreqPpm: number | null; // from the drift file
 * declare const responders: Responders;
 * declare const system: SystemSnapshot; // what the server advertises now
 * const clock = createSoftClock({ initialFreqPpm: driftFreqPpm ?? 0 });
 * clock.stepSeconds(0.25);
 * responders.publish({ ...system, ...clock.snapshotFields() });
 * ```
 */
export function createSoftClock(options: SoftClockOptions = {}): SoftClockDriver {
  const readKernel = options.kernel?.readRealtime ?? readRealtime;
  let correction: ClockCorrection = {
    offsetSeconds: options.initialOffsetSeconds ?? 0,
    freqPpm: clampFreqPpm(options.initialFreqPpm ?? 0),
    epochUnixSeconds: secondsOf(readKernel()),
  };
  let status: ClockSyncStatus = {
    synchronised: false,
    leap: 0,
    maxErrorSeconds: 16,
    estErrorSeconds: 16,
  };
  /** Moves the epoch to now, folding the accumulated frequency correction into the offset. */
  const rebase = (): void => {
    const nowSeconds = secondsOf(readKernel());
    const elapsedSeconds = nowSeconds - correction.epochUnixSeconds;
    correction = {
      offsetSeconds: correction.offsetSeconds + correction.freqPpm * 1e-6 * elapsedSeconds,
      freqPpm: correction.freqPpm,
      epochUnixSeconds: nowSeconds,
    };
  };
  return {
    kind: "soft",
    now: () => applyCorrection(readKernel(), correction),
    fromKernel: (raw: ClockReading) => applyCorrection(raw, correction),
    getFrequencyPpm: () => correction.freqPpm,
    setFrequencyPpm: (freqPpm: number) => {
      const clamped = clampFreqPpm(freqPpm);
      rebase();
      correction = { ...correction, freqPpm: clamped };
      return clamped;
    },
    stepSeconds: (offsetSeconds: number) => {
      if (!Number.isFinite(offsetSeconds)) {
        throw new RangeError(`Cannot step the clock by ${offsetSeconds} s: not a finite number`);
      }
      rebase();
      correction = { ...correction, offsetSeconds: correction.offsetSeconds + offsetSeconds };
    },
    setSyncStatus: (next: ClockSyncStatus) => {
      status = next;
    },
    correction: () => correction,
    snapshotFields: () => ({
      clockOffsetSeconds: correction.offsetSeconds,
      clockFreqPpm: correction.freqPpm,
      clockEpochUnixSeconds: correction.epochUnixSeconds,
    }),
    syncStatus: () => status,
  };
}
