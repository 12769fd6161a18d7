// Pure text of the periodic log reports: the server's traffic (served, dropped by reason, KoD sent) and the frequency.

/** Counter totals as the responders report them (names of core/server/counters.ts plus io*). */
export type CounterTotals = Readonly<Record<string, number>>;

/** Drop counters, in the order reasons are listed, with the words used in the log. */
const dropReasons: readonly (readonly [counter: string, words: string])[] = [
  ["dropRateLimited", "rate limited"],
  ["dropRestricted", "restricted"],
  ["dropControlDenied", "control denied"],
  ["dropTooShort", "too short"],
  ["dropBadLength", "bad length"],
  ["dropBadVersion", "bad version"],
  ["dropBadMode", "bad mode"],
  ["dropMode7", "mode 7"],
  ["dropMalformedExtension", "malformed extension"],
  ["dropBadPort", "bad source port"],
];

/** I/O problems worth a mention when non-zero. */
const ioProblems: readonly (readonly [counter: string, words: string])[] = [
  ["ioReceiveErrors", "receive errors"],
  ["ioSendErrors", "send errors"],
  ["ioTruncated", "truncated"],
  ["ioHandlerErrors", "handler errors"],
];

/** `current - previous` per counter (counters only grow; a missing one counts as 0). */
export function counterDelta(current: CounterTotals, previous: CounterTotals): CounterTotals {
  const delta: Record<string, number> = {};
  for (const [name, value] of Object.entries(current)) delta[name] = value - (previous[name] ?? 0);
  return delta;
}

/** Seconds as "3600 s" below two hours, else "5 h 3 min"; for report headings. */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 7200) return `${s} s`;
  const hours = Math.floor(s / 3600);
  if (hours >= 48) return `${Math.floor(hours / 24)} d ${hours % 24} h`;
  return `${hours} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * One line of traffic numbers: received, served, dropped (with the non-zero reasons), KoD sent,
 * control requests, and I/O problems when there were any. `label` says which span it covers.
 *
 * @example
 * ```ts
 * formatTrafficSummary({ received: 12, served: 10, dropRateLimited: 2, kodSent: 1 }, { label: "in the last 3600 s" });
 * // "traffic in the last 3600 s: received 12, served 10, dropped 2 (rate limited 2), KoD sent 1, control requests 0"
 * ```
 */
export function formatTrafficSummary(counters: CounterTotals, options: { label: string }): string {
  const n = (name: string) => counters[name] ?? 0;
  const reasons = dropReasons.filter(([name]) => n(name) > 0);
  const dropped = dropReasons.reduce((sum, [name]) => sum + n(name), 0);
  const why = reasons.length === 0
    ? ""
    : ` (${reasons.map(([name, words]) => `${words} ${n(name)}`).join(", ")})`;
  const io = ioProblems.filter(([name]) => n(name) > 0);
  const ioText = io.length === 0
    ? ""
    : `; I/O ${io.map(([name, words]) => `${words} ${n(name)}`).join(", ")}`;
  return `traffic ${options.label}: received ${n("received")}, served ${
    n("served")
  }, dropped ${dropped}${why}, KoD sent ${n("kodSent")}, control requests ${n("control")}${ioText}`;
}

/** Frequency changes smaller than this (ppm) are not reported. */
export const frequencyReportThresholdPpm = 0.001;

/**
 * The frequency report line, or null when there is nothing to say: the clock is not disciplined
 * (`freqPpm` null) or the frequency moved less than {@link frequencyReportThresholdPpm} since the
 * last report (`previousPpm`, null before the first one). Positive ppm: the clock is sped up.
 *
 * @example
 * ```ts
 * formatFrequencyReport(12.3456, { previousPpm: 12.3, spanSeconds: 3600 });
 * // "frequency 12.346 ppm (+0.046 ppm in the last 3600 s)"
 * ```
 */
export function formatFrequencyReport(
  freqPpm: number | null,
  options: { previousPpm: number | null; spanSeconds: number },
): string | null {
  if (freqPpm === null || !Number.isFinite(freqPpm)) return null;
  const { previousPpm } = options;
  if (previousPpm === null) return `frequency ${freqPpm.toFixed(3)} ppm`;
  const change = freqPpm - previousPpm;
  if (Math.abs(change) < frequencyReportThresholdPpm) return null;
  return `frequency ${freqPpm.toFixed(3)} ppm (${change >= 0 ? "+" : ""}${
    change.toFixed(3)
  } ppm in the last ${formatSpan(options.spanSeconds)})`;
}
