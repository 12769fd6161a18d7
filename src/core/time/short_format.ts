// The 32-bit NTP short format (RFC 5905 §6): unsigned 16.16 fixed-point seconds, used for root delay and dispersion.

/** Largest value the short format can carry, in seconds (65535 + 65535/65536). */
export const SHORT_FORMAT_MAX_SECONDS = 0xffffffff / 65536;

/**
 * Converts seconds to the raw 16.16 short format (uint32). Rounds up to the next 2^-16 s so
 * that a delay or dispersion is never understated; negative or NaN input gives 0 and values
 * above {@link SHORT_FORMAT_MAX_SECONDS} saturate at 0xffffffff.
 *
 * @example
 * ```ts
 * shortFromSeconds(0.00122); // 80 (0x50), the root dispersion ntpd sent in the capture
 * ```
 */
export function shortFromSeconds(seconds: number): number {
  if (!(seconds > 0)) return 0;
  if (seconds >= SHORT_FORMAT_MAX_SECONDS) return 0xffffffff;
  return Math.ceil(seconds * 65536) >>> 0;
}

/**
 * Converts a raw 16.16 short-format value (uint32) to seconds.
 *
 * @example
 * ```ts
 * secondsFromShort(0x00010000); // 1
 * ```
 */
export function secondsFromShort(raw: number): number {
  return (raw >>> 0) / 65536;
}
