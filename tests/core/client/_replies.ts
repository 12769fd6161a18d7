// Builders of server replies for the client tests: a well-formed mode 4 answer to a request, with overrides.
import { encodePacket } from "../../../src/core/packet/encode_packet.ts";
import { NtpMode, type NtpPacket } from "../../../src/core/packet/ntp_packet.ts";
import { refidFromAscii } from "../../../src/core/packet/refid.ts";
import { addSecondsToTimestamp } from "../../../src/core/discipline/system_reference.ts";
import type { NtpTimestamp } from "../../../src/core/time/ntp_timestamp.ts";

/** An arbitrary "now" in era 0 (2023). */
export const T0: NtpTimestamp = { seconds: 3_900_000_000, fraction: 0 };

/** `T0` plus seconds. */
export function at(seconds: number): NtpTimestamp {
  return addSecondsToTimestamp(T0, seconds);
}

/** A synchronised stratum 1 reply whose origin is `origin`, received at T2 and sent at T3. */
export function reply(
  origin: NtpTimestamp,
  times: { readonly t2: NtpTimestamp; readonly t3: NtpTimestamp },
  overrides: Partial<NtpPacket> = {},
): Uint8Array {
  return encodePacket({
    leap: 0,
    version: 4,
    mode: NtpMode.server,
    stratum: 1,
    pollLog2: 6,
    precisionLog2: -23,
    rootDelayShort: 0,
    rootDispersionShort: 33,
    referenceId: refidFromAscii("GPS"),
    referenceTime: addSecondsToTimestamp(times.t2, -10),
    originTime: origin,
    receiveTime: times.t2,
    transmitTime: times.t3,
    extensionFields: [],
    mac: null,
    ...overrides,
  });
}
