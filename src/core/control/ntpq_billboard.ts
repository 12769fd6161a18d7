// The `ntpq -np` peer billboard rendered from mode 6 variables, column for column as ntpsec 1.2's ntpq (80 columns, numeric).
import { unixFromNtp } from "../time/ntp_timestamp.ts";
import { formatC, padStart } from "./c_format.ts";
import { decodePeerStatus } from "./status_words.ts";
import { tallyCharacter } from "../discipline/select_sources.ts";
import type { VariableItem } from "./variable_list.ts";

/** The billboard header (79 characters), as ntpq prints it. */
export const BILLBOARD_HEADER =
  "     remote           refid      st t when poll reach   delay   offset   jitter";

/** The rule under the header (79 `=`). */
export const BILLBOARD_RULE = "=".repeat(79);

/** One association as read over mode 6: the status word of its READVAR answer and its variables. */
export interface PeerReading {
  readonly status: number;
  readonly variables: readonly VariableItem[];
}

/** ntpq's reading of one value: its int(x, 0) or float() cast, else the text itself. */
type Cast = number | string;

function cast(raw: string): Cast {
  const text = raw.trim();
  const radix = /^([-+]?)0([xXoObB])([0-9a-fA-F]+)$/.exec(text);
  if (radix !== null) {
    const base = { x: 16, o: 8, b: 2 }[radix[2]!.toLowerCase() as "x" | "o" | "b"];
    const digits = radix[3]!;
    if ([...digits].every((d) => Number.parseInt(d, 16) < base)) {
      return (radix[1] === "-" ? -1 : 1) * Number.parseInt(digits, base);
    }
    return text;
  }
  if (/^[-+]?(0+|[1-9][0-9]*)$/.test(text)) return Number(text);
  if (/^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^[-+]?(inf|infinity)$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^[-+]?nan$/i.test(text)) return Number.NaN;
  return text;
}

/**
 * ntpq's l_fp reading ("0xeeb527bf.86dde11b") as Unix seconds, choosing the NTP era nearest
 * `pivotUnixSeconds` (so the zero timestamp reads as 2036 and gives "when" = "-").
 */
function lfpToUnix(text: string, pivotUnixSeconds: number): number | null {
  const match = /^0x([0-9a-fA-F]{1,8})\.([0-9a-fA-F]{1,8})$/.exec(text.trim());
  if (match === null) return null;
  const { unixSeconds, nanoseconds } = unixFromNtp(
    { seconds: parseInt(match[1]!, 16), fraction: parseInt(match[2]!, 16) },
    pivotUnixSeconds,
  );
  return unixSeconds + nanoseconds / 1e9;
}

/**
 * ntpq's interval text: "-" for none or <= 0, seconds up to 2048, then minutes ("m") up to 300,
 * hours ("h") up to 96, else days ("d").
 *
 * @example
 * ```ts
 * prettyInterval(4000); // "67m"
 * ```
 */
export function prettyInterval(seconds: number | null): string {
  if (seconds === null || !Number.isInteger(seconds) || seconds <= 0) return "-";
  if (seconds <= 2048) return String(seconds);
  let value = (seconds + 29) / 60;
  if (value <= 300) return `${Math.trunc(value)}m`;
  value = (value + 29) / 60;
  if (value <= 96) return `${Math.trunc(value)}h`;
  value = (value + 11) / 24;
  return `${Math.trunc(value)}d`;
}

/** ntpq's f8dot4 / f8dot3: a value in 8 columns with 4 (or 3) decimals, fewer when large. */
function f8(value: Cast, sixDecimals: boolean): string {
  if (typeof value === "string") return padStart(value, 8);
  if (Number.isNaN(value)) return "     nan";
  const steps = sixDecimals
    ? { positive: [1000, 10000, 100000, 1000000], negative: [-100, -1000, -10000, -100000] }
    : { positive: [10000, 100000, 1000000], negative: [-1000, -10000, -100000] };
  const first = sixDecimals ? 4 : 3;
  const limits = value >= 0 ? steps.positive : steps.negative;
  for (let i = 0; i < limits.length; i++) {
    const limit = limits[i]!;
    if (value >= 0 ? value < limit : value > limit) return padStart(formatC(value, first - i), 8);
  }
  return padStart(String(Math.trunc(value)), 8);
}

/** Keeps the last `width` characters, marking a cut with a leading "-" (ntpq's high_truncate). */
function highTruncate(text: string, width: number): string {
  return text.length <= width ? text : "-" + text.slice(text.length - width + 1);
}

/**
 * One billboard row exactly as `ntpq -np` prints it (ntpsec 1.2.2, 80 columns): tally from the
 * status word's selection (`" x.-+#*o"`), remote (srcadr, or srchost for 0.0.0.0 / 127.127.x /
 * ::), refid (wrapped in dots when it has no "." or ":"), stratum, type (u unicast, s/S
 * symmetric, b/B broadcast, 0..9 NTS), when (now minus `rec`/`reftime`), poll (2^min(ppoll,
 * hpoll)), reach in octal, then delay, offset and jitter (or dispersion) in ms: with four
 * decimals when the server sent `delay` with exactly six, else three.
 *
 * @param nowUnixSeconds The local time the "when" column is measured against.
 * @example
 * ```ts
 * import type { PeerReading } from "./ntpq_billboard.ts";
 * declare const reading: PeerReading;
 * formatBillboardRow(reading, Date.now() / 1000);
 * // "*10.123.0.1      127.127.1.1      2 u   12   16  377   0.0486   0.0122   0.0361"
 * ```
 */
export function formatBillboardRow(reading: PeerReading, nowUnixSeconds: number): string {
  let delay: Cast = ".";
  let offset: Cast = ".";
  let jitter: Cast = ".";
  let dispersion: Cast = ".";
  let haveJitter = false;
  let sixDecimals = false;
  let hostMode: Cast = 0;
  let hostPoll = 0;
  let peerPoll = 0;
  let reach: Cast = 0;
  let refid = "";
  let lastSync: number | null = null;
  let sourceAddress: string | null = null;
  let sourceHost: string | null = null;
  let stratum: Cast = 20;
  let cookies: Cast = -1;
  for (const { name, value } of reading.variables) {
    const raw = value ?? "";
    const cooked = cast(raw);
    switch (name) {
      case "delay":
        delay = cooked;
        sixDecimals = raw.length > 6 && raw.at(-7) === ".";
        break;
      case "hmode":
        hostMode = cooked;
        break;
      case "hpoll":
        hostPoll = typeof cooked === "number" && cooked >= 0 ? cooked : 0;
        break;
      case "ppoll":
        peerPoll = typeof cooked === "number" && cooked >= 0 ? cooked : 0;
        break;
      case "jitter":
        jitter = cooked;
        haveJitter = true;
        break;
      case "offset":
        offset = cooked;
        break;
      case "reach":
        reach = cooked;
        break;
      case "refid":
        refid = raw;
        break;
      case "rec":
      case "reftime": {
        const seen = lfpToUnix(raw, nowUnixSeconds);
        lastSync = seen === null ? null : Math.trunc(nowUnixSeconds - seen);
        break;
      }
      case "rootdisp":
      case "dispersion":
        dispersion = cooked;
        break;
      case "srcadr":
      case "peeradr":
        sourceAddress = raw;
        break;
      case "srchost":
        sourceHost = raw;
        break;
      case "stratum":
        stratum = cooked;
        break;
      case "ntscookies":
        cookies = cooked;
        break;
    }
  }
  const type = peerType({ hostMode, sourceAddress, refid, cookies });
  const tally = tallyCharacter(decodePeerStatus(reading.status).selection);
  let remote = sourceHost ?? "";
  if (
    sourceAddress !== null && sourceAddress !== "0.0.0.0" && !sourceAddress.startsWith("127.127") &&
    sourceAddress !== "::"
  ) {
    remote = sourceAddress;
  } else if (sourceHost === null) {
    remote = sourceAddress ?? "";
  }
  let refidText = refid;
  if (!refidText.includes(".") && !refidText.includes(":")) refidText = `.${refidText}.`;
  const refidColumn = highTruncate(refidText, 15) + " ".repeat(Math.max(0, 15 - refidText.length));
  const pollSeconds = 2 ** Math.min(peerPoll, hostPoll);
  const when = prettyInterval(lastSync ?? 0);
  const shownJitter = haveJitter ? jitter : dispersion;
  return `${tally}${remote.slice(0, 15).padEnd(15)} ${refidColumn}` +
    ` ${padStart(String(typeof stratum === "number" ? Math.trunc(stratum) : stratum), 2)}` +
    ` ${type} ${padStart(when.slice(0, 4), 4)} ${
      padStart(prettyInterval(pollSeconds).slice(0, 4), 4)
    }` +
    `  ${padStart(typeof reach === "number" ? Math.trunc(reach).toString(8) : reach, 3)}` +
    ` ${f8(delay, sixDecimals)} ${f8(offset, sixDecimals)} ${f8(shownJitter, sixDecimals)}`;
}

function peerType(
  { hostMode, sourceAddress, refid, cookies }: {
    readonly hostMode: Cast;
    readonly sourceAddress: string | null;
    readonly refid: string;
    readonly cookies: Cast;
  },
): string {
  switch (hostMode) {
    case 6:
      return "b";
    case 5:
      return sourceAddress?.startsWith("224.") ? "M" : "B";
    case 3:
      if (refid === "POOL") return "p";
      if (sourceAddress?.startsWith("224.")) return "a";
      if (typeof cookies === "number" && cookies > -1) return String.fromCharCode(cookies + 48);
      return "u";
    case 1:
      return "s";
    case 2:
      return "S";
    default:
      return "?";
  }
}

/**
 * The whole `ntpq -np` output for these associations: header, rule, one row each. Rows are
 * listed only for associations whose status has the configured or reachable bit, as ntpq
 * does. Without associations ntpq prints "No association IDs returned" instead.
 *
 * @example
 * ```ts
 * import type { PeerReading } from "./ntpq_billboard.ts";
 * declare const readings: readonly PeerReading[];
 * const nowUnixSeconds = Date.now() / 1000;
 * formatBillboard(readings, nowUnixSeconds).join("\n");
 * ```
 */
export function formatBillboard(
  readings: readonly PeerReading[],
  nowUnixSeconds: number,
): string[] {
  const rows = readings
    .filter((r) => {
      const status = decodePeerStatus(r.status);
      return status.configured || status.reachable;
    })
    .map((r) => formatBillboardRow(r, nowUnixSeconds));
  return [BILLBOARD_HEADER, BILLBOARD_RULE, ...rows];
}
