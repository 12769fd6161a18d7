// Reads the leap-seconds file (the configured `leapfile`, else tzdata's) at start and again whenever it changes (looked at every minute), logs what it says, and hands out its status (leap decisions, mode 6's tai/leapsec/expire).
import { DEFAULT_LEAP_FILE } from "../config/default_paths.ts";
import type { ControlLeapFile } from "../core/control/control_view.ts";
import { type LeapTable, readLeapSecondsFile } from "../core/leap/leap_seconds_file.ts";
import { type LeapStatus, leapStatusAt } from "../core/leap/leap_status.ts";
import { type DaemonTime, systemTime, type TimerHandle } from "./daemon_time.ts";
import { log } from "./logging.ts";

const logger = log("leap");

/** How often the file's modification time is looked at, milliseconds. */
export const LEAP_FILE_CHECK_MS = 60_000;

function day(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** The leap-seconds file as the daemon knows it. Close it to stop watching. */
export class LeapFileWatch {
  readonly #path: string;
  readonly #configured: boolean;
  readonly #time: DaemonTime;
  readonly #nowUnixSeconds: () => number;
  #table: LeapTable | null = null;
  /** Modification time and size of the file last read, to notice a change. */
  #version: string | null = null;
  #timer: TimerHandle | undefined;
  #closed = false;

  private constructor(
    path: string,
    configured: boolean,
    time: DaemonTime,
    nowUnixSeconds: () => number,
  ) {
    this.#path = path;
    this.#configured = configured;
    this.#time = time;
    this.#nowUnixSeconds = nowUnixSeconds;
  }

  /**
   * Reads `configured` (or tzdata's file when null) and starts watching it. Never throws: a
   * missing, unreadable or damaged file is logged (an error when configured) and not used.
   *
   * @example
   * ```ts
   * const watch = await LeapFileWatch.start({ configured: null });
   * watch.controlView(Date.now() / 1000)?.taiOffsetSeconds; // 37 with tzdata's file
   * watch.close();
   * ```
   */
  static async start(
    options: {
      readonly configured: string | null;
      readonly time?: DaemonTime;
      /** The served clock, Unix seconds (default the host's). */
      readonly nowUnixSeconds?: () => number;
    },
  ): Promise<LeapFileWatch> {
    const watch = new LeapFileWatch(
      options.configured ?? DEFAULT_LEAP_FILE,
      options.configured !== null,
      options.time ?? systemTime,
      options.nowUnixSeconds ?? (() => Date.now() / 1000),
    );
    await watch.#load(true);
    watch.#schedule();
    return watch;
  }

  /** What the file says at Unix time `unixSeconds`; null without a (good) file. */
  status(unixSeconds: number): LeapStatus | null {
    return this.#table === null ? null : leapStatusAt(this.#table, unixSeconds);
  }

  /** What mode 6 shows (tai, leapsec, expire) at Unix time `unixSeconds`; undefined without a file. */
  controlView(unixSeconds: number): ControlLeapFile | undefined {
    if (this.#table === null) return undefined;
    const status = leapStatusAt(this.#table, unixSeconds);
    return {
      taiOffsetSeconds: status.taiOffsetSeconds,
      lastLeapUnixSeconds: status.lastLeapUnixSeconds,
      expiresUnixSeconds: status.expiresUnixSeconds,
    };
  }

  /** Stops watching. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#time.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#time.setTimer(async () => {
      this.#timer = undefined;
      try {
        await this.#load(false);
      } catch (error) {
        logger.error(`leapfile ${this.#path}: ${error instanceof Error ? error.message : error}`);
      }
      this.#schedule();
    }, LEAP_FILE_CHECK_MS);
  }

  async #load(first: boolean): Promise<void> {
    let version: string;
    try {
      const info = await Deno.stat(this.#path);
      version = `${info.mtime?.getTime() ?? 0}|${info.size}`;
    } catch (error) {
      if (first && !this.#configured && error instanceof Deno.errors.NotFound) {
        logger.info(
          `no leap-seconds file (${this.#path} not found): leap seconds are known only from ` +
            "the upstreams",
        );
      } else if (first || this.#version !== null) {
        logger.error(`leapfile ${this.#path}: cannot read it: ${(error as Error).message}`);
      }
      this.#version = null;
      return;
    }
    if (!first && version === this.#version) return;
    this.#version = version;
    const kept = this.#table === null ? "" : "; the previous contents stay in use";
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (error) {
      logger.error(`leapfile ${this.#path}: cannot read it: ${(error as Error).message}${kept}`);
      return;
    }
    const reading = readLeapSecondsFile(text);
    if (!reading.ok) {
      for (const problem of reading.problems) {
        logger.error(
          `${this.#path}:${problem.line}: ${problem.message}; the file is not used${kept}`,
        );
      }
      return;
    }
    for (const warning of reading.warnings) {
      logger.warn(`${this.#path}:${warning.line}: ${warning.message}`);
    }
    if (this.#closed) return;
    this.#table = reading.table;
    const status = leapStatusAt(reading.table, this.#nowUnixSeconds());
    const summary = `${
      first ? "" : "reloaded "
    }leap seconds from ${this.#path}: TAI-UTC ${status.taiOffsetSeconds} s, last leap ${
      day(status.lastLeapUnixSeconds)
    }`;
    if (status.expired) {
      logger.warn(
        `${summary}, EXPIRED on ${day(status.expiresUnixSeconds)}: leap seconds announced after ` +
          "that are not in it (apt upgrade tzdata, or fetch " +
          "https://data.iana.org/time-zones/tzdb/leap-seconds.list)",
      );
    } else {
      logger.info(`${summary}, valid until ${day(status.expiresUnixSeconds)}`);
    }
  }
}
