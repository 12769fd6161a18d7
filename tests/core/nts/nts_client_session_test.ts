// The client side of an NTS association against the real responder core: cookies used once and refilled, only our authenticated replies accepted, NAKs and silence lead to a new key exchange, failures back off.
import assert from "node:assert/strict";
import { handleRequest } from "../../../src/core/server/handle_request.ts";
import { createAesSiv } from "../../../src/io/aes_siv_openssl.ts";
import { AeadId } from "../../../src/core/nts/aead.ts";
import {
  acceptNtsReply,
  initialNtsClientState,
  keyExchangeDue,
  keyExchangeFailed,
  keyExchangeStarted,
  keyExchangeSucceeded,
  NTS_KE_RETRY_MAX_SECONDS,
  NTS_MAX_COOKIES,
  NTS_UNANSWERED_BEFORE_KE,
  ntsClientPhase,
  type NtsClientState,
  prepareNtsRequest,
} from "../../../src/core/nts/nts_client_session.ts";
import {
  clientSession,
  counterBytes,
  modeThreeHeader,
  ring,
  serverContext,
} from "./_nts_fixture.ts";

const aead = createAesSiv();
const client = { family: 4 as const, bytes: new Uint8Array([192, 0, 2, 1]), port: 40000 };
const random = counterBytes(77);
const fresh = () => {
  const uniqueId = new Uint8Array(32);
  const nonce = new Uint8Array(16);
  random(uniqueId);
  random(nonce);
  return { uniqueId, nonce };
};

/** A session with `cookies` cookies of the fixture's ring, as a key exchange would give. */
function ready(cookies: number): NtsClientState {
  const sessions = Array.from({ length: cookies }, () => clientSession({ seed: 11 }));
  const { c2s, s2c } = sessions[0] ?? clientSession({ seed: 11 });
  return keyExchangeSucceeded(keyExchangeStarted(initialNtsClientState), {
    keys: { aeadId: AeadId.aesSivCmac256, c2s, s2c },
    cookies: sessions.map((s) => s.cookie),
  });
}

function serve(context: ReturnType<typeof serverContext>, bytes: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(2048);
  const verdict = handleRequest(
    { data: bytes, client, receiveTime: { seconds: 0xe0000000, fraction: 5 }, monotonicSeconds: 1 },
    context,
    out,
  );
  return verdict.action === "reply" ? out.slice(0, verdict.length) : null;
}

Deno.test("a poll uses the oldest cookie, asks for the missing ones, and the authenticated reply refills to eight", () => {
  const context = serverContext();
  let state = ready(3);
  assert.equal(ntsClientPhase(state), "ready");
  const prepared = prepareNtsRequest(state, modeThreeHeader(), fresh(), aead);
  assert.ok(prepared.bytes !== null);
  state = prepared.state;
  assert.equal(state.cookies.length, 2);
  const reply = serve(context, prepared.bytes!);
  assert.ok(reply !== null);
  assert.equal(reply.length, prepared.bytes!.length, "the server answers with as many bytes");
  const accepted = acceptNtsReply(state, reply, aead);
  assert.equal(accepted.verdict.kind, "authenticated");
  if (accepted.verdict.kind === "authenticated") {
    assert.equal(accepted.verdict.header.length, 48);
    assert.equal(accepted.verdict.header[0]! & 7, 4);
  }
  assert.equal(
    accepted.state.cookies.length,
    NTS_MAX_COOKIES,
    "1 for the one used + 5 placeholders",
  );
  assert.equal(accepted.state.counters.authenticated, 1);
  assert.equal(accepted.state.unanswered, 0);
  // The same reply again (a replay) is dropped: its identifier is spent.
  const replay = acceptNtsReply(accepted.state, reply, aead);
  assert.equal(replay.verdict.kind, "dropped");
  assert.equal(replay.state.counters.dropped, 1);
});

Deno.test("a reply altered in one byte, for another request, or unauthenticated never reaches the filter", () => {
  const context = serverContext();
  const first = prepareNtsRequest(ready(8), modeThreeHeader(), fresh(), aead);
  const firstReply = serve(context, first.bytes!)!;
  // A newer request makes the older reply stale: its identifier is no longer expected.
  const second = prepareNtsRequest(first.state, modeThreeHeader(), fresh(), aead);
  assert.equal(acceptNtsReply(second.state, firstReply, aead).verdict.kind, "dropped");
  const secondReply = serve(context, second.bytes!)!;
  for (const at of [1, 20, 30, 42, 47, secondReply.length - 1]) {
    const bad = secondReply.slice();
    bad[at]! ^= 0x40;
    const out = acceptNtsReply(second.state, bad, aead);
    assert.equal(out.verdict.kind, "dropped", `byte ${at}`);
  }
  // A plain 48-byte reply (what an attacker without keys can make).
  const plain = acceptNtsReply(second.state, secondReply.slice(0, 48), aead);
  assert.deepEqual(plain.verdict, {
    kind: "dropped",
    reason: "Unique Identifier missing or different",
  });
  assert.equal(acceptNtsReply(second.state, secondReply, aead).verdict.kind, "authenticated");
});

Deno.test("an NTS NAK with our identifier drops keys and cookies and makes a key exchange due at once", () => {
  const otherRing = {
    current: { id: 7, key: new Uint8Array(32).fill(3) },
    valid: [{ id: 7, key: new Uint8Array(32).fill(3) }],
  };
  const context = serverContext({ ring: otherRing }); // the server lost our cookie key
  const prepared = prepareNtsRequest(ready(8), modeThreeHeader(), fresh(), aead);
  const nak = serve(context, prepared.bytes!)!;
  const out = acceptNtsReply(prepared.state, nak, aead);
  assert.deepEqual(out.verdict, { kind: "nak" });
  assert.equal(out.state.keys, null);
  assert.equal(out.state.cookies.length, 0);
  assert.equal(out.state.counters.naks, 1);
  assert.equal(keyExchangeDue(out.state, { monotonicSeconds: 0 }), true);
  assert.notEqual(ring, otherRing);
});

Deno.test("cookies used up, or eight requests unanswered, make a key exchange due; a running one is not started twice", () => {
  let state = ready(NTS_MAX_COOKIES);
  assert.equal(keyExchangeDue(state, { monotonicSeconds: 0 }), false);
  for (let i = 0; i < NTS_UNANSWERED_BEFORE_KE - 1; i++) {
    state = prepareNtsRequest(state, modeThreeHeader(), fresh(), aead).state;
  }
  assert.equal(keyExchangeDue(state, { monotonicSeconds: 0 }), false);
  state = prepareNtsRequest(state, modeThreeHeader(), fresh(), aead).state;
  assert.equal(state.cookies.length, 0);
  assert.equal(state.unanswered, NTS_UNANSWERED_BEFORE_KE);
  assert.equal(prepareNtsRequest(state, modeThreeHeader(), fresh(), aead).bytes, null);
  assert.equal(ntsClientPhase(state), "no cookies");
  assert.equal(keyExchangeDue(state, { monotonicSeconds: 0 }), true);
  const running = keyExchangeStarted(state);
  assert.equal(keyExchangeDue(running, { monotonicSeconds: 0 }), false);
  assert.equal(ntsClientPhase(running), "key exchange");
});

Deno.test("failed key exchanges wait at least a poll interval, doubling, never beyond 36 h; success resets", () => {
  let state = initialNtsClientState;
  const waits: number[] = [];
  let now = 0;
  for (let i = 0; i < 20; i++) {
    state = keyExchangeFailed(keyExchangeStarted(state), "connection refused", {
      monotonicSeconds: now,
      pollLog2: 6,
    });
    waits.push(state.nextKeyExchangeMonotonicSeconds - now);
    assert.equal(
      keyExchangeDue(state, { monotonicSeconds: state.nextKeyExchangeMonotonicSeconds - 1 }),
      false,
    );
    now = state.nextKeyExchangeMonotonicSeconds;
    assert.equal(keyExchangeDue(state, { monotonicSeconds: now }), true);
  }
  assert.deepEqual(waits.slice(0, 6), [64, 64, 64, 128, 256, 512]);
  assert.equal(waits.at(-1), NTS_KE_RETRY_MAX_SECONDS);
  assert.equal(ntsClientPhase(state), "failed");
  assert.equal(state.problem, "connection refused");
  assert.equal(state.counters.keyExchangeFailures, 20);
  const good = keyExchangeSucceeded(keyExchangeStarted(state), {
    keys: { aeadId: 15, c2s: new Uint8Array(32), s2c: new Uint8Array(32) },
    cookies: [new Uint8Array(104)],
  });
  assert.equal(good.failuresInRow, 0);
  assert.equal(good.problem, null);
  assert.equal(ntsClientPhase(good), "ready");
});
