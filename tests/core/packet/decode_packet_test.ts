// Tests of decodePacket/encodePacket: captured vectors, trailers (RFC 7822), round trips and hostile input.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodePacket } from "../../../src/core/packet/decode_packet.ts";
import { encodePacket } from "../../../src/core/packet/encode_packet.ts";
import type { NtpPacket } from "../../../src/core/packet/ntp_packet.ts";
import { PacketError } from "../../../src/core/packet/packet_error.ts";
import { formatRefid } from "../../../src/core/packet/refid.ts";
import { unixFromNtp } from "../../../src/core/time/ntp_timestamp.ts";
import { secondsFromShort } from "../../../src/core/time/short_format.ts";
import { mutate, mutationsArbitrary, packetArbitrary } from "../_arbitraries.ts";
import { capturedRequests, chronydExchange, fromHex, ntpdExchange, toHex } from "../_vectors.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const CAPTURE_UNIX = 1_795_860_832;

function withTrailer(trailer: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(48 + trailer.length);
  bytes.set(fromHex(capturedRequests.ntpdig));
  bytes.set(trailer, 48);
  return bytes;
}

function extensionField(fieldType: number, length: number): Uint8Array {
  const field = new Uint8Array(length);
  field[0] = fieldType >> 8;
  field[1] = fieldType & 0xff;
  field[2] = length >> 8;
  field[3] = length & 0xff;
  return field;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

function assertPacketError(bytes: Uint8Array, reason: string): void {
  assert.throws(() => decodePacket(bytes), (error: unknown) => {
    assert.ok(error instanceof PacketError, `expected PacketError, got ${error}`);
    assert.equal(error.reason, reason);
    return true;
  });
}

Deno.test("decodePacket() reads ntpd's captured mode 4 reply as tshark decodes it", () => {
  const reply = decodePacket(fromHex(ntpdExchange.reply));
  assert.equal(reply.leap, 0);
  assert.equal(reply.version, 4);
  assert.equal(reply.mode, 4);
  assert.equal(reply.stratum, 3);
  assert.equal(reply.pollLog2, 0);
  assert.equal(reply.precisionLog2, -24);
  assert.equal(secondsFromShort(reply.rootDelayShort).toFixed(6), "0.000046");
  assert.equal(secondsFromShort(reply.rootDispersionShort).toFixed(6), "0.001221");
  assert.equal(formatRefid(reply.referenceId, reply.stratum), "10.123.0.1");
  assert.deepEqual(unixFromNtp(reply.referenceTime, CAPTURE_UNIX).unixSeconds, CAPTURE_UNIX - 15);
  assert.deepEqual(reply.originTime, decodePacket(fromHex(ntpdExchange.request)).transmitTime);
  assert.deepEqual(unixFromNtp(reply.receiveTime, CAPTURE_UNIX), {
    unixSeconds: CAPTURE_UNIX,
    nanoseconds: 764_778_852, // tshark (truncating): .764778851
  });
  assert.deepEqual(reply.extensionFields, []);
  assert.equal(reply.mac, null);
});

Deno.test("decodePacket() reads chronyd's captured reply with its local refid 127.127.1.1", () => {
  const reply = decodePacket(fromHex(chronydExchange.reply));
  assert.equal(reply.stratum, 2);
  assert.equal(reply.precisionLog2, -26);
  assert.equal(formatRefid(reply.referenceId, reply.stratum), "127.127.1.1");
  assert.deepEqual(reply.originTime, { seconds: 0xeeb5290c, fraction: 0x5d7dd000 });
});

Deno.test("decodePacket() reads every captured client request as mode 3", () => {
  const versions: number[] = [];
  for (const hex of Object.values(capturedRequests)) {
    const request = decodePacket(fromHex(hex));
    assert.equal(request.mode, 3);
    versions.push(request.version);
  }
  assert.deepEqual(versions, [4, 4, 4, 4, 4, 4]);
  const checkNtpTime = decodePacket(fromHex(capturedRequests.checkNtpTime1));
  assert.equal(checkNtpTime.leap, 3);
  assert.equal(checkNtpTime.pollLog2, 4);
  assert.equal(checkNtpTime.precisionLog2, -6); // 0xfa; tshark prints it as 250
  assert.equal(checkNtpTime.rootDelayShort, 0x10000);
});

Deno.test("encodePacket() reproduces every captured payload byte for byte", () => {
  const all = [...Object.values(capturedRequests), ntpdExchange.reply, chronydExchange.reply];
  for (const hex of all) assert.equal(toHex(encodePacket(decodePacket(fromHex(hex)))), hex);
});

Deno.test("decodePacket() rejects a datagram shorter than 48 bytes", () => {
  assertPacketError(new Uint8Array(0), "tooShort");
  assertPacketError(fromHex(capturedRequests.ntpdig).subarray(0, 47), "tooShort");
});

Deno.test("decodePacket() rejects mode 6 and mode 7 datagrams as unsupported", () => {
  const bytes = fromHex(capturedRequests.ntpdig);
  bytes[0] = 0x16;
  assertPacketError(bytes, "unsupportedMode");
  bytes[0] = 0x17;
  assertPacketError(bytes, "unsupportedMode");
});

Deno.test("decodePacket() accepts a trailing MAC of 4, 20 or 24 bytes", () => {
  for (const macLength of [4, 20, 24]) {
    const mac = new Uint8Array(macLength);
    mac.set([0, 0, 0, 7]);
    mac.fill(0xab, 4);
    const packet = decodePacket(withTrailer(mac));
    assert.equal(packet.mac?.keyId, 7);
    assert.equal(packet.mac?.digest.length, macLength - 4);
    assert.deepEqual(packet.extensionFields, []);
  }
});

Deno.test("decodePacket() rejects trailers that are neither extension fields nor a MAC", () => {
  for (const length of [1, 3, 8, 12, 16, 21, 26]) {
    assertPacketError(withTrailer(new Uint8Array(length)), "badLength");
  }
});

Deno.test("decodePacket() walks extension fields and a following MAC", () => {
  const bytes = withTrailer(
    concat(extensionField(0x0104, 36), extensionField(0x0204, 104), new Uint8Array(20)),
  );
  const packet = decodePacket(bytes);
  assert.deepEqual(packet.extensionFields.map((f) => [f.fieldType, f.value.length]), [
    [0x0104, 32],
    [0x0204, 100],
  ]);
  assert.equal(packet.mac?.digest.length, 16);
});

Deno.test("decodePacket() rejects extension fields shorter than 16, unaligned or overrunning", () => {
  const tooShort = extensionField(1, 32);
  tooShort[3] = 12;
  assertPacketError(withTrailer(tooShort), "malformedExtension");
  const unaligned = extensionField(1, 32);
  unaligned[3] = 30;
  assertPacketError(withTrailer(unaligned), "malformedExtension");
  const overrun = extensionField(1, 32);
  overrun[3] = 36;
  assertPacketError(withTrailer(overrun), "malformedExtension");
  const zero = extensionField(1, 32);
  zero[3] = 0;
  assertPacketError(withTrailer(zero), "malformedExtension");
});

Deno.test("decodePacket() treats a trailing 16- to 24-byte remainder as a MAC, as ntpd does", () => {
  // A 28-byte extension field alone is fine; a 16-byte field followed by a 4-byte crypto-NAK
  // is a 20-byte tail, which is read as a MAC.
  assert.equal(decodePacket(withTrailer(extensionField(2, 28))).extensionFields.length, 1);
  const tail = decodePacket(withTrailer(concat(extensionField(2, 16), new Uint8Array(4))));
  assert.equal(tail.extensionFields.length, 0);
  assert.equal(tail.mac?.digest.length, 16);
});

Deno.test("decodePacket() returns a packet that does not share memory with the input", () => {
  const bytes = withTrailer(concat(extensionField(5, 28), new Uint8Array(20).fill(9)));
  const packet = decodePacket(bytes);
  bytes.fill(0, 48);
  assert.equal(packet.extensionFields[0]?.fieldType, 5);
  assert.equal(packet.mac?.digest[0], 9);
});

Deno.test("decodePacket(encodePacket(p)) equals p for every valid packet", () => {
  fc.assert(
    fc.property(packetArbitrary, (packet: NtpPacket) => {
      assert.deepEqual(decodePacket(encodePacket(packet)), packet);
    }),
    { numRuns: propertyRuns(1000) },
  );
});

Deno.test("encodePacket(decodePacket(b)) equals b for every decodable byte string", () => {
  fc.assert(
    fc.property(packetArbitrary, mutationsArbitrary, (packet, mutations) => {
      const bytes = mutate(encodePacket(packet), mutations);
      let decoded: NtpPacket;
      try {
        decoded = decodePacket(bytes);
      } catch (error) {
        if (error instanceof PacketError) return;
        throw error;
      }
      assert.deepEqual(encodePacket(decoded), bytes);
    }),
    { numRuns: propertyRuns(1000) },
  );
});

Deno.test("decodePacket() throws nothing but PacketError on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodePacket(bytes);
      } catch (error) {
        assert.ok(error instanceof PacketError, String(error));
      }
    }),
    { numRuns: propertyRuns(5000) },
  );
});

Deno.test("decodePacket() throws nothing but PacketError on mutated valid packets", () => {
  fc.assert(
    fc.property(packetArbitrary, mutationsArbitrary, (packet, mutations) => {
      try {
        decodePacket(mutate(encodePacket(packet), mutations));
      } catch (error) {
        assert.ok(error instanceof PacketError, String(error));
      }
    }),
    { numRuns: propertyRuns(3000) },
  );
});

Deno.test("encodePacket() refuses fields that do not fit their wire width", () => {
  const valid = decodePacket(fromHex(ntpdExchange.reply));
  const bad: Partial<NtpPacket>[] = [
    { version: 8 },
    { stratum: 256 },
    { pollLog2: 128 },
    { precisionLog2: -129 },
    { referenceId: -1 },
    { rootDelayShort: 2 ** 32 },
    { transmitTime: { seconds: 1.5, fraction: 0 } },
    { extensionFields: [{ fieldType: 1, value: new Uint8Array(10) }] },
    { mac: { keyId: 1, digest: new Uint8Array(8) } },
  ];
  for (const change of bad) {
    assert.throws(() => encodePacket({ ...valid, ...change }), RangeError, JSON.stringify(change));
  }
});

Deno.test("encodePacket() refuses a last extension field that would decode as a MAC", () => {
  const valid = decodePacket(fromHex(ntpdExchange.reply));
  assert.throws(
    () =>
      encodePacket({ ...valid, extensionFields: [{ fieldType: 1, value: new Uint8Array(20) }] }),
    RangeError,
  );
  assert.throws(
    () =>
      encodePacket({
        ...valid,
        extensionFields: [{ fieldType: 1, value: new Uint8Array(12) }],
        mac: { keyId: 0, digest: new Uint8Array(0) },
      }),
    RangeError,
  );
  // With a 20-byte MAC, a minimal 16-byte field is unambiguous.
  const ok = {
    ...valid,
    extensionFields: [{ fieldType: 1, value: new Uint8Array(12) }],
    mac: { keyId: 3, digest: new Uint8Array(16) },
  };
  assert.deepEqual(decodePacket(encodePacket(ok)), ok);
});
