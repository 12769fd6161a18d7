// Encodes an NtpPacket to bytes, refusing values that would not decode back to the same packet.
import { writeTimestamp } from "../time/ntp_timestamp.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import { MAX_MAC_LENGTH, MIN_EXTENSION_FIELD_LENGTH } from "./extension_fields.ts";
import { NTP_HEADER_LENGTH, type NtpPacket } from "./ntp_packet.ts";

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot encode NTP packet: ${name} ${value} is not in ${min}..${max}`);
  }
}

function checkTimestamp(name: string, ts: NtpTimestamp): void {
  checkInteger(`${name}.seconds`, ts.seconds, 0, 0xffffffff);
  checkInteger(`${name}.fraction`, ts.fraction, 0, 0xffffffff);
}

/** Throws RangeError unless every field fits its wire width and the trailer is unambiguous. */
function validate(packet: NtpPacket): void {
  checkInteger("leap", packet.leap, 0, 3);
  checkInteger("version", packet.version, 0, 7);
  checkInteger("mode", packet.mode, 0, 5);
  checkInteger("stratum", packet.stratum, 0, 255);
  checkInteger("pollLog2", packet.pollLog2, -128, 127);
  checkInteger("precisionLog2", packet.precisionLog2, -128, 127);
  checkInteger("rootDelayShort", packet.rootDelayShort, 0, 0xffffffff);
  checkInteger("rootDispersionShort", packet.rootDispersionShort, 0, 0xffffffff);
  checkInteger("referenceId", packet.referenceId, 0, 0xffffffff);
  checkTimestamp("referenceTime", packet.referenceTime);
  checkTimestamp("originTime", packet.originTime);
  checkTimestamp("receiveTime", packet.receiveTime);
  checkTimestamp("transmitTime", packet.transmitTime);
  for (const field of packet.extensionFields) {
    checkInteger("extension field type", field.fieldType, 0, 0xffff);
    const length = 4 + field.value.length;
    if (length < MIN_EXTENSION_FIELD_LENGTH || length > 0xfffc || (length & 3) !== 0) {
      throw new RangeError(
        `Cannot encode NTP packet: extension field length ${length} is not a multiple of 4 in 16..65532`,
      );
    }
  }
  let macLength = 0;
  if (packet.mac !== null) {
    checkInteger("mac.keyId", packet.mac.keyId, 0, 0xffffffff);
    const digestLength = packet.mac.digest.length;
    if (digestLength !== 0 && digestLength !== 16 && digestLength !== 20) {
      throw new RangeError(
        `Cannot encode NTP packet: MAC digest of ${digestLength} bytes (expected 0, 16 or 20)`,
      );
    }
    macLength = 4 + digestLength;
  }
  const last = packet.extensionFields.at(-1);
  if (last !== undefined && 4 + last.value.length + macLength <= MAX_MAC_LENGTH) {
    throw new RangeError(
      "Cannot encode NTP packet: the last extension field plus MAC must exceed 24 bytes " +
        "(without a MAC the last field must be at least 28 bytes, RFC 7822 §7.5)",
    );
  }
}

/**
 * Encodes `packet` as it goes on the wire: the 48-byte header, the extension fields in order,
 * then the MAC. decodePacket(encodePacket(p)) equals p for every packet this accepts.
 *
 * @throws {RangeError} When a field does not fit its wire width, an extension field length is
 *   invalid, the MAC digest is not 0/16/20 bytes, or the last extension field is too short to
 *   be told apart from a MAC.
 * @example
 * ```ts
 * import type { NtpPacket } from "./ntp_packet.ts";
 * import { ntpFromUnix } from "../time/ntp_timestamp.ts";
 * declare const packet: NtpPacket;
 * const bytes = encodePacket({ ...packet, transmitTime: ntpFromUnix(1_795_860_832, 0) });
 * ```
 */
export function encodePacket(packet: NtpPacket): Uint8Array {
  validate(packet);
  let length = NTP_HEADER_LENGTH;
  for (const field of packet.extensionFields) length += 4 + field.value.length;
  if (packet.mac !== null) length += 4 + packet.mac.digest.length;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, (packet.leap << 6) | (packet.version << 3) | packet.mode);
  view.setUint8(1, packet.stratum);
  view.setInt8(2, packet.pollLog2);
  view.setInt8(3, packet.precisionLog2);
  view.setUint32(4, packet.rootDelayShort);
  view.setUint32(8, packet.rootDispersionShort);
  view.setUint32(12, packet.referenceId);
  writeTimestamp(view, 16, packet.referenceTime);
  writeTimestamp(view, 24, packet.originTime);
  writeTimestamp(view, 32, packet.receiveTime);
  writeTimestamp(view, 40, packet.transmitTime);
  let offset = NTP_HEADER_LENGTH;
  for (const field of packet.extensionFields) {
    view.setUint16(offset, field.fieldType);
    view.setUint16(offset + 2, 4 + field.value.length);
    bytes.set(field.value, offset + 4);
    offset += 4 + field.value.length;
  }
  if (packet.mac !== null) {
    view.setUint32(offset, packet.mac.keyId);
    bytes.set(packet.mac.digest, offset + 4);
  }
  return bytes;
}
