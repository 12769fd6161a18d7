// fast-check generators of valid NTP packets and of hostile variations of them, shared by the core property tests.
import fc from "fast-check";
import type { ExtensionField, NtpModeValue, NtpPacket } from "../../src/core/packet/ntp_packet.ts";
import type { LeapIndicator } from "../../src/core/server/types.ts";

const uint32 = fc.integer({ min: 0, max: 0xffffffff });
// fc.record builds null-prototype objects; spread them so deepStrictEqual matches decoded packets.
const timestamp = fc.record({ seconds: uint32, fraction: uint32 }).map((t) => ({ ...t }));

/** An extension field with a body of 12..200 bytes (multiple of 4). */
export const extensionFieldArbitrary: fc.Arbitrary<ExtensionField> = fc.record({
  fieldType: fc.integer({ min: 0, max: 0xffff }),
  value: fc.integer({ min: 3, max: 50 }).chain((words) =>
    fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })
  ),
}).map((field) => ({ ...field }));

const macArbitrary = fc.option(
  fc.record({
    keyId: uint32,
    digest: fc.constantFrom(0, 16, 20).chain((length) =>
      fc.uint8Array({ minLength: length, maxLength: length })
    ),
  }).map((mac) => ({ ...mac })),
  { nil: null },
);

/** Makes the last extension field long enough to be told from a MAC (RFC 7822 §7.5). */
function disambiguate(packet: NtpPacket): NtpPacket {
  const fields = packet.extensionFields;
  const last = fields.at(-1);
  if (last === undefined) return packet;
  const macLength = packet.mac === null ? 0 : 4 + packet.mac.digest.length;
  if (4 + last.value.length + macLength > 24) return packet;
  const longer = new Uint8Array(24);
  longer.set(last.value);
  return { ...packet, extensionFields: [...fields.slice(0, -1), { ...last, value: longer }] };
}

/** Any packet encodePacket accepts (modes 0..5, any header values, extension fields, MAC). */
export const packetArbitrary: fc.Arbitrary<NtpPacket> = fc.record({
  leap: fc.constantFrom<LeapIndicator>(0, 1, 2, 3),
  version: fc.integer({ min: 0, max: 7 }),
  mode: fc.constantFrom<NtpModeValue>(0, 1, 2, 3, 4, 5),
  stratum: fc.integer({ min: 0, max: 255 }),
  pollLog2: fc.integer({ min: -128, max: 127 }),
  precisionLog2: fc.integer({ min: -128, max: 127 }),
  rootDelayShort: uint32,
  rootDispersionShort: uint32,
  referenceId: uint32,
  referenceTime: timestamp,
  originTime: timestamp,
  receiveTime: timestamp,
  transmitTime: timestamp,
  extensionFields: fc.array(extensionFieldArbitrary, { maxLength: 4 }),
  mac: macArbitrary,
}).map((packet) => disambiguate({ ...packet }));

/** A well-formed client request (mode 3, version 1..4). */
export const requestArbitrary: fc.Arbitrary<NtpPacket> = packetArbitrary.chain((packet) =>
  fc.integer({ min: 1, max: 4 }).map((version) => ({ ...packet, mode: 3 as const, version }))
);

/** Ways to damage a datagram: flip bytes, truncate, or append junk. */
export type Mutation =
  | { readonly kind: "set"; readonly index: number; readonly value: number }
  | { readonly kind: "truncate"; readonly length: number }
  | { readonly kind: "append"; readonly bytes: Uint8Array };

/** A short list of random mutations. */
export const mutationsArbitrary: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant("set" as const),
      index: fc.nat({ max: 1000 }),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant("truncate" as const), length: fc.nat({ max: 1000 }) }),
    fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
  ),
  { minLength: 1, maxLength: 4 },
);

/** Applies mutations to a copy of `bytes`. */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let result = bytes.slice();
  for (const mutation of mutations) {
    if (mutation.kind === "set") {
      if (result.length > 0) result[mutation.index % result.length] = mutation.value;
    } else if (mutation.kind === "truncate") {
      result = result.slice(0, Math.min(result.length, mutation.length));
    } else {
      const longer = new Uint8Array(result.length + mutation.bytes.length);
      longer.set(result);
      longer.set(mutation.bytes, result.length);
      result = longer;
    }
  }
  return result;
}
