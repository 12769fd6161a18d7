// ntpd's file generation sets (`filegen NAME type TYPE`): which file of a set a line written at a given time goes to.
//
// A set is the base name plus a suffix naming the period: loopstats.20261207 (day),
// loopstats.2026w50 (ISO week, as ntp classic; NTPsec 1.2 writes tm_yday % 7 there, which names a
// new file every day), loopstats.202612 (month), loopstats.2026 (year),
// loopstats.a00086400 (daemon age in whole days, as seconds), loopstats.#1234 (process id) or
// no suffix (none). A new suffix means a new file; dates are UTC.

/** The `type` values of ntpd's filegen. */
export const GENERATION_TYPES = ["none", "pid", "day", "week", "month", "year", "age"] as const;

/** One of {@link GENERATION_TYPES}. */
export type GenerationType = (typeof GENERATION_TYPES)[number];

/** What besides the time picks a generation. */
export interface GenerationContext {
  readonly pid: number;
  /** Seconds since the daemon started (for `age`). */
  readonly uptimeSeconds: number;
}

const pad = (value: number, width: number): string => String(value).padStart(width, "0");

/** ISO 8601 week-numbering year and week of a UTC date. */
function isoWeek(date: Date): { year: number; week: number } {
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(day + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const firstThursday = Date.UTC(year, 0, 1);
  const week = 1 + Math.floor((thursday.getTime() - firstThursday) / (7 * 86_400_000));
  return { year, week };
}

/**
 * The suffix (with its leading dot; "" for `none`) of the file a line written at `unixSeconds`
 * belongs to.
 *
 * @example
 * ```ts
 * const context = { pid: 1234, uptimeSeconds: 90_000 };
 * generationSuffix("day", 1_796_601_600, context); // ".20261207"
 * generationSuffix("week", 1_796_601_600, context); // ".2026w50"
 * generationSuffix("age", 1_796_601_600, context); // ".a00086400"
 * ```
 */
export function generationSuffix(
  type: GenerationType,
  unixSeconds: number,
  context: GenerationContext,
): string {
  const date = new Date(Math.floor(unixSeconds) * 1000);
  switch (type) {
    case "none":
      return "";
    case "pid":
      return `.#${context.pid}`;
    case "day":
      return `.${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}${
        pad(date.getUTCDate(), 2)
      }`;
    case "week": {
      const { year, week } = isoWeek(date);
      return `.${pad(year, 4)}w${pad(week, 2)}`;
    }
    case "month":
      return `.${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}`;
    case "year":
      return `.${pad(date.getUTCFullYear(), 4)}`;
    case "age": {
      const age = Math.max(0, Math.floor(context.uptimeSeconds));
      return `.a${pad(age - (age % 86_400), 8)}`;
    }
  }
}
