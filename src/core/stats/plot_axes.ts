// Axes of the statistics plots: "nice" value ticks (1, 2, 5 x 10^n), UTC time ticks, and the unit (s, ms, µs) a set of seconds reads best in.

/** Ticks of a value axis and the range they span (the axis runs from `low` to `high`). */
export interface ValueTicks {
  readonly low: number;
  readonly high: number;
  /** Distance between ticks: 1, 2 or 5 times a power of ten. */
  readonly step: number;
  /** The tick values, from `low` to `high` inclusive. */
  readonly values: readonly number[];
  /** The tick labels, with as many decimals as the step needs. */
  readonly labels: readonly string[];
}

/** Values beyond this magnitude are drawn at it (so no range overflows a double). */
export const PLOT_VALUE_LIMIT = 1e15;

/**
 * Ticks for data from `min` to `max`: a step of 1, 2 or 5 x 10^n giving at most `maxTicks`
 * ticks (at least 3), and the axis widened to the multiples of the step around the data. A range
 * narrower than a millionth of its magnitude (or 1e-9) is widened around its middle, so a
 * constant series gets an axis too. Values are limited to ±{@link PLOT_VALUE_LIMIT}; NaN counts
 * as 0.
 *
 * @example
 * ```ts
 * niceTicks(-12.3, 45.6, 7).values; // [-20, 0, 20, 40, 60]
 * niceTicks(3, 3, 7).labels; // ["2.999998", "2.999999", "3.000000", "3.000001", "3.000002"]
 * ```
 */
export function niceTicks(min: number, max: number, maxTicks: number): ValueTicks {
  const [a, b] = [clampValue(min), clampValue(max)].map((v) => Number.isNaN(v) ? 0 : v) as [
    number,
    number,
  ];
  let low = Math.min(a, b);
  let high = Math.max(a, b);
  const magnitude = Math.max(Math.abs(low), Math.abs(high));
  const least = Math.max(magnitude * 1e-6, 1e-9);
  if (high - low < least) {
    const middle = low / 2 + high / 2;
    low = middle - least / 2;
    high = middle + least / 2;
  }
  // Two intervals at least: a step wider than the data then always fits.
  const intervals = Math.max(2, Math.floor(maxTicks) - 1);
  /** The multiples of `step` just outside the data (floating-point division may miss by one). */
  const bounds = (step: number): [number, number] => {
    let first = Math.floor(low / step);
    let last = Math.ceil(high / step);
    if (first * step > low + step * 1e-9) first--;
    if (last * step < high - step * 1e-9) last++;
    return [first, last];
  };
  let step = niceStepAtLeast((high - low) / intervals);
  let [first, last] = bounds(step);
  // Widening to whole steps can add an interval at each end: take the next step up if so.
  while (last - first > intervals) {
    step = niceStepAtLeast(step * 1.000001);
    [first, last] = bounds(step);
  }
  const values: number[] = [];
  for (let index = first; index <= last; index++) values.push(roundToStep(index * step, step));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return {
    // The data stays inside even when rounding the end ticks moved them by a hair.
    low: Math.min(values[0]!, low),
    high: Math.max(values[values.length - 1]!, high),
    step,
    values,
    labels: values.map((value) => numberLabel(value, decimals)),
  };
}

/**
 * The smallest of 1, 2, 5 x 10^n that is at least `minimum` (positive).
 *
 * @example
 * ```ts
 * niceStepAtLeast(0.013); // 0.02
 * niceStepAtLeast(3); // 5
 * ```
 */
export function niceStepAtLeast(minimum: number): number {
  const exponent = Math.floor(Math.log10(minimum));
  for (const exponentTry of [exponent - 1, exponent, exponent + 1]) {
    for (const mantissa of [1, 2, 5]) {
      const step = mantissa * 10 ** exponentTry;
      if (step >= minimum * (1 - 1e-12)) return roundToStep(step, step);
    }
  }
  return 10 ** (exponent + 1);
}

/** `value` without the binary noise of multiplying by a decimal step (0.30000000000000004). */
function roundToStep(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return decimals > 0 && decimals <= 100 ? Number(value.toFixed(decimals)) : value;
}

function numberLabel(value: number, decimals: number): string {
  if (Math.abs(value) >= 1e9) return value.toExponential(3).replace(/\.?0+e/, "e");
  const text = value.toFixed(Math.min(decimals, 20));
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** `value` limited to ±{@link PLOT_VALUE_LIMIT}. */
export function clampValue(value: number): number {
  return Math.min(PLOT_VALUE_LIMIT, Math.max(-PLOT_VALUE_LIMIT, value));
}

/** One tick of a time axis. */
export interface TimeTick {
  readonly unixSeconds: number;
  /** "HH:MM" (or "HH:MM:SS" for steps under a minute), UTC. */
  readonly label: string;
  /** "YYYY-MM-DD" under the first tick and under each tick on a new UTC day, when the window spans days; else null. */
  readonly dateLabel: string | null;
}

/** Steps of a time axis, seconds: round clock intervals from one second to a week. */
const TIME_STEPS_SECONDS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  10_800,
  21_600,
  43_200,
  86_400,
  172_800,
  604_800,
] as const;

/**
 * Ticks on round UTC times between `fromUnixSeconds` and `toUnixSeconds`: the smallest clock
 * step (1 s ... 1 week) giving at most `maxTicks`, labelled HH:MM in UTC, with the date under the
 * first tick and under every new day when the window is not within one UTC day.
 *
 * @example
 * ```ts
 * const ticks = timeTicks(Date.UTC(2026, 11, 6, 12) / 1000, Date.UTC(2026, 11, 7, 12) / 1000, 9);
 * ticks.map((tick) => tick.label); // ["12:00", "15:00", "18:00", "21:00", "00:00", ...]
 * ticks[0]!.dateLabel; // "2026-12-06"
 * ticks[4]!.dateLabel; // "2026-12-07"
 * ```
 */
export function timeTicks(
  fromUnixSeconds: number,
  toUnixSeconds: number,
  maxTicks: number,
): readonly TimeTick[] {
  if (!inDateRange(fromUnixSeconds) || !inDateRange(toUnixSeconds)) return [];
  const span = Math.max(toUnixSeconds - fromUnixSeconds, 1);
  const limit = Math.max(2, Math.floor(maxTicks));
  const fits = (step: number) => Math.floor(span / step) + 1 <= limit;
  let step: number = TIME_STEPS_SECONDS.find(fits) ?? 0;
  if (step === 0) {
    // Longer than about two months: whole weeks.
    step = 604_800 * Math.ceil(span / 604_800 / (limit - 1));
  }
  const spansDays = dayOf(fromUnixSeconds) !== dayOf(toUnixSeconds);
  const ticks: TimeTick[] = [];
  let previousDay: string | null = null;
  let first = Math.ceil(fromUnixSeconds / step) * step;
  if (first < fromUnixSeconds) first += step; // the division underflowed
  for (let tick = first; tick <= toUnixSeconds; tick += step) {
    const iso = isoText(tick);
    const day = iso.slice(0, 10);
    ticks.push({
      unixSeconds: tick,
      label: step < 60 ? iso.slice(11, 19) : iso.slice(11, 16),
      dateLabel: spansDays && day !== previousDay ? day : null,
    });
    previousDay = day;
  }
  return ticks;
}

/**
 * Unix seconds as "YYYY-MM-DD HH:MM" in UTC.
 *
 * @example
 * ```ts
 * utcMinuteText(Date.UTC(2026, 11, 7, 0, 48, 30) / 1000); // "2026-12-07 00:48"
 * ```
 */
export function utcMinuteText(unixSeconds: number): string {
  const iso = isoText(unixSeconds);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** Whether `new Date()` can show the time (JavaScript dates end 275,760 years from 1970). */
function inDateRange(unixSeconds: number): boolean {
  return Number.isFinite(unixSeconds) && Math.abs(unixSeconds) <= 8.64e12;
}

function dayOf(unixSeconds: number): string {
  return isoText(unixSeconds).slice(0, 10);
}

function isoText(unixSeconds: number): string {
  return new Date(Math.floor(unixSeconds) * 1000).toISOString();
}

/** A unit to show seconds in. */
export interface SecondsUnit {
  /** "s", "ms" or "µs". */
  readonly name: string;
  /** Display value = seconds x this. */
  readonly perSecond: number;
}

/**
 * The unit values in seconds read best in: µs when they are all under a millisecond, ms under a
 * second, else seconds (non-finite values are ignored; none at all: µs).
 *
 * @example
 * ```ts
 * secondsUnitFor([-12.3e-6, 45.6e-6]).name; // "µs"
 * secondsUnitFor([0.0021, -0.0004]); // { name: "ms", perSecond: 1000 }
 * ```
 */
export function secondsUnitFor(valuesSeconds: readonly number[]): SecondsUnit {
  let largest = 0;
  for (const value of valuesSeconds) {
    if (Number.isFinite(value)) largest = Math.max(largest, Math.abs(value));
  }
  if (largest < 1e-3) return { name: "µs", perSecond: 1e6 };
  if (largest < 1) return { name: "ms", perSecond: 1e3 };
  return { name: "s", perSecond: 1 };
}
