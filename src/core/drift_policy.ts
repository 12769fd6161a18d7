// The drift file's text format (ntpd: one frequency in ppm) and when to write it (at most hourly, and on clean exit); pure.

/** The most the kernel (and the soft clock) corrects, ppm; larger drift values are refused. */
export const maxDriftFreqPpm = 500;

/** Shortest time between two periodic drift file writes, seconds. */
export const driftWriteIntervalSeconds = 3600;

/** Decimals written, as ntpd does ("%.3f"): the file's resolution is 0.001 ppm. */
const decimals = 3;

/** A parsed drift file: the frequency, or why the text is not one. */
export type DriftParse =
  | { readonly ok: true; readonly freqPpm: number }
  | { readonly ok: false; readonly reason: string };

const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses drift file text: one decimal number, the frequency in ppm (ntpd's format; chrony's
 * second field, the skew, is accepted and ignored). Rejects empty text, other words and
 * values beyond +-500 ppm with a reason.
 *
 * @example
 * ```ts
 * parseDriftText("-12.345\n"); // { ok: true, freqPpm: -12.345 }
 * parseDriftText("hello");     // { ok: false, reason: "'hello' is not a number" }
 * ```
 */
export function parseDriftText(text: string): DriftParse {
  const fields = text.trim().split(/\s+/);
  const first = fields[0] ?? "";
  if (first === "") return { ok: false, reason: "the file is empty" };
  if (fields.length > 2) {
    return { ok: false, reason: `expected one number, found ${fields.length} words` };
  }
  if (!numberPattern.test(first)) {
    return { ok: false, reason: `'${first.slice(0, 40)}' is not a number` };
  }
  const freqPpm = Number(first);
  if (!Number.isFinite(freqPpm) || Math.abs(freqPpm) > maxDriftFreqPpm) {
    return { ok: false, reason: `${first} ppm is outside +-${maxDriftFreqPpm} ppm` };
  }
  return { ok: true, freqPpm };
}

/**
 * The text written to the drift file: the frequency with three decimals and a newline, as
 * ntpd writes it.
 *
 * @example
 * ```ts
 * formatDriftText(-12.34567); // "-12.346\n"
 * ```
 */
export function formatDriftText(freqPpm: number): string {
  if (!Number.isFinite(freqPpm)) {
    throw new RangeError(`Cannot write drift ${freqPpm} ppm: not a finite number`);
  }
  const text = freqPpm.toFixed(decimals);
  return `${text === "-0.000" ? "0.000" : text}\n`;
}

/** What the policy remembers between decisions. */
export interface DriftWriteState {
  /** Monotonic seconds of the last write (or of the start, see {@link initialDriftWriteState}). */
  readonly lastWriteSeconds: number;
  /** The frequency in the file, ppm, as written (rounded); null when there is no file. */
  readonly fileFreqPpm: number | null;
}

/** The facts of one decision. */
export interface DriftWriteInput {
  /** Monotonic seconds now (performance.now() / 1000, or virtual time in simulations). */
  readonly nowSeconds: number;
  /** The frequency correction in force, ppm. */
  readonly freqPpm: number;
  /**
   * Whether the frequency is an estimate worth keeping: the clock is synchronised and the
   * frequency known as well as a drift file is trusted at the next start.
   */
  readonly trusted: boolean;
  /** True for the last call at a clean exit (SIGTERM/SIGINT); false for the periodic check. */
  readonly exiting: boolean;
}

/**
 * The state at start: the start counts as a write, so the first periodic write comes an hour
 * later, and the file's own value (from readDriftFile) is what a write must improve on.
 */
export function initialDriftWriteState(
  startSeconds: number,
  fileFreqPpm: number | null,
): DriftWriteState {
  return { lastWriteSeconds: startSeconds, fileFreqPpm };
}

function rounded(freqPpm: number): number {
  return Number(freqPpm.toFixed(decimals));
}

/**
 * Whether to write the drift file now: only a trusted frequency, only when it differs from the
 * file at the file's resolution (0.001 ppm), and then at a clean exit or when an hour or more
 * has passed since the last write (or the start).
 *
 * @example
 * ```ts
 * let state = initialDriftWriteState(0, null);
 * const input = { nowSeconds: 3600, freqPpm: -12.3, trusted: true, exiting: false };
 * if (driftWriteDue(state, input)) state = afterDriftWrite(state, input); // write the file too
 * ```
 */
export function driftWriteDue(state: DriftWriteState, input: DriftWriteInput): boolean {
  if (!input.trusted || !Number.isFinite(input.freqPpm)) return false;
  if (state.fileFreqPpm !== null && rounded(input.freqPpm) === rounded(state.fileFreqPpm)) {
    return false;
  }
  if (input.exiting) return true;
  return input.nowSeconds - state.lastWriteSeconds >= driftWriteIntervalSeconds;
}

/** The state after a successful write of `input.freqPpm` at `input.nowSeconds`. */
export function afterDriftWrite(_state: DriftWriteState, input: DriftWriteInput): DriftWriteState {
  return { lastWriteSeconds: input.nowSeconds, fileFreqPpm: rounded(input.freqPpm) };
}
