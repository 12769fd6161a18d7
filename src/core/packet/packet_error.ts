// The error thrown when bytes are not a well-formed NTP packet.

/** Why a datagram could not be decoded as an NTP packet. */
export type PacketErrorReason =
  | "tooShort"
  | "badLength"
  | "malformedExtension"
  | "unsupportedMode";

/**
 * Thrown by the packet decoders for malformed input (never for a programming error, which
 * throws RangeError/TypeError). `reason` names the failed check.
 *
 * @example
 * ```ts
 * import { decodePacket } from "./decode_packet.ts";
 * declare const bytes: Uint8Array;
 * try { decodePacket(bytes); } catch (e) { if (e instanceof PacketError) console.log(e.reason); }
 * ```
 */
export class PacketError extends SyntaxError {
  /** Which check failed. */
  readonly reason: PacketErrorReason;

  /** Creates the error with a "Cannot decode NTP packet: ..." message. */
  constructor(reason: PacketErrorReason, detail: string) {
    super(`Cannot decode NTP packet: ${detail}`);
    this.name = "PacketError";
    this.reason = reason;
  }
}
