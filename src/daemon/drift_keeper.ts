// The drift file as the daemon keeps it: read once at start, written when core/drift_policy.ts says so, the last write awaited at exit.
import { afterDriftWrite, driftWriteDue, initialDriftWriteState } from "../core/drift_policy.ts";
import type { DriftWriteState } from "../core/drift_policy.ts";
import { readDriftFile, writeDriftFile } from "../io/drift_file.ts";

/** Where the keeper reports (the daemon's sync log). */
export interface DriftLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * Reads the drift file (a missing, unreadable or bad file gives no frequency, with a warning for
 * the latter two) and keeps writing it. `path` null: no drift file, nothing happens.
 *
 * @example
 * ```ts
 * import { log } from "./logging.ts";
 * declare const nowSeconds: number; // monotonic
 * declare const freqPpm: number; // the disciplined frequency
 * const drift = await DriftKeeper.open("/var/lib/ntp/drift", { log: log("sync"), nowSeconds: 0 });
 * drift.freqPpm; // the saved frequency or null
 * drift.consider({ nowSeconds, freqPpm, trusted: true, exiting: false });
 * await drift.flush();
 * ```
 */
export class DriftKeeper {
  /** The frequency read at start, ppm, or null. */
  readonly freqPpm: number | null;
  readonly #path: string | null;
  readonly #log: DriftLog;
  #state: DriftWriteState;
  readonly #writes: Promise<void>[] = [];

  private constructor(path: string | null, freqPpm: number | null, log: DriftLog, now: number) {
    this.#path = path;
    this.freqPpm = freqPpm;
    this.#log = log;
    this.#state = initialDriftWriteState(now, freqPpm);
  }

  /** Reads `path` and returns the keeper. */
  static async open(
    path: string | null,
    options: { readonly log: DriftLog; readonly nowSeconds: number },
  ): Promise<DriftKeeper> {
    if (path === null) return new DriftKeeper(null, null, options.log, options.nowSeconds);
    const read = await readDriftFile(path);
    if (read.warning) options.log.warn(`drift file ${path}: ${read.warning}`);
    if (read.freqPpm !== null) {
      options.log.info(`frequency ${read.freqPpm.toFixed(3)} ppm from ${path}`);
    }
    return new DriftKeeper(path, read.freqPpm, options.log, options.nowSeconds);
  }

  /** The drift file, or null when none is configured. */
  get path(): string | null {
    return this.#path;
  }

  /** Writes the frequency when the policy says it is due (an hour on, or at exit). */
  consider(input: {
    readonly nowSeconds: number;
    readonly freqPpm: number;
    readonly trusted: boolean;
    readonly exiting: boolean;
  }): void {
    const path = this.#path;
    if (path === null || !driftWriteDue(this.#state, input)) return;
    this.#state = afterDriftWrite(this.#state, input);
    const log = this.#log;
    const write = writeDriftFile(path, input.freqPpm).then((result) => {
      if (result.ok) log.info(`frequency ${input.freqPpm.toFixed(3)} ppm written to ${path}`);
      else log.warn(`cannot write the drift file ${path}: ${result.message}`);
    });
    this.#writes.push(write);
    void write.then(() => {
      const index = this.#writes.indexOf(write);
      if (index >= 0) this.#writes.splice(index, 1);
    });
  }

  /** Waits for the writes under way. */
  async flush(): Promise<void> {
    await Promise.all(this.#writes);
  }
}
