// Decodes an NTP time packet (modes 0..5) from bytes, rejecting malformed input with PacketError.
import type { LeapIndicator } from "../server/types.ts";
import { readTimestamp } from "../time/ntp_timestamp.ts";
import { parseTrailer } from "./extension_fields.ts";
import { NTP_HEADER_LENGTH, type NtpModeValue, type NtpPacket } from "./ntp_packet.ts";
import { PacketError } from "./packet_error.ts";

/**
 * Decodes `bytes` into an {@link NtpPacket}. The header fields are taken as they are (no
 * semantic checks on version, stratum or timestamps: that is the caller's policy); the bytes
 * after the header must be RFC 7822 extension fields and/or a MAC. The result does not share
 * memory with `bytes`.
 *
 * @throws {PacketError} `tooShort` (< 48 bytes), `unsupportedMode` (mode 6 control or mode 7
 *   private: different layouts), `badLength` or `malformedExtension` (bad trailer).
 * @example
 * ```ts
 * declare const datagram: Uint8Array;
 * const packet = decodePacket(datagram);
 * console.log(packet.stratum, packet.transmitTime);
 * ```
 */
export function decodePacket(bytes: Uint8Array): NtpPacket {
  if (bytes.length < NTP_HEADER_LENGTH) {
    throw new PacketError(
      "tooShort",
      `${bytes.length} bytes is shorter than the ${NTP_HEADER_LENGTH}-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint8(0);
  const mode = first & 7;
  if (mode === 6 || mode === 7) {
    throw new PacketError("unsupportedMode", `mode ${mode} is not an NTP time packet`);
  }
  const { extensionFields, mac } = parseTrailer(bytes, NTP_HEADER_LENGTH);
  return {
    leap: (first >>> 6) as LeapIndicator,
    version: (first >>> 3) & 7,
    mode: mode as NtpModeValue,
    stratum: view.getUint8(1),
    pollLog2: view.getInt8(2),
    precisionLog2: view.getInt8(3),
    rootDelayShort: view.getUint32(4),
    rootDispersionShort: view.getUint32(8),
    referenceId: view.getUint32(12),
    referenceTime: readTimestamp(view, 16),
    originTime: readTimestamp(view, 24),
    receiveTime: readTimestamp(view, 32),
    transmitTime: readTimestamp(view, 40),
    extensionFields,
    mac,
  };
}
