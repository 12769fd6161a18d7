// The 64-bit NTP timestamp (RFC 5905 §6): era-relative seconds + 32-bit fraction, Unix conversion, wire I/O.

/**
 * A 64-bit NTP timestamp as carried on the wire: seconds since the start of the current NTP era
 * (era 0 began 1900-01-01T00:00:00Z, era 1 begins 2036-02-07T06:28:16Z) and a binary fraction
 * of a second (units of 2^-32 s). Both fields are unsigned 32-bit integers.
 *
 * @example
 * ```ts
 * const ts: NtpTimestamp = { seconds: 0xeeb527e0, fraction: 0xc3c1f000 };
 * ```
 */
export interface NtpTimestamp {
  /** Era-relative seconds, uint32. */
  readonly seconds: number;
  /** Fraction of a second in units of 2^-32 s, uint32. */
  readonly fraction: number;
}

/** Seconds from the NTP prime epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_EPOCH_OFFSET_SECONDS = 2_208_988_800;

/** Length of one NTP era in seconds (2^32). */
export const NTP_ERA_SECONDS = 4_294_967_296;

/** The all-zero timestamp, which NTP uses to mean "unknown / not set". */
export const ZERO_TIMESTAMP: NtpTimestamp = Object.freeze({ seconds: 0, fraction: 0 });

const FRACTION_PER_SECOND = 4_294_967_296;
const NANOSECONDS_PER_SECOND = 1_000_000_000;

/** Rounds nanoseconds (0 <= ns < 1e9) to the nearest 2^-32 s fraction; the result is < 2^32. */
function fractionFromNanoseconds(nanoseconds: number): number {
  // ns * 2^32 is exact in a double (power-of-two scaling); the division is correctly rounded.
  return Math.round((nanoseconds * FRACTION_PER_SECOND) / NANOSECONDS_PER_SECOND);
}

/** Maps Unix seconds (any era) to era-relative NTP seconds (uint32). */
function ntpSecondsFromUnix(unixSeconds: number): number {
  const total = unixSeconds + NTP_UNIX_EPOCH_OFFSET_SECONDS;
  const wrapped = total % NTP_ERA_SECONDS;
  return wrapped < 0 ? wrapped + NTP_ERA_SECONDS : wrapped;
}

/**
 * Converts a Unix time to an NTP timestamp. Times from 2036-02-07T06:28:16Z on fall in era 1
 * and wrap modulo 2^32 (era 1 second 0 is that instant). Nanoseconds are rounded to the nearest
 * 2^-32 s; a fractional `unixSeconds` is folded into the fraction.
 *
 * @param unixSeconds Seconds since 1970-01-01T00:00:00Z (normally an integer).
 * @param nanoseconds Nanoseconds within that second, 0 <= ns < 1e9 (values outside carry over).
 * @example
 * ```ts
 * ntpFromUnix(2_085_978_496, 0); // { seconds: 0, fraction: 0 } (start of era 1)
 * ```
 */
export function ntpFromUnix(unixSeconds: number, nanoseconds: number): NtpTimestamp {
  const timestamp = { seconds: 0, fraction: 0 };
  setNtpFromUnix(timestamp, unixSeconds, nanoseconds);
  return timestamp;
}

/**
 * {@link ntpFromUnix} into an existing object, for the responder's per-datagram receive time:
 * the hot path allocates nothing.
 *
 * @example
 * ```ts
 * const receiveTime = { seconds: 0, fraction: 0 };
 * setNtpFromUnix(receiveTime, 2_085_978_496, 500_000_000); // { seconds: 0, fraction: 2 ** 31 }
 * ```
 */
export function setNtpFromUnix(
  target: { seconds: number; fraction: number },
  unixSeconds: number,
  nanoseconds: number,
): void {
  let seconds = Math.floor(unixSeconds);
  let ns = nanoseconds + (unixSeconds - seconds) * NANOSECONDS_PER_SECOND;
  if (ns >= NANOSECONDS_PER_SECOND || ns < 0) {
    const carry = Math.floor(ns / NANOSECONDS_PER_SECOND);
    seconds += carry;
    ns -= carry * NANOSECONDS_PER_SECOND;
  }
  let fraction = fractionFromNanoseconds(ns);
  if (fraction >= FRACTION_PER_SECOND) {
    fraction -= FRACTION_PER_SECOND;
    seconds += 1;
  }
  target.seconds = ntpSecondsFromUnix(seconds);
  target.fraction = fraction;
}

/**
 * Converts an NTP timestamp to Unix time, choosing the era that puts the result closest to
 * `pivotUnixSeconds` (within ±2^31 s, about ±68 years), as RFC 5905 and chrony do. The pivot
 * is normally "now" from the system clock (or a build date when the clock is unknown).
 * Nanoseconds are rounded to the nearest ns (a carry into the next second is applied).
 *
 * @example
 * ```ts
 * unixFromNtp({ seconds: 0, fraction: 0 }, 2_085_978_000); // { unixSeconds: 2085978496, nanoseconds: 0 }
 * ```
 */
export function unixFromNtp(
  ts: NtpTimestamp,
  pivotUnixSeconds: number,
): { unixSeconds: number; nanoseconds: number } {
  const base = ts.seconds - NTP_UNIX_EPOCH_OFFSET_SECONDS;
  const era = Math.floor((pivotUnixSeconds - base + NTP_ERA_SECONDS / 2) / NTP_ERA_SECONDS);
  let unixSeconds = base + era * NTP_ERA_SECONDS;
  let nanoseconds = Math.round((ts.fraction / FRACTION_PER_SECOND) * NANOSECONDS_PER_SECOND);
  if (nanoseconds >= NANOSECONDS_PER_SECOND) {
    nanoseconds -= NANOSECONDS_PER_SECOND;
    unixSeconds += 1;
  }
  return { unixSeconds, nanoseconds };
}

/**
 * Reads a big-endian 64-bit NTP timestamp at `offset`.
 *
 * @example
 * ```ts
 * declare const packet: Uint8Array; // a received NTP packet
 * const ts = readTimestamp(new DataView(packet.buffer, packet.byteOffset), 40);
 * ```
 */
export function readTimestamp(view: DataView, offset: number): NtpTimestamp {
  return { seconds: view.getUint32(offset), fraction: view.getUint32(offset + 4) };
}

/**
 * Writes `ts` big-endian at `offset` (8 bytes).
 *
 * @example
 * ```ts
 * const view = new DataView(new ArrayBuffer(48));
 * writeTimestamp(view, 24, { seconds: 1, fraction: 2 });
 * ```
 */
export function writeTimestamp(view: DataView, offset: number, ts: NtpTimestamp): void {
  view.setUint32(offset, ts.seconds >>> 0);
  view.setUint32(offset + 4, ts.fraction >>> 0);
}

/**
 * Hot path: writes the NTP form of a Unix time at `offset` without allocating (same rounding
 * and era wrap as {@link ntpFromUnix}).
 *
 * @example
 * ```ts
 * const view = new DataView(new ArrayBuffer(48));
 * writeUnixAsNtp(view, 40, 1_795_860_832, 764_883_158);
 * ```
 */
export function writeUnixAsNtp(
  view: DataView,
  offset: number,
  unixSeconds: number,
  nanoseconds: number,
): void {
  let seconds = unixSeconds;
  let ns = nanoseconds;
  if (!Number.isInteger(seconds) || ns < 0 || ns >= NANOSECONDS_PER_SECOND) {
    const whole = Math.floor(seconds);
    ns += (seconds - whole) * NANOSECONDS_PER_SECOND;
    seconds = whole;
    const carry = Math.floor(ns / NANOSECONDS_PER_SECOND);
    seconds += carry;
    ns -= carry * NANOSECONDS_PER_SECOND;
  }
  let fraction = fractionFromNanoseconds(ns);
  if (fraction >= FRACTION_PER_SECOND) {
    fraction -= FRACTION_PER_SECOND;
    seconds += 1;
  }
  view.setUint32(offset, ntpSecondsFromUnix(seconds));
  view.setUint32(offset + 4, fraction);
}

/**
 * True for the all-zero timestamp (NTP's "not set").
 *
 * @example
 * ```ts
 * isZeroTimestamp({ seconds: 0, fraction: 0 }); // true
 * ```
 */
export function isZeroTimestamp(ts: NtpTimestamp): boolean {
  return ts.seconds === 0 && ts.fraction === 0;
}

/**
 * `a - b` in seconds (positive when `a` is later), correct across an era boundary as long as
 * the true difference is under 2^31 s (about 68 years). Resolution is that of a double
 * (sub-nanosecond for differences under a few days).
 *
 * @example
 * ```ts
 * ntpDiffSeconds({ seconds: 0, fraction: 0 }, { seconds: 0xffffffff, fraction: 0 }); // 1
 * ```
 */
export function ntpDiffSeconds(a: NtpTimestamp, b: NtpTimestamp): number {
  const wholeSeconds = (a.seconds - b.seconds) | 0;
  return wholeSeconds + (a.fraction - b.fraction) / FRACTION_PER_SECOND;
}

/**
 * True when both timestamps have the same bits.
 *
 * @example
 * ```ts
 * timestampsEqual({ seconds: 1, fraction: 2 }, { seconds: 1, fraction: 2 }); // true
 * ```
 */
export function timestampsEqual(a: NtpTimestamp, b: NtpTimestamp): boolean {
  return a.seconds === b.seconds && a.fraction === b.fraction;
}
