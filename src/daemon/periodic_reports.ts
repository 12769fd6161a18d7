// Owns the timer of the periodic log reports (traffic, frequency; hourly by default) and the traffic summary at exit.
import { log, type Logger } from "./logging.ts";
import {
  counterDelta,
  type CounterTotals,
  formatFrequencyReport,
  formatSpan,
  formatTrafficSummary,
} from "./report_lines.ts";

/** Where the reports read their numbers. */
export interface ReportSources {
  /** Counter totals since the start (the responders' counters()). */
  counters(): CounterTotals;
  /** The disciplined frequency (ppm, positive: clock sped up), or null while unsynchronised. */
  frequencyPpm(): number | null;
}

/** Options of {@link startPeriodicReports}. */
export interface PeriodicReportOptions {
  /** Seconds between reports (default 3600). */
  readonly intervalSeconds?: number;
  /** Monotonic seconds (default performance.now() / 1000). */
  readonly monotonicSeconds?: () => number;
  /** Default: log("report"). */
  readonly logger?: Logger;
}

/** The running reports. */
export interface PeriodicReports {
  /** Writes one report now (what the timer does). */
  reportNow(): void;
  /** Stops the timer and logs the traffic since the start; idempotent. */
  stop(): void;
}

/**
 * Logs, every `intervalSeconds`, the traffic of the interval and (when it moved) the frequency;
 * {@link PeriodicReports.stop} logs the totals since the start. The timer does not keep the
 * process alive.
 *
 * @example
 * ```ts
 * import type { Responders } from "../io/responders_types.ts";
 * declare const responders: Responders;
 * const reports = startPeriodicReports({
 *   counters: () => responders.counters(),
 *   frequencyPpm: () => null,
 * });
 * // ... on SIGTERM, before the responders close:
 * reports.stop();
 * ```
 */
export function startPeriodicReports(
  sources: ReportSources,
  options: PeriodicReportOptions = {},
): PeriodicReports {
  const logger = options.logger ?? log("report");
  const now = options.monotonicSeconds ?? (() => performance.now() / 1000);
  const intervalSeconds = options.intervalSeconds ?? 3600;
  const startedSeconds = now();
  let last = { atSeconds: startedSeconds, counters: sources.counters() as CounterTotals };
  let lastFrequency: { ppm: number; atSeconds: number } | null = null;
  let stopped = false;

  const reportNow = () => {
    const at = now();
    const counters = sources.counters();
    logger.info(
      formatTrafficSummary(counterDelta(counters, last.counters), {
        label: `in the last ${formatSpan(at - last.atSeconds)}`,
      }),
    );
    last = { atSeconds: at, counters };
    const freqPpm = sources.frequencyPpm();
    const line = formatFrequencyReport(freqPpm, {
      previousPpm: lastFrequency?.ppm ?? null,
      spanSeconds: at - (lastFrequency?.atSeconds ?? startedSeconds),
    });
    if (line !== null && freqPpm !== null) {
      logger.info(line);
      lastFrequency = { ppm: freqPpm, atSeconds: at };
    }
  };

  const timer = setInterval(reportNow, intervalSeconds * 1000);
  Deno.unrefTimer(timer);
  return {
    reportNow,
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      logger.info(
        formatTrafficSummary(sources.counters(), {
          label: `since the start (${formatSpan(now() - startedSeconds)})`,
        }),
      );
    },
  };
}
