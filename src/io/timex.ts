// Encodes and decodes Linux `struct timex` (adjtimex / clock_adjtime) bytes for LP64 (x86_64, aarch64); pure.
//
// Layout (208 bytes, little-endian, `long` = 8 bytes; checked with offsetof() on x86_64 glibc):
//   0 modes (u32, 4 bytes padding)   8 offset     16 freq        24 maxerror    32 esterror
//  40 status (i32, 4 bytes padding) 48 constant  56 precision   64 tolerance
//  72 time.tv_sec                   80 time.tv_usec (nanoseconds when ADJ_NANO / STA_NANO)
//  88 tick   96 ppsfreq  104 jitter  112 shift (i32, 4 padding)  120 stabil  128 jitcnt
// 136 calcnt 144 errcnt  152 stbcnt  160 tai (i32)  164..207 eleven padding ints (zero)
// aarch64 uses the same generic LP64 layout. Units: freq, ppsfreq and stabil are ppm scaled by
// 2^16; maxerror and esterror are microseconds; offset is ns with STA_NANO, else us.

/** `modes` bits (linux/timex.h). */
export const Adj = {
  OFFSET: 0x0001,
  FREQUENCY: 0x0002,
  MAXERROR: 0x0004,
  ESTERROR: 0x0008,
  STATUS: 0x0010,
  TIMECONST: 0x0020,
  TAI: 0x0080,
  SETOFFSET: 0x0100,
  MICRO: 0x1000,
  NANO: 0x2000,
  TICK: 0x4000,
} as const;

/** `status` bits (linux/timex.h). */
export const Sta = {
  PLL: 0x0001,
  PPSFREQ: 0x0002,
  PPSTIME: 0x0004,
  FLL: 0x0008,
  INS: 0x0010,
  DEL: 0x0020,
  UNSYNC: 0x0040,
  FREQHOLD: 0x0080,
  PPSSIGNAL: 0x0100,
  PPSJITTER: 0x0200,
  PPSWANDER: 0x0400,
  PPSERROR: 0x0800,
  CLOCKERR: 0x1000,
  NANO: 0x2000,
  MODE: 0x4000,
  CLK: 0x8000,
  /** The read-only bits: a status write keeps these and replaces all others. */
  RONLY: 0xff00,
} as const;

/** Clock states returned by adjtimex (linux/timex.h TIME_*). */
export const TimeState = { OK: 0, INS: 1, DEL: 2, OOP: 3, WAIT: 4, ERROR: 5 } as const;

/** Byte size and field offsets of struct timex on LP64 Linux. */
export const TimexLayout = {
  bytes: 208,
  modes: 0,
  offset: 8,
  freq: 16,
  maxerror: 24,
  esterror: 32,
  status: 40,
  constant: 48,
  precision: 56,
  tolerance: 64,
  timeSeconds: 72,
  timeFraction: 80,
  tick: 88,
  ppsfreq: 96,
  jitter: 104,
  shift: 112,
  stabil: 120,
  jitcnt: 128,
  calcnt: 136,
  errcnt: 144,
  stbcnt: 152,
  tai: 160,
} as const;

/** The largest frequency correction the kernel accepts, ppm (MAXFREQ). */
export const maxKernelFreqPpm = 500;

/** The largest maxerror/esterror the kernel keeps before it declares the clock unsynchronised, s. */
export const maxKernelErrorSeconds = 16;

/**
 * The fields of struct timex, in the kernel's raw units (see the file header). Fields not given
 * to {@link encodeTimex} are zero.
 */
export interface TimexFields {
  readonly modes: number;
  readonly offset: number;
  /** ppm · 2^16. */
  readonly freq: number;
  /** Microseconds. */
  readonly maxerror: number;
  /** Microseconds. */
  readonly esterror: number;
  readonly status: number;
  readonly constant: number;
  readonly precision: number;
  readonly tolerance: number;
  readonly timeSeconds: number;
  /** Microseconds, or nanoseconds with ADJ_NANO (write) / STA_NANO (read). */
  readonly timeFraction: number;
  readonly tick: number;
  readonly ppsfreq: number;
  readonly jitter: number;
  readonly shift: number;
  readonly stabil: number;
  readonly jitcnt: number;
  readonly calcnt: number;
  readonly errcnt: number;
  readonly stbcnt: number;
  readonly tai: number;
}

const longFields = [
  "offset",
  "freq",
  "maxerror",
  "esterror",
  "constant",
  "precision",
  "tolerance",
  "timeSeconds",
  "timeFraction",
  "tick",
  "ppsfreq",
  "jitter",
  "stabil",
  "jitcnt",
  "calcnt",
  "errcnt",
  "stbcnt",
] as const;

const intFields = ["status", "shift", "tai"] as const;

/**
 * Builds the 208 bytes of a struct timex from `fields` (missing fields are zero). Throws
 * RangeError when a value is not an integer or does not fit its C type.
 *
 * @example
 * ```ts
 * const bytes = encodeTimex({ modes: Adj.FREQUENCY, freq: ppmToTimexFreq(12.5) });
 * ```
 */
export function encodeTimex(fields: Partial<TimexFields>): Uint8Array {
  const bytes = new Uint8Array(TimexLayout.bytes);
  const view = new DataView(bytes.buffer);
  const modes = fields.modes ?? 0;
  if (!Number.isInteger(modes) || modes < 0 || modes > 0xffff_ffff) {
    throw new RangeError(`Cannot encode timex modes ${modes}: not a 32-bit unsigned integer`);
  }
  view.setUint32(TimexLayout.modes, modes, true);
  for (const name of longFields) {
    const value = fields[name] ?? 0;
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`Cannot encode timex ${name} ${value}: not a safe integer`);
    }
    view.setBigInt64(TimexLayout[name], BigInt(value), true);
  }
  for (const name of intFields) {
    const value = fields[name] ?? 0;
    if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
      throw new RangeError(`Cannot encode timex ${name} ${value}: not a 32-bit signed integer`);
    }
    view.setInt32(TimexLayout[name], value, true);
  }
  return bytes;
}

/**
 * Reads every field of a struct timex (as returned by the kernel). Throws RangeError when the
 * buffer is shorter than 208 bytes.
 *
 * @example
 * ```ts
 * import { libcKernelClockAccess } from "./kernel_clock_access.ts";
 * const bytes = encodeTimex({}); // modes 0: read only; the kernel fills it in
 * libcKernelClockAccess().adjtime(bytes);
 * const { freq, status } = decodeTimex(bytes);
 * const freqPpm = timexFreqToPpm(freq);
 * ```
 */
export function decodeTimex(bytes: Uint8Array): TimexFields {
  if (bytes.length < TimexLayout.bytes) {
    throw new RangeError(
      `Cannot decode struct timex: ${bytes.length} bytes, expected ${TimexLayout.bytes}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, TimexLayout.bytes);
  const long = (offset: number) => Number(view.getBigInt64(offset, true));
  const int = (offset: number) => view.getInt32(offset, true);
  return {
    modes: view.getUint32(TimexLayout.modes, true),
    offset: long(TimexLayout.offset),
    freq: long(TimexLayout.freq),
    maxerror: long(TimexLayout.maxerror),
    esterror: long(TimexLayout.esterror),
    status: int(TimexLayout.status),
    constant: long(TimexLayout.constant),
    precision: long(TimexLayout.precision),
    tolerance: long(TimexLayout.tolerance),
    timeSeconds: long(TimexLayout.timeSeconds),
    timeFraction: long(TimexLayout.timeFraction),
    tick: long(TimexLayout.tick),
    ppsfreq: long(TimexLayout.ppsfreq),
    jitter: long(TimexLayout.jitter),
    shift: int(TimexLayout.shift),
    stabil: long(TimexLayout.stabil),
    jitcnt: long(TimexLayout.jitcnt),
    calcnt: long(TimexLayout.calcnt),
    errcnt: long(TimexLayout.errcnt),
    stbcnt: long(TimexLayout.stbcnt),
    tai: int(TimexLayout.tai),
  };
}

/** ppm to the kernel's scaled frequency (ppm · 2^16), rounded to the nearest unit. */
export function ppmToTimexFreq(freqPpm: number): number {
  return Math.round(freqPpm * 65536);
}

/** The kernel's scaled frequency (ppm · 2^16) to ppm. */
export function timexFreqToPpm(freq: number): number {
  return freq / 65536;
}

/**
 * Splits a step of `offsetSeconds` into the (seconds, nanoseconds) pair ADJ_SETOFFSET | ADJ_NANO
 * expects: nanoseconds always in 0..999 999 999 (the kernel rejects others with EINVAL), so
 * -0.25 s becomes (-1 s, 750 000 000 ns).
 *
 * @example
 * ```ts
 * splitStepSeconds(-0.25); // { seconds: -1, nanoseconds: 750_000_000 }
 * ```
 */
export function splitStepSeconds(offsetSeconds: number): { seconds: number; nanoseconds: number } {
  if (!Number.isFinite(offsetSeconds)) {
    throw new RangeError(`Cannot step the clock by ${offsetSeconds} s: not a finite number`);
  }
  let seconds = Math.floor(offsetSeconds);
  let nanoseconds = Math.round((offsetSeconds - seconds) * 1e9);
  if (nanoseconds >= 1e9) {
    seconds += 1;
    nanoseconds -= 1e9;
  }
  return { seconds, nanoseconds };
}
