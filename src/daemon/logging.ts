// Logging: records to stderr (plain, coloured on a terminal, or journald's "<N>" prefixes) and to the rotating log file, at one level set for both; one place for the categories.
import { openRotatingLogFile } from "../io/rotating_log_file.ts";
import { stderrIdentity } from "../io/stderr_identity.ts";
import { readOnlyHint } from "../io/write_failure_text.ts";
import {
  atLeast,
  type LineFormatter,
  lineFormatter,
  type LogLevel,
  type LogRecord,
  type StderrStyle,
} from "./log_lines.ts";

export { lineFormatter, syslogPriority } from "./log_lines.ts";
export type { LineFormatter, LogLevel, LogRecord, StderrStyle } from "./log_lines.ts";

/** Where records go: a function taking each record. */
type Sink = (record: LogRecord) => void;

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

/** Where stderr lines go; Deno.stderr unless a test captures them. */
export interface LineWriter {
  writeSync(bytes: Uint8Array): number;
}

/**
 * A sink writing each record synchronously (nothing is lost when the process dies). When the
 * writer fails (stderr's reader went away: EPIPE, EIO) it stops writing there, quietly: the
 * log file, if any, goes on, and the code that logged never sees the error.
 */
function writerSink(writer: LineWriter, formatter: LineFormatter): Sink {
  const encoder = new TextEncoder();
  let broken = false;
  return (record: LogRecord) => {
    if (broken) return;
    try {
      let bytes = encoder.encode(formatter(record));
      while (bytes.length > 0) bytes = bytes.subarray(writer.writeSync(bytes));
    } catch {
      broken = true;
    }
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
          message: text,
          timestamp: Date.now(),
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
 * import type { NtpConfig } from "../config/ntp_config.ts";
 * declare const config: NtpConfig;
 * setupLogging({ level: "info" });
 * log("serve").info("starting");
 * attachLogFile(config.logFile);
 * shutdownLogging();
 * ```
 */
export function setupLogging(options: LoggingOptions): void {
  const stderr = writerSink(
    options.stderr ?? Deno.stderr,
    lineFormatter(options.stderrStyle ?? detectStderrStyle()),
  );
  const slot: FileSlot = { target: null, early: [], report: stderr };
  fileSlot = slot;
  currentLevel = options.level;
  sinks = [stderr, fileSlotSink(slot)];
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
    const file = openRotatingLogFile(path, {
      maxBytes: rotation.maxBytes ?? 10 * 1024 * 1024,
      maxFiles: rotation.maxFiles ?? 5,
    });
    const format = lineFormatter("plain");
    sink = Object.assign((record: LogRecord) => file.write(format(record)), {
      [Symbol.dispose]: () => file[Symbol.dispose](),
    });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return { ok: false, message: text + readOnlyHint(error, path) };
  }
  for (const record of early) sink(record);
  fileSlot.target = sink;
  return { ok: true };
}

/** Closes the log file and stops writing anywhere; call before the process exits. */
export function shutdownLogging(): void {
  fileSlot.target?.[Symbol.dispose]();
  fileSlot = { target: null, early: null, report: () => {} };
  sinks = [];
}

/** A logger of one category: a method per level, each taking the message. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  fatal(message: string): void;
}

/** The sinks records go to: none until {@link setupLogging}. */
let sinks: readonly Sink[] = [];

/**
 * A logger under the `ntp` category, e.g. `log("serve")`. Records below the level set are
 * dropped; the others go to stderr and the log file, synchronously.
 *
 * @example
 * ```ts
 * log("serve").info("serving on 127.0.0.1:123");
 * ```
 */
export function log(...category: string[]): Logger {
  const path = ["ntp", ...category];
  const emit = (level: LogLevel) => (message: string) => {
    if (!atLeast(level, currentLevel)) return;
    const record: LogRecord = { category: path, level, message, timestamp: Date.now() };
    for (const sink of sinks) sink(record);
  };
  return {
    trace: emit("trace"),
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warning"),
    error: emit("error"),
    fatal: emit("fatal"),
  };
}
