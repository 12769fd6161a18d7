// The mode 3 request a client association sends: minimal data (RFC 9109-style), transmit timestamp filled in by the daemon.
import { encodePacket } from "../packet/encode_packet.ts";
import { NtpMode } from "../packet/ntp_packet.ts";
import { ZERO_TIMESTAMP } from "../time/ntp_timestamp.ts";

/** Byte offset of the transmit timestamp the daemon writes before sending (8 bytes). */
export const TRANSMIT_TIMESTAMP_OFFSET = 40;

/**
 * A 48-byte client request: LI 0, the configured version, mode 3, our poll exponent, every other
 * field zero (no stratum, refid or reference time is revealed, as chrony does). Bytes 40..47 (the
 * transmit timestamp) are zero: the daemon writes the local clock reading there, sends, and reports
 * it with `onTransmitted` (with the clock read right before the send call, the measurement's T1);
 * the reply's origin must equal the written value.
 *
 * @example
 * ```ts
 * import { type NtpTimestamp, writeTimestamp } from "../time/ntp_timestamp.ts";
 * declare const t1: NtpTimestamp; // the local clock, just before sending
 * const request = buildClientRequest({ version: 4, pollLog2: 6 });
 * writeTimestamp(new DataView(request.buffer), TRANSMIT_TIMESTAMP_OFFSET, t1);
 * ```
 */
export function buildClientRequest(
  options: { readonly version: number; readonly pollLog2: number },
): Uint8Array {
  return encodePacket({
    leap: 0,
    version: options.version,
    mode: NtpMode.client,
    stratum: 0,
    pollLog2: Math.max(-128, Math.min(127, Math.trunc(options.pollLog2))),
    precisionLog2: 0,
    rootDelayShort: 0,
    rootDispersionShort: 0,
    referenceId: 0,
    referenceTime: ZERO_TIMESTAMP,
    originTime: ZERO_TIMESTAMP,
    receiveTime: ZERO_TIMESTAMP,
    transmitTime: ZERO_TIMESTAMP,
    extensionFields: [],
    mac: null,
  });
}
