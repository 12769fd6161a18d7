// Text forms of mode 6 variable values as ntpd writes them (ms with fixed decimals, hex timestamps, refids, quoted strings).
import { refidToAscii, refidToDottedQuad } from "../packet/refid.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import { formatC } from "./c_format.ts";

/**
 * A number with a fixed count of decimals, as C's `%.Nf` writes it, except that NaN and infinities
 * become 0 and a negative zero ("-0.000") is written without its sign.
 *
 * @example
 * ```ts
 * formatFixed(0.0485871, 6); // "0.048587"
 * ```
 */
export function formatFixed(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return formatC(0, decimals);
  const text = formatC(value, decimals);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/**
 * Seconds as milliseconds with `decimals` decimals: mode 6 carries every time in ms.
 *
 * @example
 * ```ts
 * formatMilliseconds(0.000048587, 6); // "0.048587"
 * ```
 */
export function formatMilliseconds(seconds: number, decimals: number): string {
  return formatFixed(seconds * 1e3, decimals);
}

/**
 * A timestamp as ntpd writes it: `0x` + 8 hex digits + `.` + 8 hex digits.
 *
 * @example
 * ```ts
 * formatTimestampHex({ seconds: 0xeeb527e3, fraction: 0x86e36b2c }); // "0xeeb527e3.86e36b2c"
 * ```
 */
export function formatTimestampHex(ts: NtpTimestamp): string {
  return `0x${hex8(ts.seconds)}.${hex8(ts.fraction)}`;
}

/** Eight lower-case hex digits of a uint32. */
export function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

/**
 * A refid as the `refid=` variable shows it: a dotted quad for stratum 2..15 (an IPv4 address or
 * an IPv6 hash), otherwise its ASCII code without dots ("INIT", "GPS", "LOCL").
 *
 * @example
 * ```ts
 * formatRefidValue(0x494e4954, 16); // "INIT"
 * ```
 */
export function formatRefidValue(refid: number, stratum: number): string {
  return stratum >= 2 && stratum <= 15 ? refidToDottedQuad(refid) : refidToAscii(refid);
}

/**
 * A string variable value in double quotes. Characters that would break the list (quotes,
 * control characters, non-ASCII) become "?", and the text is cut to 255 characters.
 *
 * @example
 * ```ts
 * formatQuoted("Linux/6.1.0"); // "\"Linux/6.1.0\""
 * ```
 */
export function formatQuoted(text: string): string {
  let clean = "";
  for (const char of text.slice(0, 255)) {
    const code = char.charCodeAt(0);
    clean += code >= 0x20 && code <= 0x7e && char !== '"' ? char : "?";
  }
  return `"${clean}"`;
}

/**
 * A clock filter register as ntpd writes it: eight values in ms with two decimals, each after a
 * space, newest first; missing stages are filled with `fill` ms.
 *
 * @example
 * ```ts
 * formatFilter([0.000048, 0.00003], 0); // " 0.05 0.03 0.00 0.00 0.00 0.00 0.00 0.00"
 * ```
 */
export function formatFilter(
  secondsNewestFirst: readonly number[],
  fillMilliseconds: number,
): string {
  let text = "";
  for (let i = 0; i < 8; i++) {
    const seconds = secondsNewestFirst[i];
    text += " " +
      (seconds === undefined ? formatFixed(fillMilliseconds, 2) : formatMilliseconds(seconds, 2));
  }
  return text;
}

/** Largest dispersion ntpd reports for an empty filter stage, in ms (MAXDISPERSE 16 s). */
export const EMPTY_STAGE_DISPERSION_MS = 16000;
