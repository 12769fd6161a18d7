// The kernel clock driver: frequency, steps and sync status of CLOCK_REALTIME through clock_adjtime.
import type { ClockDriver, ClockReading, ClockSyncStatus } from "./clock_driver.ts";
import {
  ClockAdjtimeError,
  type KernelClockAccess,
  libcKernelClockAccess,
} from "./kernel_clock_access.ts";
import {
  Adj,
  decodeTimex,
  encodeTimex,
  maxKernelErrorSeconds,
  maxKernelFreqPpm,
  ppmToTimexFreq,
  splitStepSeconds,
  Sta,
  type TimexFields,
  timexFreqToPpm,
} from "./timex.ts";

/** The kernel's clock discipline state as adjtimex reports it, in plain units. */
export interface KernelClockState {
  /** Frequency correction, ppm (positive: the clock runs faster). */
  readonly freqPpm: number;
  /** Offset the kernel PLL still has to slew, seconds (0 unless ntpd-style PLL mode is on). */
  readonly offsetSeconds: number;
  /** Raw status bits (Sta.*). */
  readonly status: number;
  /** STA_UNSYNC clear. */
  readonly synchronised: boolean;
  /** 1 when STA_INS is set, 2 when STA_DEL is set, else 0. */
  readonly leap: 0 | 1 | 2;
  readonly maxErrorSeconds: number;
  readonly estErrorSeconds: number;
  /** PLL time constant (timex.constant). */
  readonly timeConstant: number;
  /** Microseconds per clock tick (timex.tick, 10000 at HZ=100). */
  readonly tickMicroseconds: number;
  /** TAI - UTC, seconds, as the kernel knows it (0 if never set). */
  readonly taiSeconds: number;
  /** adjtimex's return value: TimeState.OK (0) .. TimeState.ERROR (5). */
  readonly state: number;
}

/** Options shared by the kernel clock functions. */
export interface KernelClockOptions {
  /** How to reach the kernel; default the real one through libc (FFI). */
  readonly access?: KernelClockAccess;
}

/** The kernel driver: a ClockDriver plus what only the kernel has. */
export interface KernelClockDriver extends ClockDriver {
  readonly kind: "kernel";
  /** Reads the kernel discipline state (modes = 0, changes nothing). */
  readState(): KernelClockState;
  /**
   * Takes the kernel discipline over as chrony does at start: clears any offset a previous
   * daemon left for the kernel PLL to slew, turns the PLL off and marks the clock
   * unsynchronised (STA_UNSYNC, maxerror = esterror = 16 s). Keeps the frequency.
   */
  initialise(): void;
}

function adjust(access: KernelClockAccess, fields: Partial<TimexFields>, operation: string) {
  const timex = encodeTimex(fields);
  const result = access.adjtime(timex);
  if (result < 0) throw new ClockAdjtimeError(operation, -result);
  return { state: result, timex: decodeTimex(timex) };
}

function stateOf(fields: TimexFields, state: number): KernelClockState {
  const status = fields.status;
  return {
    freqPpm: timexFreqToPpm(fields.freq),
    offsetSeconds: fields.offset / ((status & Sta.NANO) !== 0 ? 1e9 : 1e6),
    status,
    synchronised: (status & Sta.UNSYNC) === 0,
    leap: (status & Sta.INS) !== 0 ? 1 : (status & Sta.DEL) !== 0 ? 2 : 0,
    maxErrorSeconds: fields.maxerror / 1e6,
    estErrorSeconds: fields.esterror / 1e6,
    timeConstant: fields.constant,
    tickMicroseconds: fields.tick,
    taiSeconds: fields.tai,
    state,
  };
}

/**
 * Reads the kernel clock discipline state with adjtimex modes = 0: never changes anything, needs
 * no capability. Throws ClockAdjtimeError if the call fails.
 *
 * @example
 * ```ts
 * const { freqPpm, synchronised } = readKernelClockState();
 * ```
 */
export function readKernelClockState(options: KernelClockOptions = {}): KernelClockState {
  const access = options.access ?? libcKernelClockAccess();
  const { state, timex } = adjust(access, { modes: 0 }, "read the kernel clock state");
  return stateOf(timex, state);
}

/**
 * The status bits and error estimates to write for `status`, as chrony does: maxerror and
 * esterror are capped at 16 s, and a maxerror of 16 s or more (or `synchronised: false`)
 * sets STA_UNSYNC with both errors at 16 s. STA_PLL and the other writable bits are cleared.
 */
export function syncStatusFields(status: ClockSyncStatus): Partial<TimexFields> {
  const cap = maxKernelErrorSeconds;
  const synchronised = status.synchronised && status.maxErrorSeconds < cap;
  const maxErrorSeconds = synchronised ? Math.max(0, status.maxErrorSeconds) : cap;
  const estErrorSeconds = synchronised ? Math.min(Math.max(0, status.estErrorSeconds), cap) : cap;
  const leapBits = status.leap === 1 ? Sta.INS : status.leap === 2 ? Sta.DEL : 0;
  return {
    modes: Adj.STATUS | Adj.MAXERROR | Adj.ESTERROR,
    status: (synchronised ? 0 : Sta.UNSYNC) | leapBits,
    maxerror: Math.round(maxErrorSeconds * 1e6),
    esterror: Math.round(estErrorSeconds * 1e6),
  };
}

/** Clamps a frequency to the kernel's +-500 ppm; throws RangeError for NaN and infinities. */
export function clampFreqPpm(freqPpm: number): number {
  if (!Number.isFinite(freqPpm)) {
    throw new RangeError(`Cannot set the clock frequency to ${freqPpm} ppm: not a finite number`);
  }
  return Math.min(maxKernelFreqPpm, Math.max(-maxKernelFreqPpm, freqPpm));
}

/**
 * Creates the kernel clock driver. Reading needs nothing; every change (frequency, step, status)
 * needs CAP_SYS_TIME and throws ClockAdjtimeError naming the fix when the kernel refuses (EPERM).
 * Creating it changes nothing; call `initialise()` once when the daemon takes the clock over.
 *
 * @example
 * ```ts
 * const clock = createKernelClock(); // or { access: simulatedKernel.access } in tests
 * clock.initialise();
 * clock.setFrequencyPpm(-12.5);
 * clock.setSyncStatus({ synchronised: true, leap: 0, maxErrorSeconds: 0.01, estErrorSeconds: 0.001 });
 * ```
 */
export function createKernelClock(options: KernelClockOptions = {}): KernelClockDriver {
  const access = options.access ?? libcKernelClockAccess();
  return {
    kind: "kernel",
    now: (): ClockReading => access.readRealtime(),
    fromKernel: (raw: ClockReading): ClockReading => raw,
    getFrequencyPpm: () =>
      timexFreqToPpm(adjust(access, { modes: 0 }, "read the clock frequency").timex.freq),
    setFrequencyPpm: (freqPpm: number) => {
      const freq = ppmToTimexFreq(clampFreqPpm(freqPpm));
      const { timex } = adjust(
        access,
        { modes: Adj.FREQUENCY, freq },
        `set the clock frequency to ${freqPpm} ppm`,
      );
      return timexFreqToPpm(timex.freq);
    },
    stepSeconds: (offsetSeconds: number) => {
      const { seconds, nanoseconds } = splitStepSeconds(offsetSeconds);
      if (seconds === 0 && nanoseconds === 0) return;
      adjust(
        access,
        { modes: Adj.SETOFFSET | Adj.NANO, timeSeconds: seconds, timeFraction: nanoseconds },
        `step the clock by ${offsetSeconds} s`,
      );
    },
    setSyncStatus: (status: ClockSyncStatus) => {
      adjust(access, syncStatusFields(status), "set the clock synchronisation status");
    },
    readState: () => readKernelClockState({ access }),
    initialise: () => {
      // As chrony: with STA_PLL on, ADJ_OFFSET 0 clears the offset the kernel PLL still slews.
      adjust(
        access,
        { modes: Adj.OFFSET | Adj.STATUS, status: Sta.PLL | Sta.UNSYNC, offset: 0 },
        "reset the kernel PLL offset",
      );
      adjust(
        access,
        syncStatusFields({
          synchronised: false,
          leap: 0,
          maxErrorSeconds: maxKernelErrorSeconds,
          estErrorSeconds: maxKernelErrorSeconds,
        }),
        "mark the clock unsynchronised",
      );
    },
  };
}
