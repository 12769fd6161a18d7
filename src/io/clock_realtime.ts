// Reads the kernel's wall clock (CLOCK_REALTIME) with nanosecond resolution via FFI, or from Date.now().
import { Const, ffiPermitted, openLibc } from "./libc.ts";

/** A wall-clock reading: whole seconds since 1970-01-01 UTC plus 0..999 999 999 nanoseconds. */
export interface RealtimeReading {
  readonly unixSeconds: number;
  readonly nanoseconds: number;
}

/** Where wall-clock readings come from: the kernel via FFI (ns) or Date.now() (1 ms steps). */
export type RealtimeSourceKind = "clock_gettime" | "date";

const timespec = new Uint32Array(4);
let clockGettime: ((clockId: number, out: Uint32Array) => number) | undefined;

function gettime(clockId: number): void {
  if (clockGettime === undefined) {
    const libc = openLibc();
    clockGettime = (id, out) => libc.symbols.clock_gettime(id, out);
  }
  if (clockGettime(clockId, timespec) !== 0) {
    throw new Error(`clock_gettime(${clockId}) failed: errno ${openLibc().errno()}`);
  }
}

/**
 * Reads CLOCK_REALTIME through libc clock_gettime (~30-120 ns a call, nanosecond resolution).
 * Needs --allow-ffi. Follows clock steps and slews, as timestamps on the wire must.
 *
 * @example
 * ```ts
 * const { unixSeconds, nanoseconds } = readRealtime();
 * ```
 */
export function readRealtime(): RealtimeReading {
  gettime(Const.CLOCK_REALTIME);
  // tv_sec is int64 (low word first), tv_nsec < 1e9 fits the low word.
  return {
    unixSeconds: timespec[0]! + (timespec[1]! | 0) * 0x1_0000_0000,
    nanoseconds: timespec[2]!,
  };
}

/**
 * Reads CLOCK_MONOTONIC through libc in seconds (arbitrary origin, never steps). For rate
 * limiting and intervals, never for timestamps on the wire.
 */
export function readMonotonicSeconds(): number {
  gettime(Const.CLOCK_MONOTONIC);
  return timespec[0]! + (timespec[1]! | 0) * 0x1_0000_0000 + timespec[2]! * 1e-9;
}

/**
 * The portable fallback when FFI is not allowed: Date.now(), so the resolution is 1 ms
 * (precision 2^-10 s) and the nanoseconds are always whole milliseconds. Still the wall clock
 * (it follows steps), unlike performance.now().
 */
export function readRealtimeFromDate(): RealtimeReading {
  const milliseconds = Date.now();
  const unixSeconds = Math.floor(milliseconds / 1000);
  return { unixSeconds, nanoseconds: (milliseconds - unixSeconds * 1000) * 1_000_000 };
}

/** Which wall-clock source this process can use: FFI when permitted and libc loads, else Date. */
export function realtimeSourceKind(): RealtimeSourceKind {
  if (!ffiPermitted()) return "date";
  try {
    readRealtime();
    return "clock_gettime";
  } catch {
    return "date";
  }
}

/** The best available wall-clock reader (see {@link realtimeSourceKind}). */
export function chooseRealtimeReader(): () => RealtimeReading {
  return realtimeSourceKind() === "clock_gettime" ? readRealtime : readRealtimeFromDate;
}

/** Options for {@link measurePrecisionLog2}. */
export interface PrecisionOptions {
  /** The clock to measure; default the best available reader. */
  readonly read?: () => RealtimeReading;
}

const warmUpReads = 100_000;

/**
 * Measures the clock's reading precision as ntpd does: the smallest difference above 20 ns
 * between successive readings, as a power of two rounded the ntpd way. Unlike ntpd, which stops
 * after 12 differences, it warms up with 100 000 reads (the first few thousand FFI calls run
 * unoptimised) and then takes the minimum over 200 000 differences or 20 ms (at least 12), so the
 * result is stable. Typical results: -25 with clock_gettime (~30 ns a read), -10 with
 * Date.now(). Takes 5-25 ms.
 *
 * @example
 * ```ts
 * const precisionLog2 = measurePrecisionLog2(); // e.g. -23
 * ```
 */
export function measurePrecisionLog2(options: PrecisionOptions = {}): number {
  const read = options.read ?? chooseRealtimeReader();
  const minimumStepSeconds = 20e-9;
  const minimumChanges = 12;
  const wantedChanges = 200_000;
  const budgetSeconds = 0.02;
  const maximumLoops = 50_000_000;
  // Warm up first: the first few thousand FFI calls run unoptimised and take ~0.5-10 us.
  for (let loop = 0; loop < warmUpReads; loop++) read();
  let tickSeconds = 1;
  let changes = 0;
  const first = read();
  let last = first;
  for (let loop = 0; changes < wantedChanges && loop < maximumLoops; loop++) {
    const now = read();
    const differenceSeconds = (now.unixSeconds - last.unixSeconds) +
      (now.nanoseconds - last.nanoseconds) * 1e-9;
    last = now;
    if (differenceSeconds > minimumStepSeconds) {
      if (differenceSeconds < tickSeconds) tickSeconds = differenceSeconds;
      changes++;
      const elapsedSeconds = (now.unixSeconds - first.unixSeconds) +
        (now.nanoseconds - first.nanoseconds) * 1e-9;
      if (changes >= minimumChanges && elapsedSeconds > budgetSeconds) break;
    }
  }
  let log2 = 0;
  while (tickSeconds <= 1) {
    tickSeconds *= 2;
    log2--;
  }
  if (tickSeconds - 1 > 1 - tickSeconds / 2) log2++;
  return log2;
}
