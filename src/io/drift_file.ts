// Reads and atomically writes the drift file (ntpd format: the frequency in ppm on one line).
import { readOnlyHint } from "./write_failure_text.ts";
import { AtomicWriteError, writeFileAtomically } from "./atomic_write.ts";
import { formatDriftText, parseDriftText } from "../core/drift_policy.ts";

/** The drift file as read at start: the frequency, or none (with a warning when it was unusable). */
export interface DriftRead {
  /** The frequency in the file, ppm; null when there is no usable file. */
  readonly freqPpm: number | null;
  /** Why the file was ignored (unreadable or not a frequency); absent when missing or fine. */
  readonly warning?: string;
}

/** The outcome of a write: ok, or a message saying what failed. */
export type DriftWriteResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly message: string };

/**
 * Reads the drift file. A missing file means no frequency (no warning: the first start); an
 * unreadable file or text that is not one frequency within +-500 ppm gives no frequency and a
 * warning. Never throws.
 *
 * @example
 * ```ts
 * const { freqPpm, warning } = await readDriftFile("/var/lib/ntp/drift");
 * if (warning !== undefined) console.warn(warning);
 * ```
 */
export async function readDriftFile(path: string): Promise<DriftRead> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { freqPpm: null };
    return {
      freqPpm: null,
      warning: `Cannot read drift file ${path}: ${(error as Error).message}; ` +
        "starting without a saved frequency",
    };
  }
  const parsed = parseDriftText(text);
  if (parsed.ok) return { freqPpm: parsed.freqPpm };
  return {
    freqPpm: null,
    warning: `Ignoring drift file ${path}: ${parsed.reason} (expected one frequency in ppm, ` +
      "such as -12.345); starting without a saved frequency",
  };
}

/**
 * Writes the drift file atomically (atomic_write.ts: temporary file, fsync, rename, directory
 * fsync), so a reader, or a crash at any moment, sees the old file or the new one, never a
 * partial one. Never throws; on failure the old file is left as it was.
 *
 * @example
 * ```ts
 * const result = await writeDriftFile("/var/lib/ntp/drift", -12.345);
 * if (!result.ok) console.warn(result.message);
 * ```
 */
export async function writeDriftFile(path: string, freqPpm: number): Promise<DriftWriteResult> {
  let text: string;
  try {
    text = formatDriftText(freqPpm);
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  try {
    await writeFileAtomically(path, text, { mode: 0o644 });
  } catch (error) {
    if (!(error instanceof AtomicWriteError)) throw error;
    return {
      ok: false,
      message: error.step === "directory fsync"
        ? `Wrote drift file ${path} but cannot fsync its directory (${error.message})`
        : `Cannot write drift file ${path} (${error.message})${readOnlyHint(error, path)}`,
    };
  }
  return { ok: true };
}
