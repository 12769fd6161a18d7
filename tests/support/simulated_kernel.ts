// A simulated Linux kernel clock: a fake clock_adjtime that interprets struct timex bytes and keeps its own state.
//
// It follows kernel/time/ntp.c and timekeeping.c closely enough for the drivers: the EPERM check
// for any change without CAP_SYS_TIME, ADJ_SETOFFSET validation (EINVAL for nanoseconds outside
// 0..999 999 999), ADJ_SETOFFSET applied before the other modes, the status write that keeps the
// read-only bits, the +-500 ppm frequency clamp, ADJ_OFFSET taken only with STA_PLL, the state
// returned (TIME_ERROR while STA_UNSYNC) and every field copied back out.
import type { ClockReading } from "../../src/io/clock_driver.ts";
import type { KernelClockAccess } from "../../src/io/kernel_clock_access.ts";
import {
  Adj,
  decodeTimex,
  encodeTimex,
  Sta,
  TimeState,
  type TimexFields,
} from "../../src/io/timex.ts";

/** The simulated kernel's discipline variables, in the kernel's own units. */
export interface SimulatedKernelState {
  /** CLOCK_REALTIME, nanoseconds since the epoch. */
  timeNanoseconds: bigint;
  /** ppm · 2^16. */
  freq: number;
  status: number;
  /** Microseconds. */
  maxerror: number;
  /** Microseconds. */
  esterror: number;
  constant: number;
  tick: number;
  tai: number;
  /** The PLL's remaining offset, ns when STA_NANO else us. */
  offset: number;
  /** The leap-second state machine (TimeState: OK, INS, DEL, OOP, WAIT). */
  timeState: number;
}

/** A simulated kernel: its access record (hand it to a driver), its state and a call log. */
export interface SimulatedKernel {
  readonly access: KernelClockAccess;
  /** The live state (tests may read and change it). */
  readonly state: SimulatedKernelState;
  /** Every timex the drivers passed in, decoded, in call order. */
  readonly calls: TimexFields[];
  /**
   * Lets `trueSeconds` of true time pass: the clock advances by them · (1 + freq) (not with an
   * oscillator: that clock keeps its own time), and maxerror grows as the kernel's does.
   */
  advanceSeconds(trueSeconds: number): void;
  /**
   * The kernel's once-a-second leap check (kernel/time/ntp.c second_overflow), to be called as
   * CLOCK_REALTIME reaches each whole second: with STA_INS it steps the clock back one second as
   * midnight UTC is reached (23:59:59 repeats, tai + 1), with STA_DEL forward one as 23:59:59 is
   * reached (tai - 1). Returns the step it made, seconds (0, -1 or 1).
   */
  secondOverflow(): number;
}

/** Options for {@link createSimulatedKernel}. */
export interface SimulatedKernelOptions {
  /** Start time, Unix seconds; default 1_800_000_000 (2027-01-15). */
  readonly startUnixSeconds?: number;
  /** Whether the caller holds CAP_SYS_TIME (else every change fails with -EPERM); default true. */
  readonly holdsSysTime?: boolean;
  /** Overrides of the initial state (default: freq 0, STA_UNSYNC, errors 16 s, like a boot). */
  readonly initial?: Partial<Omit<SimulatedKernelState, "timeNanoseconds">>;
  /**
   * Where the time and the frequency live instead of `state.timeNanoseconds` and the kernel's
   * own rate: the simulation's one fake clock (tests/support/sim/sim_clock.ts), so a driver talks
   * timex to this kernel while the clock keeps its oscillator error and wander. CLOCK_REALTIME is
   * `oscillator.now()`, ADJ_SETOFFSET steps it, ADJ_FREQUENCY sets its correction, and
   * advanceSeconds() only grows maxerror.
   */
  readonly oscillator?: {
    now(): ClockReading;
    stepSeconds(offsetSeconds: number): void;
    setFrequencyPpm(freqPpm: number): number;
  };
}

const maxFreqScaled = 500 * 65536;
const errno = { EPERM: 1, EINVAL: 22 } as const;

/**
 * Creates a simulated kernel clock.
 *
 * @example
 * ```ts
 * const kernel = createSimulatedKernel({ holdsSysTime: true });
 * const clock = createKernelClock({ access: kernel.access });
 * clock.setFrequencyPpm(10);
 * kernel.state.freq; // 655360
 * ```
 */
export function createSimulatedKernel(options: SimulatedKernelOptions = {}): SimulatedKernel {
  const holdsSysTime = options.holdsSysTime ?? true;
  const state: SimulatedKernelState = {
    timeNanoseconds: BigInt(options.startUnixSeconds ?? 1_800_000_000) * 1_000_000_000n,
    freq: 0,
    status: Sta.UNSYNC,
    maxerror: 16_000_000,
    esterror: 16_000_000,
    constant: 2,
    tick: 10_000,
    tai: 0,
    offset: 0,
    timeState: TimeState.OK,
    ...options.initial,
  };
  const calls: TimexFields[] = [];

  const oscillator = options.oscillator;
  const readRealtime = (): ClockReading => {
    if (oscillator !== undefined) return oscillator.now();
    const seconds = state.timeNanoseconds / 1_000_000_000n;
    const remainder = state.timeNanoseconds - seconds * 1_000_000_000n;
    return remainder < 0n
      ? { unixSeconds: Number(seconds) - 1, nanoseconds: Number(remainder + 1_000_000_000n) }
      : { unixSeconds: Number(seconds), nanoseconds: Number(remainder) };
  };

  const adjtime = (bytes: Uint8Array): number => {
    const txc = decodeTimex(bytes);
    calls.push(txc);
    const modes = txc.modes;
    if (modes !== 0 && !holdsSysTime) return -errno.EPERM;
    if ((modes & Adj.SETOFFSET) !== 0) {
      const limit = (modes & Adj.NANO) !== 0 ? 1_000_000_000 : 1_000_000;
      if (txc.timeFraction < 0 || txc.timeFraction >= limit) return -errno.EINVAL;
      const unit = (modes & Adj.NANO) !== 0 ? 1n : 1000n;
      const stepNanoseconds = BigInt(txc.timeSeconds) * 1_000_000_000n +
        BigInt(txc.timeFraction) * unit;
      if (oscillator !== undefined) oscillator.stepSeconds(Number(stepNanoseconds) / 1e9);
      else state.timeNanoseconds += stepNanoseconds;
    }
    if ((modes & Adj.STATUS) !== 0) {
      state.status = (state.status & Sta.RONLY) | (txc.status & ~Sta.RONLY & 0xffff);
    }
    if ((modes & Adj.NANO) !== 0) state.status |= Sta.NANO;
    if ((modes & Adj.MICRO) !== 0) state.status &= ~Sta.NANO;
    if ((modes & Adj.FREQUENCY) !== 0) {
      state.freq = Math.min(maxFreqScaled, Math.max(-maxFreqScaled, txc.freq));
      oscillator?.setFrequencyPpm(state.freq / 65536);
    }
    if ((modes & Adj.MAXERROR) !== 0) state.maxerror = txc.maxerror;
    if ((modes & Adj.ESTERROR) !== 0) state.esterror = txc.esterror;
    if ((modes & Adj.TIMECONST) !== 0) state.constant = txc.constant;
    if ((modes & Adj.TAI) !== 0 && txc.constant >= 0) state.tai = txc.constant;
    if ((modes & Adj.OFFSET) !== 0 && (state.status & Sta.PLL) !== 0) state.offset = txc.offset;
    if ((modes & Adj.TICK) !== 0) state.tick = txc.tick;

    const now = readRealtime();
    const nano = (state.status & Sta.NANO) !== 0;
    bytes.set(encodeTimex({
      modes,
      offset: state.offset,
      freq: state.freq,
      maxerror: state.maxerror,
      esterror: state.esterror,
      status: state.status,
      constant: state.constant,
      precision: 1,
      tolerance: maxFreqScaled,
      timeSeconds: now.unixSeconds,
      timeFraction: nano ? now.nanoseconds : Math.floor(now.nanoseconds / 1000),
      tick: state.tick,
      tai: state.tai,
    }));
    if ((state.status & (Sta.UNSYNC | Sta.CLOCKERR)) !== 0) return TimeState.ERROR;
    if (state.timeState === TimeState.OOP || state.timeState === TimeState.WAIT) {
      return state.timeState;
    }
    if ((state.status & Sta.INS) !== 0) return TimeState.INS;
    if ((state.status & Sta.DEL) !== 0) return TimeState.DEL;
    return TimeState.OK;
  };

  const stepNanoseconds = (nanoseconds: bigint) => {
    if (oscillator !== undefined) oscillator.stepSeconds(Number(nanoseconds) / 1e9);
    else state.timeNanoseconds += nanoseconds;
  };
  const secondOverflow = (): number => {
    const seconds = readRealtime().unixSeconds;
    const inserting = (state.status & Sta.INS) !== 0;
    const deleting = (state.status & Sta.DEL) !== 0;
    switch (state.timeState) {
      case TimeState.OK:
        if (inserting) state.timeState = TimeState.INS;
        else if (deleting) state.timeState = TimeState.DEL;
        return 0;
      case TimeState.INS:
        if (!inserting) state.timeState = TimeState.OK;
        else if (seconds % 86_400 === 0) {
          stepNanoseconds(-1_000_000_000n);
          state.tai += 1;
          state.timeState = TimeState.OOP;
          return -1;
        }
        return 0;
      case TimeState.DEL:
        if (!deleting) state.timeState = TimeState.OK;
        else if ((seconds + 1) % 86_400 === 0) {
          stepNanoseconds(1_000_000_000n);
          state.tai -= 1;
          state.timeState = TimeState.WAIT;
          return 1;
        }
        return 0;
      case TimeState.OOP:
        state.timeState = TimeState.WAIT;
        return 0;
      default:
        if (!inserting && !deleting) state.timeState = TimeState.OK;
        return 0;
    }
  };

  return {
    access: { readRealtime, adjtime },
    state,
    calls,
    secondOverflow,
    advanceSeconds: (trueSeconds) => {
      const rate = 1 + state.freq / 65536 * 1e-6;
      if (oscillator === undefined) {
        state.timeNanoseconds += BigInt(Math.round(trueSeconds * rate * 1e9));
      }
      if ((state.status & Sta.UNSYNC) === 0) {
        // The kernel adds MAXFREQ (500 us/s) to maxerror and gives up at 16 s (NTP_PHASE_LIMIT).
        state.maxerror = Math.min(16_000_000, state.maxerror + Math.round(500 * trueSeconds));
        if (state.maxerror >= 16_000_000) state.status |= Sta.UNSYNC;
      }
    },
  };
}
