// Log records and how they read: levels, and the line formats for a pipe or file ("plain"), a terminal ("color") and journald ("journal").

/** Severity, lowest first. */
export type LogLevel = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** The levels in order of severity. */
export const logLevels: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];

/** One thing logged. */
export interface LogRecord {
  /** ["ntp", "serve"], shown as "ntp·serve". */
  readonly category: readonly string[];
  readonly level: LogLevel;
  readonly message: string;
  /** Unix milliseconds. */
  readonly timestamp: number;
}

/**
 * Whether `level` is at least as severe as `threshold`.
 *
 * @example
 * ```ts
 * atLeast("warning", "info"); // true
 * atLeast("debug", "info"); // false
 * ```
 */
export function atLeast(level: LogLevel, threshold: LogLevel): boolean {
  return logLevels.indexOf(level) >= logLevels.indexOf(threshold);
}

/**
 * How lines on stderr look: "plain" text with a timestamp (a pipe or a file), "color" (the same
 * with ANSI colours, only on a terminal), or "journal" (no timestamp, a `<N>` syslog priority
 * prefix that journald turns into the entry's priority).
 */
export type StderrStyle = "plain" | "color" | "journal";

/** syslog(3) priority of each level, as journald reads it from a `<N>` line prefix. */
export const syslogPriority: Readonly<Record<LogLevel, number>> = Object.freeze({
  trace: 7,
  debug: 7,
  info: 6,
  warning: 4,
  error: 3,
  fatal: 2,
});

const levelTags: Readonly<Record<LogLevel, string>> = {
  trace: "TRC",
  debug: "DBG",
  info: "INF",
  warning: "WRN",
  error: "ERR",
  fatal: "FTL",
};

const levelColours: Readonly<Record<LogLevel, string>> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warning: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[1;31m",
};

/**
 * The message with every control character but newline and tab (C0, DEL and C1) shown as `\xNN`,
 * so a name or an answer from the network cannot colour or move the terminal (ANSI escapes start
 * with ESC, or with the 8-bit CSI U+009B).
 */
function sanitize(message: string): string {
  let out = "";
  for (const c of message) {
    const code = c.charCodeAt(0);
    // C0 (but newline and tab), DEL, and C1: U+009B is an 8-bit CSI to many terminals.
    const control = (code < 0x20 && c !== "\n" && c !== "\t") || (code >= 0x7f && code <= 0x9f);
    out += control ? `\\x${code.toString(16).padStart(2, "0")}` : c;
  }
  return out;
}

/** "2026-01-02 03:04:05.678 +00:00": UTC, to the millisecond. */
function timestampText(unixMs: number): string {
  const iso = new Date(unixMs).toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)} +00:00`;
}

/** A record to its text, ending in a newline. */
export type LineFormatter = (record: LogRecord) => string;

/**
 * The formatter of a stderr style or of the log file ("plain"): one record -> its text, ending in
 * a newline. "plain": `2026-01-02 03:04:05.678 +00:00 [INF] ntp·serve: message`.
 * "journal": `<6>ntp·serve: message`, every line of a multi-line message with its own prefix.
 *
 * @example
 * ```ts
 * const record = {
 *   category: ["ntp", "sync"],
 *   level: "warning",
 *   message: "127.0.0.1:123 is unreachable",
 *   timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
 * } as const;
 * lineFormatter("journal")(record); // "<4>ntp·sync: 127.0.0.1:123 is unreachable\n"
 * lineFormatter("plain")(record); // "2026-01-02 03:04:05.678 +00:00 [WRN] ntp·sync: 127.0.0.1:123 is unreachable\n"
 * ```
 */
export function lineFormatter(style: StderrStyle): LineFormatter {
  switch (style) {
    case "plain":
      return (record) =>
        `${timestampText(record.timestamp)} [${levelTags[record.level]}] ${
          record.category.join("·")
        }: ${sanitize(record.message)}\n`;
    case "color":
      return (record) =>
        `\x1b[2m${timestampText(record.timestamp)}\x1b[0m ${levelColours[record.level]}[${
          levelTags[record.level]
        }]\x1b[0m \x1b[2m${record.category.join("·")}:\x1b[0m ${sanitize(record.message)}\n`;
    case "journal":
      return (record) => {
        const prefix = `<${syslogPriority[record.level]}>`;
        const text = `${record.category.join("·")}: ${sanitize(record.message)}`;
        return text.split("\n").map((line) => `${prefix}${line}\n`).join("");
      };
  }
}
