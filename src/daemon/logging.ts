// Logging setup: LogTape to stderr (plain, coloured on a terminal, or journald's "<N>" prefixes) and to the rotating log file; one place for the categories.
import {
  compareLogLevel,
  configure,
  dispose,
  getAnsiColorFormatter,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogLevel,
  type LogRecord,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { getRotatingFileSink } from "@logtape/file";
import { stderrIdentity } from "../io/stderr_identity.ts";

/**
 * How lines on stderr look: "plain" text with a timestamp (a pipe or a file), "color" (the same
 * with ANSI colours, only on a terminal), or "journal" (no timestamp, a `<N>` syslog priority
 * prefix that journald turns into the entry's priority).
 */
export type StderrStyle = "plain" | "color" | "journal";

/** What {@link chooseStderrStyle} decides from; gathered by {@link detectStderrStyle}. */
export interface StderrFacts {
  /** `Deno.stderr.isTerminal()`. */
  readonly isTerminal: boolean;
  /** NO_COLOR is set (`Deno.noColor`). */
  readonly noColor: boolean;
  /** The JOURNAL_STREAM variable ("DEVICE:INODE"), which systemd sets when stderr is the journal. */
  readonly journalStream: string | undefined;
  /** Device and inode of the process's stderr, or null when unknown. */
  readonly stderrIdentity: { readonly dev: number; readonly ino: number } | null;
}

/**
 * Picks the stderr style: "journal" when JOURNAL_STREAM names our own stderr (a child whose
 * stderr was redirected inherits the variable but not the stream), else "color" on a terminal
 * without NO_COLOR, else "plain". Never colours a pipe or a file.
 *
 * @example
 * ```ts
 * chooseStderrStyle({ isTerminal: false, noColor: false, journalStream: undefined, stderrIdentity: null }); // "plain"
 * ```
 */
export function chooseStderrStyle(facts: StderrFacts): StderrStyle {
  const id = facts.stderrIdentity;
  if (facts.journalStream !== undefined && id !== null) {
    if (facts.journalStream.trim() === `${id.dev}:${id.ino}`) return "journal";
  }
  return facts.isTerminal && !facts.noColor ? "color" : "plain";
}

/** Looks at this process's stderr and environment and returns {@link chooseStderrStyle}'s pick. */
export function detectStderrStyle(): StderrStyle {
  let journalStream: string | undefined;
  try {
    journalStream = Deno.env.get("JOURNAL_STREAM");
  } catch {
    journalStream = undefined; // no --allow-env: not under systemd as far as we can tell
  }
  return chooseStderrStyle({
    isTerminal: Deno.stderr.isTerminal(),
    noColor: Deno.noColor,
    journalStream,
    stderrIdentity: journalStream === undefined ? null : stderrIdentity(),
  });
}

/** syslog(3) priority of each level, as journald reads it from a `<N>` line prefix. */
export const syslogPriority: Readonly<Record<LogLevel, number>> = Object.freeze({
  trace: 7,
  debug: 7,
  info: 6,
  warning: 4,
  error: 3,
  fatal: 2,
});

/** Values inside messages are rendered without quotes, so lines read like chronyd's. */
const renderValue = (v: unknown): string => typeof v === "string" ? v : Deno.inspect(v);

/** Control characters and ANSI escapes inside messages are escaped; newlines are kept. */
const noEscapes = { sgr: "escape", newlines: "preserve" } as const;

/**
 * The formatter of a stderr style or of the log file ("plain"): one record -> its text, ending in
 * a newline. "plain": `2026-01-02 03:04:05.678 +00:00 [INF] ntp·serve: message`.
 * "journal": `<6>ntp·serve: message`, every line of a multi-line message with its own prefix.
 *
 * @example
 * ```ts
 * const line = lineFormatter("journal")(record); // "<4>ntp·sync: 127.0.0.1:123 is unreachable..."
 * ```
 */
export function lineFormatter(style: StderrStyle): TextFormatter {
  switch (style) {
    case "plain":
      return getTextFormatter({ value: renderValue, sanitize: noEscapes });
    case "color":
      return getAnsiColorFormatter({ value: renderValue, sanitize: noEscapes });
    case "journal": {
      const bare = getTextFormatter({
        value: renderValue,
        sanitize: noEscapes,
        timestamp: "none",
        format: ({ category, message }) => `${category}: ${message}`,
      });
      return (record: LogRecord) => {
        const prefix = `<${syslogPriority[record.level]}>`;
        return bare(record).replace(/\n$/, "").split("\n").map((l) => `${prefix}${l}\n`).join("");
      };
    }
  }
}

/** Where stderr lines go; Deno.stderr unless a test captures them. */
export interface LineWriter {
  writeSync(bytes: Uint8Array): number;
}

/** A sink writing each record synchronously (nothing is lost when the process dies). */
function writerSink(writer: LineWriter, formatter: TextFormatter): Sink {
  const encoder = new TextEncoder();
  return (record: LogRecord) => {
    let bytes = encoder.encode(formatter(record));
    while (bytes.length > 0) bytes = bytes.subarray(writer.writeSync(bytes));
  };
}

/** Size and count of the log file and its rotated copies (FILE.1 ... FILE.N). */
export interface LogFileRotation {
  /** Rotate when the file would grow past this many bytes (default 10 MiB). */
  readonly maxBytes?: number;
  /** Rotated copies kept besides the current file (default 5: FILE.1 ... FILE.5; .1 is newest). */
  readonly maxFiles?: number;
}

/** Records logged before the log file is known are kept (at most this many) and then written to it. */
const earlyRecordLimit = 1000;

/**
 * The file sink slot: until {@link attachLogFile} it keeps records in memory, so what is logged
 * while the config is read (its warnings) still reaches the configured file.
 */
interface FileSlot {
  target: (Sink & Disposable) | null;
  early: LogRecord[] | null;
  /** Where a write failure is reported (the stderr sink). */
  readonly report: Sink;
}

let fileSlot: FileSlot = { target: null, early: null, report: () => {} };

/**
 * Forwards records to the slot's file, or keeps them until it is attached. When a write fails
 * (disk full, file removed with its directory) the file is given up with one warning on stderr,
 * rather than a failure report for every later record.
 */
function fileSlotSink(slot: FileSlot): Sink {
  return (record: LogRecord) => {
    if (slot.target !== null) {
      try {
        slot.target(record);
      } catch (error) {
        const target = slot.target;
        slot.target = null;
        try {
          target[Symbol.dispose]();
        } catch {
          // Already broken; nothing more to flush.
        }
        const text = `cannot write the log file any more (${
          error instanceof Error ? error.message : String(error)
        }); logging to stderr only`;
        slot.report({
          category: ["ntp", "logging"],
          level: "error",
          message: [text],
          rawMessage: text,
          timestamp: Date.now(),
          properties: {},
        });
      }
    } else if (slot.early !== null && slot.early.length < earlyRecordLimit) {
      slot.early.push(record);
    }
  };
}

/** The lowest level written; {@link setLogLevel} changes it while the sinks stay open. */
let currentLevel: LogLevel = "info";

/**
 * Changes the lowest level written, to stderr and the log file alike: e.g. to the config's level
 * once it is read, unless `--log-level` was given.
 *
 * @example
 * ```ts
 * setLogLevel("debug");
 * ```
 */
export function setLogLevel(level: LogLevel): void {
  currentLevel = level;
}

/** Options of {@link setupLogging}. */
export interface LoggingOptions {
  /** Lowest level written, to stderr and to the log file. */
  readonly level: LogLevel;
  /** Stderr style; default {@link detectStderrStyle}. */
  readonly stderrStyle?: StderrStyle;
  /** Where stderr lines go (default Deno.stderr). */
  readonly stderr?: LineWriter;
}

/**
 * Configures logging once per process: lines on stderr at `level` and above, styled for where
 * stderr goes. Records are also kept for the log file until {@link attachLogFile} is called.
 *
 * @example
 * ```ts
 * await setupLogging({ level: "info" });
 * log("serve").info("starting");
 * attachLogFile(config.logFile);
 * await shutdownLogging();
 * ```
 */
export async function setupLogging(options: LoggingOptions): Promise<void> {
  const stderr = writerSink(
    options.stderr ?? Deno.stderr,
    lineFormatter(options.stderrStyle ?? detectStderrStyle()),
  );
  const slot: FileSlot = { target: null, early: [], report: stderr };
  fileSlot = slot;
  currentLevel = options.level;
  await configure({
    reset: true,
    sinks: {
      stderr,
      file: Object.assign(fileSlotSink(slot), {
        [Symbol.dispose]: () => {
          slot.target?.[Symbol.dispose]();
          slot.target = null;
          slot.early = null;
        },
      }),
    },
    filters: {
      level: (record: LogRecord) => compareLogLevel(record.level, currentLevel) >= 0,
    },
    loggers: [
      { category: ["ntp"], sinks: ["stderr", "file"], filters: ["level"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** The outcome of {@link attachLogFile}: `message` says why the file cannot be written. */
export type AttachLogFileResult = { readonly ok: true } | {
  readonly ok: false;
  readonly message: string;
};

/**
 * Starts writing the log to `path` as well (appending; rotated by size), beginning with what was
 * logged since {@link setupLogging}. `null` means no log file: the kept records are dropped.
 * When the file cannot be opened the log goes on to stderr only, and the result says why.
 * Each record is written (and synced) at once, so `tail -f` and a crash lose nothing.
 *
 * @example
 * ```ts
 * const opened = attachLogFile("/var/log/ntp/ntp.log");
 * if (!opened.ok) log("serve").warn(`cannot write the log file: ${opened.message}`);
 * ```
 */
export function attachLogFile(
  path: string | null,
  rotation: LogFileRotation = {},
): AttachLogFileResult {
  const early = fileSlot.early ?? [];
  fileSlot.early = null;
  if (path === null) return { ok: true };
  let sink: Sink & Disposable;
  try {
    sink = getRotatingFileSink(path, {
      formatter: lineFormatter("plain"),
      maxSize: rotation.maxBytes ?? 10 * 1024 * 1024,
      maxFiles: rotation.maxFiles ?? 5,
      bufferSize: 0,
    });
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  for (const record of early) sink(record);
  fileSlot.target = sink;
  return { ok: true };
}

/** Flushes and closes the log sinks (the log file too); call before the process exits. */
export async function shutdownLogging(): Promise<void> {
  await dispose();
}

/** A logger under the `ntp` category, e.g. `log("serve")`. */
export function log(...category: string[]): Logger {
  return getLogger(["ntp", ...category]);
}
