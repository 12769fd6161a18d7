// The lines of ntpd's statistics files (loopstats, peerstats, rawstats, sysstats): written as NTPsec writes them, read back for plots.
//
// Every line starts with the Modified Julian Day and the seconds past UTC midnight (three
// decimals), the fields ntpviz and ntpd's scripts key on. Numbers use C's %.9f / %.6f layout.
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import { refidToDottedQuad } from "../packet/refid.ts";

/** The statistics files ntpd names and this daemon writes (clockstats stays empty: no refclocks). */
export const STATS_KINDS = [
  "loopstats",
  "peerstats",
  "rawstats",
  "sysstats",
  "clockstats",
] as const;

/** One of {@link STATS_KINDS}. */
export type StatsKind = (typeof STATS_KINDS)[number];

/** ntpd's statistics ntp does not write (yet): refused with "not supported yet" by the config. */
export const UNSUPPORTED_STATS_KINDS: readonly string[] = [
  "cryptostats",
  "protostats",
  "timingstats",
  "usestats",
];

/** Modified Julian Day of 1970-01-01. */
export const MJD_OF_UNIX_EPOCH = 40_587;

const SECONDS_PER_DAY = 86_400;

/**
 * The first two fields of every statistics line: MJD and seconds past UTC midnight, to the
 * millisecond (truncated, so a line never reads 86400.000).
 *
 * @example
 * ```ts
 * statsTimeText(1_796_601_600.25); // "61381 0.250" (2026-12-07T00:00:00.25Z)
 * ```
 */
export function statsTimeText(unixSeconds: number): string {
  const milliseconds = Math.floor(unixSeconds * 1000);
  const day = Math.floor(milliseconds / (SECONDS_PER_DAY * 1000));
  const ofDay = milliseconds - day * SECONDS_PER_DAY * 1000;
  const whole = Math.floor(ofDay / 1000);
  const fraction = String(ofDay - whole * 1000).padStart(3, "0");
  return `${day + MJD_OF_UNIX_EPOCH} ${whole}.${fraction}`;
}

/**
 * Unix seconds of a line's MJD and seconds-past-midnight fields (as ntpviz computes them).
 *
 * @example
 * ```ts
 * unixSecondsOfStatsTime(61381, 0.25); // 1_796_601_600.25
 * ```
 */
export function unixSecondsOfStatsTime(day: number, secondsOfDay: number): number {
  return (day - MJD_OF_UNIX_EPOCH) * SECONDS_PER_DAY + secondsOfDay;
}

/** One loopstats line: a clock discipline update. */
export interface LoopStatsRecord {
  readonly unixSeconds: number;
  /** Offset of the update, seconds (positive: the clock was behind). */
  readonly offsetSeconds: number;
  /** Frequency correction, ppm (ntpq's `frequency`). */
  readonly frequencyPpm: number;
  /** RMS clock jitter, seconds. */
  readonly jitterSeconds: number;
  /** Frequency wander, ppm (ntpq's `clk_wander`). */
  readonly wanderPpm: number;
  /** Time constant: the poll interval, log2 seconds. */
  readonly pollLog2: number;
}

/** One peerstats line: a sample taken into an upstream's clock filter. */
export interface PeerStatsRecord {
  readonly unixSeconds: number;
  /** The upstream's IP address, as ntpd prints it (no port, no brackets). */
  readonly address: string;
  /** The peer status word (mode 6), printed in hex. */
  readonly statusWord: number;
  readonly offsetSeconds: number;
  readonly delaySeconds: number;
  readonly dispersionSeconds: number;
  readonly jitterSeconds: number;
}

/** One rawstats line: a reply from an upstream with its four timestamps and header. */
export interface RawStatsRecord {
  readonly unixSeconds: number;
  readonly sourceAddress: string;
  /** Our address toward it; null when unknown ("-"). */
  readonly destinationAddress: string | null;
  /** T1..T4: our request's transmit time, its receive and transmit times, our receive time. */
  readonly originate: NtpTimestamp;
  readonly receive: NtpTimestamp;
  readonly transmit: NtpTimestamp;
  readonly destination: NtpTimestamp;
  readonly leap: number;
  readonly version: number;
  readonly mode: number;
  readonly stratum: number;
  readonly pollLog2: number;
  readonly precisionLog2: number;
  readonly rootDelaySeconds: number;
  readonly rootDispersionSeconds: number;
  readonly referenceId: number;
  /** Requests that went unanswered before the one this reply answers (NTPsec's outcount). */
  readonly lostRequests: number;
  /** Replies from it refused since our last request (NTPsec's bogons). */
  readonly rejectedReplies: number;
  /** Why the reply was refused (the association's flash bits); 0 when it was taken. */
  readonly flashBits: number;
}

/** One sysstats line: the server's packet counters over the last period (ntpd: an hour). */
export interface SysStatsRecord {
  readonly unixSeconds: number;
  /** Seconds the counters cover (since the previous line or the start). */
  readonly periodSeconds: number;
  readonly received: number;
  readonly processed: number;
  readonly currentVersion: number;
  readonly olderVersion: number;
  readonly restricted: number;
  readonly badFormat: number;
  readonly badAuthentication: number;
  readonly declined: number;
  readonly rateLimited: number;
  readonly kodSent: number;
  /** NTPv1 requests (NTPsec's last sysstats field). */
  readonly version1Clients: number;
}

/**
 * C's %.Nf (glibc): exact ties round to even (toFixed rounds them away from zero: 0.0078125 to
 * 6 places is 0.007812 in C, 0.007813 from toFixed), negative zero keeps its sign, and NaN and
 * infinities print as nan, inf, -inf.
 */
export function formatFixed(value: number, decimals: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  const magnitude = Math.abs(value);
  // An exact tie is a binary fraction n / 2^(decimals+1) with n odd (then n * 5^decimals / 2 is
  // exactly halfway between two integers of the last place).
  const twice = magnitude * 2 ** (decimals + 1);
  if (Number.isInteger(twice) && twice % 2 === 1 && twice <= Number.MAX_SAFE_INTEGER) {
    let units = (BigInt(twice) * 5n ** BigInt(decimals) - 1n) / 2n;
    if (units % 2n === 1n) units += 1n;
    const digits = units.toString().padStart(decimals + 1, "0");
    const text = decimals === 0
      ? digits
      : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
    return `${sign}${text}`;
  }
  return `${sign}${magnitude.toFixed(decimals)}`;
}

const fixed = formatFixed;

/** ulfptoa(t, 9): an NTP timestamp as unsigned seconds with nine decimals. */
function timestampText(t: NtpTimestamp): string {
  let seconds = t.seconds;
  let nanoseconds = Math.round(t.fraction * 1e9 / 2 ** 32);
  if (nanoseconds >= 1e9) {
    seconds += 1;
    nanoseconds -= 1e9;
  }
  return `${seconds}.${String(nanoseconds).padStart(9, "0")}`;
}

/**
 * NTPsec's refid_str: a dotted quad above stratum 1, else the code's bytes up to the first NUL
 * between dots, as they are (chronyd's local refid 0x7f7f0101 is written ".\x7f\x7f\x01\x01.");
 * only whitespace, which would split or end the line, is written "?".
 */
function refidText(referenceId: number, stratum: number): string {
  if (stratum > 1) return refidToDottedQuad(referenceId);
  let text = "";
  for (const shift of [24, 16, 8, 0]) {
    const code = (referenceId >>> shift) & 0xff;
    if (code === 0) break;
    text += code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
      ? "?"
      : String.fromCharCode(code);
  }
  return `.${text}.`;
}

/**
 * A loopstats line (NTPsec: `%lu %s %.9f %.6f %.9f %.6f %d`).
 *
 * @example
 * ```ts
 * formatLoopStats({
 *   unixSeconds: 1_796_601_600.25, offsetSeconds: 1.5e-5, frequencyPpm: -12.25,
 *   jitterSeconds: 2e-6, wanderPpm: 0.004, pollLog2: 6,
 * }); // "61381 0.250 0.000015000 -12.250000 0.000002000 0.004000 6"
 * ```
 */
export function formatLoopStats(r: LoopStatsRecord): string {
  return `${statsTimeText(r.unixSeconds)} ${fixed(r.offsetSeconds, 9)} ${
    fixed(r.frequencyPpm, 6)
  } ${fixed(r.jitterSeconds, 9)} ${fixed(r.wanderPpm, 6)} ${r.pollLog2}`;
}

/**
 * A peerstats line (NTPsec: `%lu %s %s %x %.9f %.9f %.9f %.9f`).
 *
 * @example
 * ```ts
 * formatPeerStats({
 *   unixSeconds: 1_796_601_600.25, address: "192.0.2.1", statusWord: 0x961a,
 *   offsetSeconds: -0.0001, delaySeconds: 0.0203, dispersionSeconds: 0.0011, jitterSeconds: 0.00005,
 * }); // "61381 0.250 192.0.2.1 961a -0.000100000 0.020300000 0.001100000 0.000050000"
 * ```
 */
export function formatPeerStats(r: PeerStatsRecord): string {
  return `${statsTimeText(r.unixSeconds)} ${r.address} ${r.statusWord.toString(16)} ${
    fixed(r.offsetSeconds, 9)
  } ${fixed(r.delaySeconds, 9)} ${fixed(r.dispersionSeconds, 9)} ${fixed(r.jitterSeconds, 9)}`;
}

/**
 * A rawstats line (NTPsec 1.2: day, time, source, destination, T1-T4, leap, version, mode,
 * stratum, poll, precision, root delay, root dispersion, refid, lost requests, refused replies,
 * flash bits in hex).
 *
 * @example
 * ```ts
 * declare const record: RawStatsRecord;
 * formatRawStats(record).split(" ").length; // 20
 * ```
 */
export function formatRawStats(r: RawStatsRecord): string {
  return [
    statsTimeText(r.unixSeconds),
    r.sourceAddress,
    r.destinationAddress ?? "-",
    timestampText(r.originate),
    timestampText(r.receive),
    timestampText(r.transmit),
    timestampText(r.destination),
    r.leap,
    r.version,
    r.mode,
    r.stratum,
    r.pollLog2,
    r.precisionLog2,
    fixed(r.rootDelaySeconds, 6),
    fixed(r.rootDispersionSeconds, 6),
    refidText(r.referenceId, r.stratum),
    r.lostRequests,
    r.rejectedReplies,
    r.flashBits.toString(16),
  ].join(" ");
}

/**
 * A sysstats line (NTPsec 1.2: day, time, seconds since reset, received, processed, current
 * version, old version, access denied, bad length or format, bad authentication, declined, rate
 * exceeded, KoD sent, NTPv1 requests).
 *
 * @example
 * ```ts
 * declare const record: SysStatsRecord;
 * formatSysStats(record).split(" ").length; // 14
 * ```
 */
export function formatSysStats(r: SysStatsRecord): string {
  return [
    statsTimeText(r.unixSeconds),
    Math.round(r.periodSeconds),
    r.received,
    r.processed,
    r.currentVersion,
    r.olderVersion,
    r.restricted,
    r.badFormat,
    r.badAuthentication,
    r.declined,
    r.rateLimited,
    r.kodSent,
    r.version1Clients,
  ].join(" ");
}

/** The fields of a line as numbers where they must be, or null when it is not such a line. */
function numbersAt(fields: readonly string[], indexes: readonly number[]): number[] | null {
  const values: number[] = [];
  for (const index of indexes) {
    const text = fields[index];
    if (text === undefined || !/^[-+]?[0-9]+(\.[0-9]*)?(e[-+]?[0-9]+)?$/i.test(text)) {
      return null;
    }
    values.push(Number(text));
  }
  return values;
}

/**
 * Reads a loopstats line (ntpd's, NTPsec's or ours); null for a torn, blank or foreign line.
 * Classic ntpd lines with only five fields have no jitter/wander: those read as 0.
 *
 * @example
 * ```ts
 * parseLoopStats("61381 0.250 0.000015000 -12.250000 0.000002000 0.004000 6")?.frequencyPpm; // -12.25
 * ```
 */
export function parseLoopStats(line: string): LoopStatsRecord | null {
  const fields = line.trim().split(/\s+/);
  // ntp classic's 5 fields: day, time, offset, frequency, poll (no jitter, no wander).
  const classic = fields.length === 5;
  if (!classic && fields.length !== 7) return null;
  const v = numbersAt(fields, fields.map((_, index) => index));
  if (v === null) return null;
  return {
    unixSeconds: unixSecondsOfStatsTime(v[0]!, v[1]!),
    offsetSeconds: v[2]!,
    frequencyPpm: v[3]!,
    jitterSeconds: classic ? 0 : v[4]!,
    wanderPpm: classic ? 0 : v[5]!,
    pollLog2: classic ? v[4]! : v[6]!,
  };
}

/**
 * Reads a peerstats line; null for a torn, blank or foreign line.
 *
 * @example
 * ```ts
 * parsePeerStats("61381 0.250 192.0.2.1 961a -0.000100000 0.020300000 0.001100000 0.000050000")?.statusWord; // 0x961a
 * ```
 */
export function parsePeerStats(line: string): PeerStatsRecord | null {
  const fields = line.trim().split(/\s+/);
  if (fields.length !== 8) return null;
  const values = numbersAt(fields, [0, 1, 4, 5, 6, 7]);
  const address = fields[2] as string;
  const status = fields[3] as string;
  if (values === null || !/^[0-9a-f]{1,4}$/i.test(status)) return null;
  const [day, seconds, offset, delay, dispersion, jitter] = values;
  return {
    unixSeconds: unixSecondsOfStatsTime(day!, seconds!),
    address,
    statusWord: parseInt(status, 16),
    offsetSeconds: offset!,
    delaySeconds: delay!,
    dispersionSeconds: dispersion!,
    jitterSeconds: jitter!,
  };
}
