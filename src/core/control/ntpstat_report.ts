// The `ntpstat` report (Debian 0.0.0.1) computed from a READVAR answer for association 0, line for line and with its exit code.
import { formatC } from "./c_format.ts";
import { CONTROL_MAX_DATA_LENGTH } from "./control_message.ts";
import { decodeSystemStatus } from "./status_words.ts";

/** ntpstat's names of the system status word's clock sources 0..9. */
const clockSourceNames = [
  "unspecified",
  "atomic clock",
  "VLF radio",
  "HF radio",
  "UHF radio",
  "local net",
  "NTP server",
  "UDP/TIME",
  "wristwatch",
  "modem",
];

/** The lines ntpstat prints and the exit code it returns (0 synchronised, 1 not). */
export interface NtpstatReport {
  readonly lines: readonly string[];
  readonly exitCode: 0 | 1;
}

/**
 * What ntpstat prints for a reply with this system status word and payload. Like ntpstat it
 * reads only the first 468 data bytes (one datagram) as a C string and finds `refid=`,
 * `stratum=`, `rootdisp=`, `rootdelay=` and `tc=` with strstr, so a server that puts them later
 * (or puts `mintc=` first) reads as unknown here too. Lines carry no newline; the stratum line
 * keeps ntpstat's trailing space.
 *
 * @example
 * ```ts
 * ntpstatReport(0x0615, "leap=0, stratum=2, rootdelay=12.345, rootdisp=7.500, refid=192.0.2.7, tc=6");
 * // { lines: ["synchronised to NTP server (192.0.2.7) at stratum 2 ",
 * //           "   time correct to within 14 ms", "   polling server every 64 s"], exitCode: 0 }
 * ```
 */
export function ntpstatReport(status: number, payload: string): NtpstatReport {
  const nul = payload.indexOf("\0");
  const text = payload.slice(0, Math.min(nul < 0 ? payload.length : nul, CONTROL_MAX_DATA_LENGTH));
  const { leap, clockSource, eventCode } = decodeSystemStatus(status);
  const lines: string[] = [];
  let exitCode: 0 | 1 = 0;
  if (leap === 3) {
    lines.push("unsynchronised");
    if (eventCode === 1) lines.push("  time server re-starting");
    exitCode = 1;
  } else {
    let line = "synchronised to " + (clockSourceNames[clockSource] ?? "unknown source");
    if (clockSource === 6) {
      const refid = field(text, "refid=");
      if (refid === null) {
        exitCode = 1;
        line += " <IP unknown>";
      } else {
        line += refid.length === 0 || refid.length > 16 ? " <IP unreadable>" : ` (${refid})`;
      }
    }
    const stratum = field(text, "stratum=");
    if (stratum === null) {
      exitCode = 1;
      lines.push(line + ", stratum unknown");
    } else {
      lines.push(
        line +
          (stratum.length === 0 || stratum.length > 2
            ? ", stratum unreadable"
            : ` at stratum ${stratum} `),
      );
    }
    const dispersion = field(text, "rootdisp=");
    const delay = field(text, "rootdelay=");
    if (dispersion === null || delay === null) {
      exitCode = 1;
      lines.push("accuracy unknown");
    } else if (
      dispersion.length === 0 || dispersion.length > 10 || delay.length === 0 || delay.length > 10
    ) {
      lines.push("accuracy unreadable");
    } else {
      lines.push(`   time correct to within ${formatC(atof(dispersion) + atof(delay) / 2, 0)} ms`);
    }
  }
  const poll = field(text, "tc=");
  if (poll === null) {
    exitCode = 1;
    lines.push("poll interval unknown");
  } else if (poll.length === 0 || poll.length > 2) {
    lines.push("poll interval unreadable");
  } else {
    lines.push(`   polling server every ${leftShiftOne(atoi(poll))} s`);
  }
  return { lines, exitCode };
}

/** `strstr(text, key)` then `strtok(rest, ",")`: null when the key is absent. */
function field(text: string, key: string): string | null {
  const at = text.indexOf(key);
  if (at < 0) return null;
  const rest = text.slice(at + key.length).replace(/^,+/, "");
  const comma = rest.indexOf(",");
  return comma < 0 ? rest : rest.slice(0, comma);
}

/** C's atof: the longest numeric prefix after leading whitespace, else 0. */
function atof(text: string): number {
  const match = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text);
  return match === null ? 0 : Number(match[0]);
}

/** C's atoi. */
function atoi(text: string): number {
  const match = /^\s*[-+]?\d+/.exec(text);
  return match === null ? 0 : Number.parseInt(match[0], 10);
}

/** `1 << n` on a 32-bit int, as ntpstat computes the poll interval. */
function leftShiftOne(n: number): number {
  return 1 << (n & 31);
}
