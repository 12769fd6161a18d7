// The eight-stage clock filter of RFC 5905 §10 (ntpd's clock_filter): lowest-delay sample, peer dispersion and jitter.
//
// Two deliberate differences from the RFC text, both for a faster start:
// - stages never filled are left out instead of counting as MAXDISP, so one good sample gives a
//   usable dispersion (ntpd needs four iburst samples, about 6 s, before a source is fit);
//   stages filled with "missing" entries (polls without an answer) still count as MAXDISP.
// - each sample remembers the discipline's cumulative phase adjustment (steps and slews) when it
//   was taken, and offsets are referred to the clock as it is now (sample offset + adjustment
//   then - adjustment now). After a step or a slew, old samples stay comparable, so nothing has
//   to be cleared (ntpd clears every filter after a step).
import {
  ALLAN_INTERCEPT_SECONDS,
  FILTER_STAGES,
  MAX_DISPERSION_SECONDS,
  PHI_SECONDS_PER_SECOND,
} from "./ntp_constants.ts";

/** One measurement (RFC 5905 §8) as the filter keeps it. */
export interface FilterSample {
  readonly kind: "sample";
  /** Clock offset, seconds; positive means the local clock is behind the server. */
  readonly offsetSeconds: number;
  /** Round-trip delay, seconds (>= the local precision). */
  readonly delaySeconds: number;
  /** Dispersion when measured (precisions + PHI * round trip), seconds. */
  readonly dispersionSeconds: number;
  /** Monotonic time of the reply's arrival, seconds. */
  readonly monotonicSeconds: number;
  /** The discipline's cumulative phase adjustment (steps and slews) at arrival, seconds. */
  readonly adjustmentSeconds: number;
}

/** A poll that got no answer within three polls: an empty stage of MAXDISP. */
export interface FilterMissing {
  readonly kind: "missing";
  readonly monotonicSeconds: number;
}

/** One stage of the filter register. */
export type FilterEntry = FilterSample | FilterMissing;

/** The filter register, newest entry first, at most {@link FILTER_STAGES} entries. */
export interface ClockFilter {
  readonly entries: readonly FilterEntry[];
}

/** The filter's verdict on the current register. */
export interface FilterOutput {
  /** Offset of the chosen sample referred to the clock now, seconds (positive: local clock behind). */
  readonly offsetSeconds: number;
  /** Delay of the chosen sample, seconds. */
  readonly delaySeconds: number;
  /**
   * Peer dispersion: sum of stage dispersion / 2^(i+1) in sorted order, each stage aged to the
   * newest entry's time ({@link FilterOutput.updateMonotonicSeconds}), seconds.
   */
  readonly dispersionSeconds: number;
  /** Monotonic time of the newest entry (RFC 5905's p.t), seconds; root distance ages from here. */
  readonly updateMonotonicSeconds: number;
  /** RMS difference of the other samples' offsets from the chosen one, seconds (>= precision). */
  readonly jitterSeconds: number;
  /** Monotonic time of the chosen sample, seconds. */
  readonly epochMonotonicSeconds: number;
  /** Smallest delay of any sample in the register, seconds. */
  readonly minDelaySeconds: number;
  /** Number of real samples in the register (1..8). */
  readonly validSamples: number;
}

/** The filter before any poll. */
export const emptyClockFilter: ClockFilter = Object.freeze({ entries: Object.freeze([]) });

/**
 * Shifts `entry` into the register, dropping the oldest beyond eight.
 *
 * @example
 * ```ts
 * const filter = pushFilterEntry(emptyClockFilter, { kind: "missing", monotonicSeconds: 64 });
 * ```
 */
export function pushFilterEntry(filter: ClockFilter, entry: FilterEntry): ClockFilter {
  return { entries: [entry, ...filter.entries].slice(0, FILTER_STAGES) };
}

function agedDispersion(entry: FilterEntry, nowSeconds: number): number {
  if (entry.kind === "missing") return MAX_DISPERSION_SECONDS;
  const aged = entry.dispersionSeconds +
    PHI_SECONDS_PER_SECOND * Math.max(0, nowSeconds - entry.monotonicSeconds);
  return Math.min(aged, MAX_DISPERSION_SECONDS);
}

function sortKey(entry: FilterEntry, nowSeconds: number): number {
  if (entry.kind === "missing") return MAX_DISPERSION_SECONDS;
  const dispersion = agedDispersion(entry, nowSeconds);
  if (dispersion >= MAX_DISPERSION_SECONDS) return MAX_DISPERSION_SECONDS;
  if (nowSeconds - entry.monotonicSeconds > ALLAN_INTERCEPT_SECONDS) {
    return entry.delaySeconds + dispersion;
  }
  return entry.delaySeconds;
}

/**
 * Evaluates the register at `monotonicSeconds`: sorts the stages by delay (samples older than the
 * Allan intercept by delay plus dispersion, missing ones last), picks the first real sample, and
 * computes the peer dispersion (sum of dispersion_i / 2^(i+1)) and jitter. Returns null when the
 * register holds no real sample.
 *
 * @param options.adjustmentSeconds The discipline's cumulative phase adjustment now (see file header).
 * @param options.precisionLog2 Local clock precision, the floor of the jitter.
 * @example
 * ```ts
 * import type { ClockFilter } from "./clock_filter.ts";
 * declare const filter: ClockFilter;
 * const out = evaluateFilter(filter, { monotonicSeconds: 100, adjustmentSeconds: 0, precisionLog2: -20 });
 * ```
 */
export function evaluateFilter(
  filter: ClockFilter,
  options: {
    readonly monotonicSeconds: number;
    readonly adjustmentSeconds: number;
    readonly precisionLog2: number;
  },
): FilterOutput | null {
  const now = options.monotonicSeconds;
  const sorted = filter.entries
    .map((entry, index) => ({ entry, index, key: sortKey(entry, now) }))
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map((item) => item.entry);
  const samples = sorted.filter((entry): entry is FilterSample => entry.kind === "sample");
  const best = samples[0];
  if (best === undefined) return null;

  const updateSeconds = filter.entries[0]?.monotonicSeconds ?? now;
  let dispersion = 0;
  sorted.forEach((entry, i) => {
    dispersion += agedDispersion(entry, updateSeconds) / Math.pow(2, i + 1);
  });
  const referred = (sample: FilterSample) =>
    sample.offsetSeconds + sample.adjustmentSeconds - options.adjustmentSeconds;
  const bestOffset = referred(best);
  let squares = 0;
  for (const sample of samples.slice(1)) squares += (referred(sample) - bestOffset) ** 2;
  const precisionSeconds = Math.pow(2, options.precisionLog2);
  const jitter = samples.length > 1 ? Math.sqrt(squares / (samples.length - 1)) : 0;
  return {
    offsetSeconds: bestOffset,
    delaySeconds: best.delaySeconds,
    dispersionSeconds: Math.min(dispersion, MAX_DISPERSION_SECONDS),
    updateMonotonicSeconds: updateSeconds,
    jitterSeconds: Math.max(jitter, precisionSeconds),
    epochMonotonicSeconds: best.monotonicSeconds,
    minDelaySeconds: Math.min(...samples.map((s) => s.delaySeconds)),
    validSamples: samples.length,
  };
}

/** The filter register as ntpq's filtdelay/filtoffset/filtdisp show it, newest first, seconds. */
export interface FilterRegisters {
  readonly delaySeconds: readonly number[];
  /** Offsets as measured (not referred to the current clock). */
  readonly offsetSeconds: readonly number[];
  /** Dispersions aged to now; MAXDISP for missing stages. */
  readonly dispersionSeconds: readonly number[];
}

/**
 * The register's stages for display, newest first (missing stages show delay 0, offset 0 and
 * dispersion MAXDISP, as ntpd's do).
 *
 * @example
 * ```ts
 * import type { ClockFilter } from "./clock_filter.ts";
 * declare const filter: ClockFilter;
 * const { delaySeconds } = filterRegisters(filter, { monotonicSeconds: 100 });
 * ```
 */
export function filterRegisters(
  filter: ClockFilter,
  options: { readonly monotonicSeconds: number },
): FilterRegisters {
  return {
    delaySeconds: filter.entries.map((e) => (e.kind === "sample" ? e.delaySeconds : 0)),
    offsetSeconds: filter.entries.map((e) => (e.kind === "sample" ? e.offsetSeconds : 0)),
    dispersionSeconds: filter.entries.map((e) => agedDispersion(e, options.monotonicSeconds)),
  };
}
