// Tests of Kiss-o'-Death helpers: recognition, client actions, and the ntpd-style KoD layout.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodePacket } from "../../../src/core/packet/decode_packet.ts";
import { encodePacket } from "../../../src/core/packet/encode_packet.ts";
import {
  buildKissOfDeath,
  isKissOfDeath,
  KISS_CODES,
  KISS_RATE_REFID,
  kissAction,
  kissCodeOf,
  writeKissOfDeath,
} from "../../../src/core/packet/kiss_code.ts";
import { refidFromAscii } from "../../../src/core/packet/refid.ts";
import { requestArbitrary } from "../_arbitraries.ts";
import { capturedRequests, fromHex, ntpdExchange } from "../_vectors.ts";
import { propertyRuns } from "../../support/property_runs.ts";

Deno.test("kissCodeOf() reads the code of a stratum 0 reply and ignores normal replies", () => {
  const reply = decodePacket(fromHex(ntpdExchange.reply));
  assert.equal(isKissOfDeath(reply), false);
  assert.equal(kissCodeOf(reply), null);
  const kod = { ...reply, stratum: 0, leap: 3 as const, referenceId: refidFromAscii("DENY") };
  assert.equal(isKissOfDeath(kod), true);
  assert.equal(kissCodeOf(kod), "DENY");
});

Deno.test("a stratum 0 client request is not a Kiss-o'-Death", () => {
  assert.equal(isKissOfDeath(decodePacket(fromHex(capturedRequests.ntpdig))), false);
});

Deno.test("kissAction() demobilises on DENY and RSTR and slows down on RATE", () => {
  assert.equal(kissAction("DENY"), "demobilize");
  assert.equal(kissAction("RSTR"), "demobilize");
  assert.equal(kissAction("RATE"), "reduceRate");
  assert.equal(kissAction("INIT"), "none");
  assert.ok(Object.keys(KISS_CODES).includes("RATE"));
});

Deno.test("writeKissOfDeath() answers the chrony request the way ntpd's fast_xmit does", () => {
  const request = fromHex(capturedRequests.chronyd2);
  const out = new Uint8Array(48).fill(0xee);
  writeKissOfDeath(request, out, { refid: KISS_RATE_REFID, minimumPollLog2: 3 });
  const kod = decodePacket(out);
  assert.equal(kod.leap, 3);
  assert.equal(kod.version, 4);
  assert.equal(kod.mode, 4);
  assert.equal(kod.stratum, 0);
  assert.equal(kod.pollLog2, 6); // chrony asked with poll 6, above the minimum 3
  assert.equal(kissCodeOf(kod), "RATE");
  const requestTransmit = { seconds: 0x51a77fdd, fraction: 0xcdba9cda };
  assert.deepEqual(kod.originTime, requestTransmit);
  assert.deepEqual(kod.receiveTime, requestTransmit);
  assert.deepEqual(kod.transmitTime, requestTransmit);
});

Deno.test("writeKissOfDeath() raises a low request poll to the minimum", () => {
  const out = new Uint8Array(48);
  writeKissOfDeath(fromHex(capturedRequests.ntpdig), out, {
    refid: KISS_RATE_REFID,
    minimumPollLog2: 3,
  });
  assert.equal(decodePacket(out).pollLog2, 3);
});

Deno.test("writeKissOfDeath() writes the same bytes as encodePacket(buildKissOfDeath())", () => {
  fc.assert(
    fc.property(requestArbitrary, fc.integer({ min: 0, max: 10 }), (request, minimumPollLog2) => {
      const bytes = encodePacket(request);
      const out = new Uint8Array(48);
      writeKissOfDeath(bytes, out, { refid: KISS_RATE_REFID, minimumPollLog2 });
      const expected = encodePacket(buildKissOfDeath(request, { code: "RATE", minimumPollLog2 }));
      assert.deepEqual(out, expected);
    }),
    { numRuns: propertyRuns(500) },
  );
});
