// Reads the IANA/NIST leap-seconds.list (as tzdata ships it in /usr/share/zoneinfo): the leap seconds with their TAI-UTC offsets, the `#$` update and `#@` expiry times, and the `#h` SHA-1 checked.
//
// Format: data lines "NTP-SECONDS TAI-UTC [# comment]", each the moment (NTP era 0 seconds,
// 00:00:00 UTC on the first day of a month) from which TAI-UTC is the given number of seconds;
// `#$ NTP-SECONDS` the last update, `#@ NTP-SECONDS` the expiry, `#h H1 H2 H3 H4 H5` the SHA-1
// (five groups of up to 8 hex digits) of the decimal digits of the `#$` and `#@` values and of
// every data line before its comment, concatenated without anything between. Other `#` lines
// are comments.
import { sha1 } from "./sha1.ts";

/** One entry: from `ntpSeconds` on, TAI - UTC = `taiOffsetSeconds`. */
export interface LeapEntry {
  /** NTP era 0 seconds (since 1900-01-01 00:00 UTC). */
  readonly ntpSeconds: number;
  readonly taiOffsetSeconds: number;
  /** 1-based line in the file. */
  readonly line: number;
}

/** A read leap-seconds.list. */
export interface LeapTable {
  /** In time order; the first is the 1972 start (TAI - UTC = 10). */
  readonly entries: readonly LeapEntry[];
  /** `#$`: when the file was last updated, NTP seconds; null when absent. */
  readonly updatedNtpSeconds: number | null;
  /** `#@`: after this the file must not be trusted for future leaps, NTP seconds. */
  readonly expiresNtpSeconds: number;
}

/** A problem found in the file, with its line. */
export interface LeapFileProblem {
  readonly line: number;
  readonly message: string;
}

/** The outcome of {@link readLeapSecondsFile}. */
export type LeapFileReading =
  | { readonly ok: true; readonly table: LeapTable; readonly warnings: readonly LeapFileProblem[] }
  | { readonly ok: false; readonly problems: readonly LeapFileProblem[] };

/** Seconds from the NTP era 0 origin (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

/** Latest time the file may name: 2200-01-01 (NTP seconds); anything later is damage. */
const LATEST_NTP_SECONDS = 9_467_107_200;

/** Whether NTP seconds fall on 00:00:00 UTC of the first day of a month. */
function startOfMonth(ntpSeconds: number): boolean {
  const date = new Date((ntpSeconds - NTP_UNIX_OFFSET_SECONDS) * 1000);
  return date.getUTCDate() === 1 && ntpSeconds % 86400 === 0;
}

/**
 * Parses leap-seconds.list text. Refused (every problem with its line): a data line that is not
 * two whole numbers, times not increasing, an offset that moves by anything but one second, a
 * leap not at the start of a month, no `#@` expiry, or a `#h` hash that does not match. A file
 * without `#h` is read with a warning.
 *
 * @example
 * ```ts
 * const reading = readLeapSecondsFile("#@ 3991593600\n2272060800 10\n2287785600 11\n");
 * reading.ok; // true (with a warning: no #h line)
 * ```
 */
export function readLeapSecondsFile(text: string): LeapFileReading {
  const problems: LeapFileProblem[] = [];
  const warnings: LeapFileProblem[] = [];
  const entries: LeapEntry[] = [];
  let hashed = "";
  let updated: number | null = null;
  let expires: { value: number; line: number } | null = null;
  let hash: { hex: string; line: number } | null = null;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === "") return;
    if (trimmed.startsWith("#$") || trimmed.startsWith("#@")) {
      const value = trimmed.slice(2).trim();
      if (!/^\d+$/.test(value) || Number(value) > LATEST_NTP_SECONDS) {
        problems.push({
          line,
          message: `${trimmed.slice(0, 2)} needs NTP seconds (before 2200), got "${value}"`,
        });
        return;
      }
      hashed += value;
      if (trimmed.startsWith("#$")) updated = Number(value);
      else expires = { value: Number(value), line };
      return;
    }
    if (trimmed.startsWith("#h")) {
      const groups = trimmed.slice(2).trim().split(/\s+/);
      if (groups.length !== 5 || groups.some((g) => !/^[0-9a-fA-F]{1,8}$/.test(g))) {
        problems.push({ line, message: "#h needs five groups of hex digits (a SHA-1)" });
        return;
      }
      hash = { hex: groups.map((g) => g.toLowerCase().padStart(8, "0")).join(""), line };
      return;
    }
    if (trimmed.startsWith("#")) return;
    const data = trimmed.split("#")[0]!.trim();
    const fields = data.split(/\s+/);
    if (fields.length !== 2 || !fields.every((f) => /^\d+$/.test(f))) {
      problems.push({
        line,
        message: `expected "NTP-SECONDS TAI-UTC" (two whole numbers), got "${data}"`,
      });
      return;
    }
    hashed += fields.join("");
    const entry = { ntpSeconds: Number(fields[0]), taiOffsetSeconds: Number(fields[1]), line };
    if (entry.ntpSeconds > LATEST_NTP_SECONDS || entry.taiOffsetSeconds > 1000) {
      problems.push({ line, message: `"${data}" is out of range (a time before 2200, TAI-UTC)` });
      return;
    }
    const previous = entries.at(-1);
    if (previous !== undefined) {
      if (entry.ntpSeconds <= previous.ntpSeconds) {
        problems.push({
          line,
          message:
            `time ${entry.ntpSeconds} is not after line ${previous.line}'s ${previous.ntpSeconds}`,
        });
        return;
      }
      if (Math.abs(entry.taiOffsetSeconds - previous.taiOffsetSeconds) !== 1) {
        problems.push({
          line,
          message: `TAI-UTC goes from ${previous.taiOffsetSeconds} to ${entry.taiOffsetSeconds}; ` +
            "a leap second changes it by one",
        });
        return;
      }
    }
    if (!startOfMonth(entry.ntpSeconds)) {
      problems.push({
        line,
        message: `time ${entry.ntpSeconds} is not 00:00:00 UTC on the first day of a month`,
      });
      return;
    }
    entries.push(entry);
  });
  const expiry = expires as { value: number; line: number } | null;
  if (expiry === null) problems.push({ line: lines.length, message: "no #@ expiry line" });
  const found = hash as { hex: string; line: number } | null;
  if (found === null) {
    warnings.push({ line: lines.length, message: "no #h line: the contents cannot be checked" });
  } else {
    const digest = [...sha1(new TextEncoder().encode(hashed))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    if (digest !== found.hex) {
      problems.push({
        line: found.line,
        message: `the #h hash does not match the contents (SHA-1 ${digest}): the file is damaged ` +
          "or was edited",
      });
    }
  }
  if (entries.length === 0) {
    problems.push({ line: lines.length, message: "no leap second entries" });
  }
  if (problems.length > 0 || expiry === null) {
    return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };
  }
  return {
    ok: true,
    table: { entries, updatedNtpSeconds: updated, expiresNtpSeconds: expiry.value },
    warnings,
  };
}
