// Tests of the packet tests on server replies: mode, version, duplicate, origin, kiss codes, synchronisation and header sanity.
import assert from "node:assert/strict";
import { checkReply, FLASH_BITS } from "../../../src/core/client/reply_check.ts";
import { decodePacket } from "../../../src/core/packet/decode_packet.ts";
import { refidFromAscii } from "../../../src/core/packet/refid.ts";
import { ZERO_TIMESTAMP } from "../../../src/core/time/ntp_timestamp.ts";
import { at, reply } from "./_replies.ts";

const origin = at(0);
const times = { t2: at(0.001), t3: at(0.0011) };
const expected = { originTime: origin, lastServerTransmit: null };

Deno.test("checkReply() accepts a proper answer to our request", () => {
  assert.deepEqual(checkReply(decodePacket(reply(origin, times)), expected), {
    ok: true,
    kind: "time",
  });
});

Deno.test("checkReply() rejects a wrong origin, no outstanding request and a replay", () => {
  const packet = decodePacket(reply(origin, times));
  assert.deepEqual(checkReply(packet, { originTime: at(1), lastServerTransmit: null }), {
    ok: false,
    reason: "bogusOrigin",
  });
  assert.deepEqual(checkReply(packet, { originTime: null, lastServerTransmit: null }), {
    ok: false,
    reason: "bogusOrigin",
  });
  assert.deepEqual(checkReply(packet, { originTime: origin, lastServerTransmit: times.t3 }), {
    ok: false,
    reason: "duplicate",
  });
});

Deno.test("checkReply() rejects other modes and versions", () => {
  assert.deepEqual(checkReply(decodePacket(reply(origin, times, { mode: 3 })), expected), {
    ok: false,
    reason: "badMode",
  });
  assert.deepEqual(checkReply(decodePacket(reply(origin, times, { version: 5 })), expected), {
    ok: false,
    reason: "badVersion",
  });
});

Deno.test("checkReply() reports a kiss code only when the origin matches", () => {
  const kod = decodePacket(
    reply(origin, times, { stratum: 0, leap: 3, referenceId: refidFromAscii("DENY") }),
  );
  assert.deepEqual(checkReply(kod, expected), { ok: true, kind: "kiss", code: "DENY" });
  assert.deepEqual(checkReply(kod, { originTime: at(5), lastServerTransmit: null }), {
    ok: false,
    reason: "bogusOrigin",
  });
});

Deno.test("checkReply() rejects unsynchronised servers (LI 3 or stratum 16)", () => {
  assert.deepEqual(checkReply(decodePacket(reply(origin, times, { leap: 3 })), expected), {
    ok: false,
    reason: "unsynchronised",
  });
  assert.deepEqual(checkReply(decodePacket(reply(origin, times, { stratum: 16 })), expected), {
    ok: false,
    reason: "unsynchronised",
  });
});

Deno.test("checkReply() rejects zero timestamps and insane headers", () => {
  assert.deepEqual(
    checkReply(decodePacket(reply(origin, { t2: ZERO_TIMESTAMP, t3: times.t3 })), expected),
    { ok: false, reason: "zeroTimestamp" },
  );
  assert.deepEqual(
    checkReply(decodePacket(reply(origin, times, { rootDispersionShort: 16 * 65536 })), expected),
    { ok: false, reason: "badHeader" },
  );
  assert.deepEqual(
    checkReply(decodePacket(reply(origin, times, { referenceTime: at(10) })), expected),
    { ok: false, reason: "badHeader" },
  );
  assert.deepEqual(
    checkReply(decodePacket(reply(origin, { t2: at(0.002), t3: at(0.001) })), expected),
    { ok: false, reason: "badHeader" },
  );
  assert.deepEqual(
    checkReply(decodePacket(reply(origin, times, { referenceTime: ZERO_TIMESTAMP })), expected),
    { ok: true, kind: "time" },
  );
});

Deno.test("FLASH_BITS uses ntpd's TEST1, TEST2, TEST3 and TEST6 bits", () => {
  assert.equal(FLASH_BITS.duplicate, 0x01);
  assert.equal(FLASH_BITS.bogusOrigin, 0x02);
  assert.equal(FLASH_BITS.zeroTimestamp, 0x04);
  assert.equal(FLASH_BITS.unsynchronised, 0x20);
});
