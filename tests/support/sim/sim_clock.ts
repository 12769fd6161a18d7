// The simulation's ONE fake clock: true time versus a local clock with a frequency error and wander, disciplined through the ClockDriver interface.
//
// State is kept relative to true time (offset = local - true, in seconds) so that microsecond
// effects are not lost in the rounding of 1.8e9-second Unix times. The monotonic clock runs at
// the local clock's rate but ignores steps, as CLOCK_MONOTONIC does under the kernel driver.
import type { ClockDriver, ClockReading, ClockSyncStatus } from "../../../src/io/clock_driver.ts";
import { ntpFromUnix, type NtpTimestamp } from "../../../src/core/time/ntp_timestamp.ts";
import { createRandom } from "./random.ts";

/** How the simulated oscillator behaves. */
export interface SimulatedClockOptions {
  /** Unix time of true time zero (default 1_800_000_000, 2027-01-15). */
  readonly epochUnixSeconds?: number;
  /** Local minus true time at the start, seconds (positive: the local clock is ahead). */
  readonly initialOffsetSeconds?: number;
  /** The oscillator's own frequency error, ppm (positive: runs fast). */
  readonly frequencyErrorPpm?: number;
  /** Random-walk wander of the frequency error, ppm per sqrt(second) (default 0). */
  readonly wanderPpmPerSqrtSecond?: number;
  /** The frequency correction in force at the start (what a previous daemon left), ppm. */
  readonly initialCorrectionPpm?: number;
  /** Seed of the wander. */
  readonly seed?: number;
}

/** A step the discipline (or the scenario) applied. */
export interface StepRecord {
  readonly trueSeconds: number;
  readonly offsetSeconds: number;
  /** True for steps made through the driver, false for external jumps (someone set the clock). */
  readonly byDriver: boolean;
}

/** The fake clock: a ClockDriver plus the truth behind it. */
export interface SimulatedClock extends ClockDriver {
  /** Moves true time forward to `trueSeconds` (never backward), integrating rate and wander. */
  advanceTo(trueSeconds: number): void;
  /** Current true time, seconds since the simulation start. */
  readonly trueSeconds: number;
  /** Local minus true time now, seconds (positive: local clock ahead). */
  offsetSeconds(): number;
  /** The oscillator's own frequency error now, ppm (including wander). */
  intrinsicFrequencyPpm(): number;
  /** Rate error of the local clock now (intrinsic + correction), ppm. */
  rateErrorPpm(): number;
  /** Monotonic seconds (local rate, no steps). */
  monotonicSeconds(): number;
  /** The local clock now as an NTP timestamp. */
  nowNtp(): NtpTimestamp;
  /** An external jump of the local clock by `offsetSeconds` (not through the driver). */
  jump(offsetSeconds: number): void;
  /** A sudden change of the oscillator's frequency error by `deltaPpm` (e.g. a temperature step). */
  shiftFrequency(deltaPpm: number): void;
  /** Every step, in order. */
  readonly steps: readonly StepRecord[];
  /** Every setSyncStatus call, in order, with the true time. */
  readonly syncStatuses: readonly {
    readonly trueSeconds: number;
    readonly status: ClockSyncStatus;
  }[];
  /** Number of setFrequencyPpm calls. */
  readonly frequencyChanges: number;
}

/** Wander is applied in steps of this many true seconds. */
const wanderStepSeconds = 10;

/**
 * Creates the fake clock at true time 0.
 *
 * @example
 * ```ts
 * const clock = createSimulatedClock({ initialOffsetSeconds: 0.1, frequencyErrorPpm: 50 });
 * clock.advanceTo(10);
 * clock.offsetSeconds(); // 0.1 + 10 * 50e-6
 * ```
 */
export function createSimulatedClock(options: SimulatedClockOptions = {}): SimulatedClock {
  const epoch = options.epochUnixSeconds ?? 1_800_000_000;
  const wander = options.wanderPpmPerSqrtSecond ?? 0;
  const random = createRandom(options.seed ?? 1);
  let trueNow = 0;
  let offset = options.initialOffsetSeconds ?? 0;
  let monotonic = 0;
  let intrinsicPpm = options.frequencyErrorPpm ?? 0;
  let correctionPpm = options.initialCorrectionPpm ?? 0;
  let nextWander = wanderStepSeconds;
  let frequencyChanges = 0;
  const steps: StepRecord[] = [];
  const syncStatuses: { trueSeconds: number; status: ClockSyncStatus }[] = [];

  const integrate = (untilSeconds: number) => {
    const dt = untilSeconds - trueNow;
    if (dt <= 0) return;
    const rate = (intrinsicPpm + correctionPpm) * 1e-6;
    offset += dt * rate;
    monotonic += dt * (1 + rate);
    trueNow = untilSeconds;
  };
  const reading = (): ClockReading => {
    const local = trueNow + offset;
    const whole = Math.floor(local);
    let nanoseconds = Math.round((local - whole) * 1e9);
    let unixSeconds = epoch + whole;
    if (nanoseconds >= 1e9) {
      nanoseconds -= 1e9;
      unixSeconds += 1;
    }
    return { unixSeconds, nanoseconds };
  };

  return {
    kind: "simulated",
    advanceTo(trueSeconds) {
      while (wander > 0 && nextWander <= trueSeconds) {
        integrate(nextWander);
        intrinsicPpm += wander * Math.sqrt(wanderStepSeconds) * random.normal();
        nextWander += wanderStepSeconds;
      }
      integrate(trueSeconds);
    },
    get trueSeconds() {
      return trueNow;
    },
    offsetSeconds: () => offset,
    intrinsicFrequencyPpm: () => intrinsicPpm,
    rateErrorPpm: () => intrinsicPpm + correctionPpm,
    monotonicSeconds: () => monotonic,
    nowNtp() {
      const r = reading();
      return ntpFromUnix(r.unixSeconds, r.nanoseconds);
    },
    jump(offsetSeconds) {
      offset += offsetSeconds;
      steps.push({ trueSeconds: trueNow, offsetSeconds, byDriver: false });
    },
    shiftFrequency(deltaPpm) {
      intrinsicPpm += deltaPpm;
    },
    now: reading,
    fromKernel: (raw) => raw,
    getFrequencyPpm: () => correctionPpm,
    setFrequencyPpm(freqPpm) {
      correctionPpm = Math.max(-500, Math.min(500, freqPpm));
      frequencyChanges++;
      return correctionPpm;
    },
    stepSeconds(offsetSeconds) {
      offset += offsetSeconds;
      steps.push({ trueSeconds: trueNow, offsetSeconds, byDriver: true });
    },
    setSyncStatus(status) {
      syncStatuses.push({ trueSeconds: trueNow, status });
    },
    steps,
    syncStatuses,
    get frequencyChanges() {
      return frequencyChanges;
    },
  };
}

/**
 * The NTP timestamp of a clock that is `offsetSeconds` away from true time `trueSeconds`
 * (used by simulated servers), with the same epoch convention as {@link createSimulatedClock}.
 *
 * @example
 * ```ts
 * ntpAtTrueTime(12.5, { offsetSeconds: 0 });
 * ```
 */
export function ntpAtTrueTime(
  trueSeconds: number,
  options: { readonly offsetSeconds: number; readonly epochUnixSeconds?: number },
): NtpTimestamp {
  const local = trueSeconds + options.offsetSeconds;
  const whole = Math.floor(local);
  return ntpFromUnix((options.epochUnixSeconds ?? 1_800_000_000) + whole, (local - whole) * 1e9);
}
