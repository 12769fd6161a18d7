// One on-wire measurement (RFC 5905 §8): offset, delay and dispersion from the four timestamps.
import { PHI_SECONDS_PER_SECOND } from "../discipline/ntp_constants.ts";
import { ntpDiffSeconds, type NtpTimestamp } from "../time/ntp_timestamp.ts";

/** The four timestamps of a client/server exchange. */
export interface ExchangeTimestamps {
  /**
   * T1: when our request left, local clock (the daemon reads it right before the send call; the
   * reply's origin is the transmit field, written a little earlier).
   */
  readonly originTime: NtpTimestamp;
  /** T2: the server's receive time. */
  readonly serverReceiveTime: NtpTimestamp;
  /** T3: the server's transmit time. */
  readonly serverTransmitTime: NtpTimestamp;
  /** T4: our receive time, local clock. */
  readonly destinationTime: NtpTimestamp;
}

/** A measurement, seconds. */
export interface Measurement {
  /** ((T2 - T1) + (T3 - T4)) / 2: positive means the local clock is behind the server. */
  readonly offsetSeconds: number;
  /** (T4 - T1) - (T3 - T2), at least the local precision. */
  readonly delaySeconds: number;
  /** 2^server precision + 2^local precision + PHI * (T4 - T1). */
  readonly dispersionSeconds: number;
}

/**
 * Computes offset, delay and dispersion as RFC 5905 §8 does (era-safe differences).
 *
 * @example
 * ```ts
 * const timestamps = {
 *   originTime: { seconds: 100, fraction: 0 },
 *   serverReceiveTime: { seconds: 100, fraction: 2 ** 31 },
 *   serverTransmitTime: { seconds: 100, fraction: 2 ** 31 },
 *   destinationTime: { seconds: 100, fraction: 2 ** 24 },
 * };
 * measure(timestamps, { localPrecisionLog2: -20, serverPrecisionLog2: -23 }).offsetSeconds; // 0.498046875
 * ```
 */
export function measure(
  t: ExchangeTimestamps,
  options: { readonly localPrecisionLog2: number; readonly serverPrecisionLog2: number },
): Measurement {
  const outbound = ntpDiffSeconds(t.serverReceiveTime, t.originTime);
  const inbound = ntpDiffSeconds(t.serverTransmitTime, t.destinationTime);
  const roundTrip = ntpDiffSeconds(t.destinationTime, t.originTime);
  const serverHold = ntpDiffSeconds(t.serverTransmitTime, t.serverReceiveTime);
  const localPrecision = Math.pow(2, options.localPrecisionLog2);
  return {
    offsetSeconds: (outbound + inbound) / 2,
    delaySeconds: Math.max(roundTrip - serverHold, localPrecision),
    dispersionSeconds: Math.pow(2, options.serverPrecisionLog2) + localPrecision +
      PHI_SECONDS_PER_SECOND * Math.max(0, roundTrip),
  };
}
