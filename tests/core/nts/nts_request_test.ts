// The responder's NTS path (RFC 8915 §5): replies authenticate, carry fresh cookies, never outgrow the request; bad input is NAKed or dropped.
import assert from "node:assert/strict";
import fc from "fast-check";
import { handleRequest } from "../../../src/core/server/handle_request.ts";
import { Counter } from "../../../src/core/server/counters.ts";
import { checkNtsReply } from "../../../src/core/nts/nts_client_request.ts";
import { createAesSiv } from "../../../src/io/aes_siv.ts";
import { COOKIE_BYTES } from "../../../src/core/nts/cookie.ts";
import { clientSession, request, ring, serverContext, TRANSMIT } from "./_nts_fixture.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const client = { family: 4 as const, bytes: new Uint8Array([192, 0, 2, 1]), port: 40000 };
const datagram = (data: Uint8Array) => ({
  data,
  client,
  receiveTime: { seconds: 0xe0000000, fraction: 5 },
  monotonicSeconds: 100,
});

Deno.test("an NTS request gets an authenticated reply of its own length: UID echoed, one fresh cookie per cookie and placeholder", () => {
  const context = serverContext();
  const session = clientSession();
  for (const placeholders of [0, 1, 3, 7]) {
    const { bytes, uniqueId } = request(session, { placeholders });
    const out = new Uint8Array(2048);
    const verdict = handleRequest(datagram(bytes), context, out);
    assert.equal(verdict.action, "reply");
    if (verdict.action !== "reply") return;
    assert.equal(verdict.transmitWritten, true);
    assert.equal(verdict.kissOfDeath, false);
    assert.equal(verdict.length, bytes.length, "as long as the request");
    const reply = out.subarray(0, verdict.length);
    assert.equal(reply[0]! & 7, 4, "mode 4");
    assert.deepEqual([...reply.subarray(40, 48)], TRANSMIT, "transmit time written before sealing");
    assert.deepEqual([...reply.subarray(24, 32)], [...bytes.subarray(40, 48)], "origin");
    const check = checkNtsReply(reply, { uniqueId, s2c: session.s2c }, createAesSiv());
    assert.ok(check.ok, check.ok ? "" : check.reason);
    if (!check.ok) return;
    assert.equal(check.cookies.length, 1 + placeholders);
    for (const cookie of check.cookies) assert.equal(cookie.length, COOKIE_BYTES);
    // Each new cookie works in a request of its own.
    const next = request({ c2s: session.c2s, cookie: check.cookies.at(-1)! });
    const again = handleRequest(datagram(next.bytes), context, new Uint8Array(2048));
    assert.equal(again.action === "reply" && !again.kissOfDeath, true);
  }
  assert.equal(context.counters[Counter.ntsServed], 8);
  assert.equal(context.counters[Counter.served], 8);
  assert.equal(context.counters[Counter.ntsCookiesIssued], 1 + 2 + 4 + 8 + 4);
});

Deno.test("a reply changed in any byte no longer verifies for the client", () => {
  const context = serverContext();
  const session = clientSession();
  const { bytes, uniqueId } = request(session, { placeholders: 1 });
  const out = new Uint8Array(2048);
  const verdict = handleRequest(datagram(bytes), context, out);
  assert.equal(verdict.action, "reply");
  const reply = out.slice(0, bytes.length);
  const aead = createAesSiv();
  for (let at = 0; at < reply.length; at += 3) {
    if (at >= 48 && at < 48 + 36) continue; // the UID is checked by equality, tested below
    const bad = reply.slice();
    bad[at]! ^= 0x10;
    assert.equal(checkNtsReply(bad, { uniqueId, s2c: session.s2c }, aead).ok, false, `byte ${at}`);
  }
  const otherId = uniqueId.slice();
  otherId[0]! ^= 1;
  assert.equal(checkNtsReply(reply, { uniqueId: otherId, s2c: session.s2c }, aead).ok, false);
});

Deno.test("a cookie the ring cannot open (tampered, or of an unknown key) gets an NTS NAK with the UID and nothing else", () => {
  const session = clientSession();
  const tampered = session.cookie.slice();
  tampered[40]! ^= 1;
  const foreign = clientSession({
    sealRing: {
      current: { id: 5, key: new Uint8Array(32) },
      valid: [{ id: 5, key: new Uint8Array(32) }],
    },
  });
  for (const cookie of [tampered, foreign.cookie]) {
    const context = serverContext();
    const { bytes, uniqueId } = request({ c2s: session.c2s, cookie });
    const out = new Uint8Array(2048);
    const verdict = handleRequest(datagram(bytes), context, out);
    assert.ok(verdict.action === "reply" && verdict.kissOfDeath && verdict.transmitWritten);
    if (verdict.action !== "reply") return;
    assert.equal(verdict.length, 48 + 36);
    const reply = out.subarray(0, verdict.length);
    assert.equal(reply[1], 0, "stratum 0");
    assert.equal(new TextDecoder().decode(reply.subarray(12, 16)), "NTSN");
    assert.deepEqual([...reply.subarray(52, 84)], [...uniqueId]);
    assert.deepEqual([...reply.subarray(40, 48)], [...bytes.subarray(40, 48)], "no time revealed");
    assert.equal(context.counters[Counter.ntsNakSent], 1);
  }
});

Deno.test("cookies of an older key still in the ring are accepted; replies carry cookies of the current key", () => {
  const older = { current: ring.valid[1]!, valid: [ring.valid[1]!] };
  const session = clientSession({ sealRing: older });
  const context = serverContext();
  const { bytes, uniqueId } = request(session);
  const out = new Uint8Array(2048);
  const verdict = handleRequest(datagram(bytes), context, out);
  assert.ok(verdict.action === "reply" && !verdict.kissOfDeath);
  const check = checkNtsReply(
    out.subarray(0, bytes.length),
    { uniqueId, s2c: session.s2c },
    createAesSiv(),
  );
  assert.ok(check.ok);
  if (check.ok) assert.deepEqual([...check.cookies[0]!.subarray(0, 4)], [1, 2, 3, 4]);
});

Deno.test("a tampered authenticator or header is dropped in silence (counted), not NAKed", () => {
  const session = clientSession();
  const { bytes } = request(session);
  for (const at of [1, 41, 60, bytes.length - 20, bytes.length - 1]) {
    const context = serverContext();
    const bad = bytes.slice();
    bad[at]! ^= 0x04;
    const verdict = handleRequest(datagram(bad), context, new Uint8Array(2048));
    assert.deepEqual(verdict, { action: "drop", reason: "ntsBadAuthenticator" }, `byte ${at}`);
    assert.equal(context.counters[Counter.dropNtsBadAuthenticator], 1);
  }
});

Deno.test("the client keys a cookie held are wiped once the request is answered or dropped", () => {
  const context = serverContext();
  const scratch = context.nts!.scratch.cookie;
  const session = clientSession();
  const { bytes } = request(session, { placeholders: 1 });
  const tampered = bytes.slice();
  tampered[bytes.length - 1]! ^= 1; // the authenticator: dropped after the cookie opened
  // The drop first (the cookie opened, the authenticator failed), then a reply.
  for (const data of [tampered, bytes]) {
    const verdict = handleRequest(datagram(data), context, new Uint8Array(2048));
    const outcome = verdict.action === "drop" ? verdict.reason : verdict.action;
    assert.equal(outcome, data === bytes ? "reply" : "ntsBadAuthenticator");
    assert.ok(scratch.opened.every((byte) => byte === 0), `keys left after: ${outcome}`);
    assert.equal(scratch.session.aeadId, 0);
  }
});

Deno.test("incomplete or misplaced NTS fields are dropped as ntsMalformed", () => {
  const session = clientSession();
  const { bytes } = request(session);
  const context = serverContext();
  // Without the authenticator (the last 40 bytes): cookie and UID alone.
  const noAuth = bytes.slice(0, bytes.length - 40);
  assert.deepEqual(handleRequest(datagram(noAuth), context, new Uint8Array(2048)), {
    action: "drop",
    reason: "ntsMalformed",
  });
  // A UID of 16 bytes (RFC 8915 asks for at least 32).
  const short = request(session, { uniqueId: new Uint8Array(16).fill(3) }).bytes;
  assert.deepEqual(handleRequest(datagram(short), context, new Uint8Array(2048)), {
    action: "drop",
    reason: "ntsMalformed",
  });
  assert.equal(context.counters[Counter.dropNtsMalformed], 2);
});

Deno.test("without an NTS context, NTS fields are ignored: a plain 48-byte reply", () => {
  const { nts: _unused, ...plain } = serverContext();
  const { bytes } = request(clientSession());
  const out = new Uint8Array(2048);
  const verdict = handleRequest(datagram(bytes), plain, out);
  assert.deepEqual(verdict, {
    action: "reply",
    length: 48,
    kissOfDeath: false,
    transmitWritten: false,
  });
});

Deno.test("property: mutated NTS requests never throw, never get a reply longer than themselves, and only NAKs or drops unless intact", () => {
  const session = clientSession();
  const base = request(session, { placeholders: 2 }).bytes;
  const context = serverContext();
  const out = new Uint8Array(2048);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.integer({ min: 0, max: 64 }),
      (flips, cut) => {
        const data = base.slice(0, base.length - cut * 4);
        for (const [at, mask] of flips) if (at < data.length) data[at]! ^= mask;
        const verdict = handleRequest(datagram(data), context, out);
        if (verdict.action === "reply") {
          assert.ok(
            verdict.length <= data.length,
            `reply ${verdict.length} > request ${data.length}`,
          );
          if (!verdict.kissOfDeath) {
            // Only a request whose authenticated bytes are intact can be answered: the
            // mutations that leave it answerable touched nothing the server reads.
            assert.ok(verdict.length === 48 || verdict.length === data.length);
          }
        }
      },
    ),
    { numRuns: propertyRuns(3000) },
  );
});
