// Logging setup: LogTape to stderr (plain text, journald-friendly), one place for the categories.
import {
  configure,
  dispose,
  getLogger,
  getStreamSink,
  getTextFormatter,
  type Logger,
  type LogLevel,
} from "@logtape/logtape";

/** The levels `--log-level` accepts. */
export const logLevels: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];

/**
 * Configures logging once per process: text lines on stderr at `level` and above.
 * Values are rendered without quotes so lines read like chronyd's.
 */
export async function setupLogging(options: { level: LogLevel }): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      stderr: getStreamSink(Deno.stderr.writable, {
        formatter: getTextFormatter({
          value: (v: unknown) => typeof v === "string" ? v : Deno.inspect(v),
        }),
      }),
    },
    loggers: [
      { category: ["ntp"], lowestLevel: options.level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** Flushes and closes the log sinks; call before the process exits. */
export async function shutdownLogging(): Promise<void> {
  await dispose();
}

/** A logger under the `ntp` category, e.g. `log("serve")`. */
export function log(...category: string[]): Logger {
  return getLogger(["ntp", ...category]);
}
