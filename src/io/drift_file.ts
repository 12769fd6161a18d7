// Reads and atomically writes the drift file (ntpd format: the frequency in ppm on one line).
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

function splitPath(path: string): { directory: string; base: string } {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return { directory: ".", base: path };
  return { directory: slash === 0 ? "/" : path.slice(0, slash), base: path.slice(slash + 1) };
}

/**
 * Writes the drift file atomically: the text goes to a temporary file in the same directory,
 * which is fsynced, renamed over the file, and the directory fsynced, so a reader (or a crash)
 * sees the old file or the new one, never a partial one. Never throws; on failure the
 * temporary file is removed and the old file is left as it was.
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
  const { directory, base } = splitPath(path);
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16);
  const temporary = `${directory}/.${base}.${Deno.pid}.${random}.tmp`;
  let step = "create";
  try {
    const file = await Deno.open(temporary, { write: true, createNew: true, mode: 0o644 });
    try {
      step = "write";
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      step = "fsync";
      await file.sync();
    } finally {
      file.close();
    }
    step = "rename";
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    return {
      ok: false,
      message: `Cannot write drift file ${path} (${step} of ${temporary}): ${
        (error as Error).message
      }`,
    };
  }
  try {
    const handle = await Deno.open(directory, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch (error) {
    return {
      ok: false,
      message: `Wrote drift file ${path} but cannot fsync ${directory}: ${
        (error as Error).message
      }`,
    };
  }
  return { ok: true };
}
