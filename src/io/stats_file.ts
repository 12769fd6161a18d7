// One statistics file generation set (ntpd's filegen): lines queued in memory, appended in the background, a new file per period, the base name hard-linked to the current one.
//
// append() never blocks and never throws: lines wait in a bounded queue and one write at a time
// goes out (async, so the daemon's thread carries on). Each write is whole lines; a file left with
// a torn last line (kill -9 mid-write) gets a newline before the next line. A failing write
// (full disk, missing or unwritable directory) drops its lines, is reported once through
// onProblem, and is retried with the next lines; onRecovered says when writing works again.
import { readOnlyHint } from "./write_failure_text.ts";
import {
  type GenerationContext,
  generationSuffix,
  type GenerationType,
} from "../core/stats/file_generation.ts";

/** Options of {@link StatsFile}. */
export interface StatsFileOptions {
  /** The statistics directory (statsdir). */
  readonly directory: string;
  /** The set's base name inside it (`filegen NAME file FILENAME`). */
  readonly fileName: string;
  readonly generation: GenerationType;
  /** Hard-link the base name to the current file (ntpd's default `link`). */
  readonly link: boolean;
  /** The process id and uptime for the `pid` and `age` generations. */
  readonly context: () => GenerationContext;
  /** Called once when writing starts failing (and again only after a recovery). */
  readonly onProblem: (message: string) => void;
  /** Called when a write succeeds after a problem. */
  readonly onRecovered: (message: string) => void;
  /** Most bytes queued before lines are dropped; default 1 MiB. */
  readonly maxQueuedBytes?: number;
}

/** What a statistics file has done so far. */
export interface StatsFileCounters {
  readonly linesWritten: number;
  /** Lines lost to failed writes or a full queue. */
  readonly linesDropped: number;
}

interface QueuedLine {
  readonly suffix: string;
  readonly text: string;
}

const encoder = new TextEncoder();

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A filegen set being written.
 *
 * @example
 * ```ts
 * const loopstats = new StatsFile({
 *   directory: "/var/log/ntpstats", fileName: "loopstats", generation: "day", link: true,
 *   context: () => ({ pid: Deno.pid, uptimeSeconds: 0 }),
 *   onProblem: console.warn, onRecovered: console.info,
 * });
 * loopstats.append("61381 0.250 0.000015000 -12.250000 0.000002000 0.004000 6", Date.now() / 1000);
 * await loopstats.close();
 * ```
 */
export class StatsFile {
  readonly #options: StatsFileOptions;
  readonly #maxQueuedBytes: number;
  #queue: QueuedLine[] = [];
  #queuedBytes = 0;
  #writing: Promise<void> | null = null;
  #file: Deno.FsFile | null = null;
  #openSuffix: string | null = null;
  #failing = false;
  /** The queue was full: lines are dropped until it empties (reported once per episode). */
  #overflowing = false;
  #overflowDropped = 0;
  #closed = false;
  #linesWritten = 0;
  #linesDropped = 0;
  #conflicts = 0;

  constructor(options: StatsFileOptions) {
    this.#options = options;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 1 << 20;
  }

  /** The path of the set's file for `suffix` (the base name itself for `none`). */
  pathFor(suffix: string): string {
    return `${this.#options.directory.replace(/\/+$/, "")}/${this.#options.fileName}${suffix}`;
  }

  get counters(): StatsFileCounters {
    return { linesWritten: this.#linesWritten, linesDropped: this.#linesDropped };
  }

  /** Queues one line (without its newline) written at `unixSeconds`; never blocks or throws. */
  append(line: string, unixSeconds: number): void {
    if (this.#closed) return;
    const text = `${line}\n`;
    if (this.#queuedBytes + text.length > this.#maxQueuedBytes) {
      this.#linesDropped++;
      this.#overflowDropped++;
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#options.onProblem(
          `${this.pathFor("")}*: writes are not keeping up (${this.#queuedBytes} bytes waiting); ` +
            "lines are dropped until they catch up",
        );
      }
      return;
    }
    const suffix = generationSuffix(this.#options.generation, unixSeconds, this.#options.context());
    this.#queue.push({ suffix, text });
    this.#queuedBytes += text.length;
    this.#startWriting();
  }

  /** Starts the background writer unless it runs; it starts again for lines queued as it ended. */
  #startWriting(): void {
    if (this.#writing !== null) return;
    this.#writing = this.#drain().finally(() => {
      this.#writing = null;
      if (this.#queue.length > 0) this.#startWriting();
    });
  }

  /** Resolves when every line queued so far was written (or dropped). */
  async flush(): Promise<void> {
    while (this.#writing !== null) await this.#writing;
  }

  /** Writes what is queued, then closes the file. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    this.#closeFile();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const suffix = this.#queue[0]!.suffix;
      let count = 0;
      while (count < this.#queue.length && this.#queue[count]!.suffix === suffix) count++;
      const batch = this.#queue.splice(0, count);
      const text = batch.map((line) => line.text).join("");
      this.#queuedBytes -= text.length;
      try {
        const file = await this.#fileFor(suffix);
        await this.#writeAll(file, encoder.encode(text));
        this.#linesWritten += batch.length;
        if (this.#failing) {
          this.#failing = false;
          this.#options.onRecovered(
            `${this.pathFor(suffix)}: writing statistics again (${this.#linesDropped} lines ` +
              "dropped so far)",
          );
        }
      } catch (error) {
        this.#linesDropped += batch.length;
        // The next lines reopen the file: a directory created meanwhile, or space freed, works.
        this.#closeFile();
        if (!this.#failing) {
          this.#failing = true;
          this.#options.onProblem(
            `cannot write ${this.pathFor(suffix)}: ${errorText(error)}; its statistics lines ` +
              "are dropped until writing works again (serving goes on)" +
              readOnlyHint(error, this.pathFor(suffix)),
          );
        }
      }
    }
    if (this.#overflowing) {
      this.#overflowing = false;
      this.#options.onRecovered(
        `${this.pathFor("")}*: writes caught up (${this.#overflowDropped} lines dropped)`,
      );
      this.#overflowDropped = 0;
    }
  }

  async #writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      offset += await file.write(bytes.subarray(offset));
    }
  }

  /** The open file for `suffix`: the current one, or the next generation opened (and linked). */
  async #fileFor(suffix: string): Promise<Deno.FsFile> {
    if (this.#file !== null && this.#openSuffix === suffix) return this.#file;
    const path = this.pathFor(suffix);
    const file = await Deno.open(path, { append: true, create: true, mode: 0o644 });
    try {
      await this.#endTornLine(file, path);
    } catch (error) {
      file.close();
      throw error;
    }
    this.#closeFile();
    this.#file = file;
    this.#openSuffix = suffix;
    if (this.#options.link && suffix !== "") await this.#linkBaseName(path);
    return file;
  }

  /** A file whose last line was torn (no newline at its end) gets one before new lines. */
  async #endTornLine(file: Deno.FsFile, path: string): Promise<void> {
    const size = (await file.stat()).size;
    if (size === 0) return;
    const reader = await Deno.open(path, { read: true });
    try {
      await reader.seek(size - 1, Deno.SeekMode.Start);
      const last = new Uint8Array(1);
      const read = await reader.read(last);
      if (read === 1 && last[0] !== 0x0a) await this.#writeAll(file, encoder.encode("\n"));
    } finally {
      reader.close();
    }
  }

  /**
   * Points the base name at the current file with a hard link, as ntpd does: an old link is
   * replaced; a plain file of that name (nothing else links it) is kept as NAME.PIDCn.
   */
  async #linkBaseName(current: string): Promise<void> {
    const base = this.pathFor("");
    try {
      const existing = await Deno.lstat(base).catch((error) => {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      });
      if (existing !== null) {
        const target = await Deno.lstat(current);
        if (existing.ino === target.ino && existing.dev === target.dev) return;
        if (existing.isFile && (existing.nlink ?? 1) === 1) {
          await Deno.rename(base, `${base}.${this.#options.context().pid}C${this.#conflicts++}`);
        } else if (existing.isFile || existing.isSymlink) {
          await Deno.remove(base);
        } else {
          // A directory or device of that name is not ours to remove (ntpd leaves it too).
          throw new Error(`${base} is not a regular file`);
        }
      }
      await Deno.link(current, base);
    } catch (error) {
      // Only the link is lost: the lines still go to the dated file.
      this.#options.onProblem(`cannot link ${base} to ${current}: ${errorText(error)}`);
    }
  }

  #closeFile(): void {
    try {
      this.#file?.close();
    } catch { /* already closed */ }
    this.#file = null;
    this.#openSuffix = null;
  }
}
