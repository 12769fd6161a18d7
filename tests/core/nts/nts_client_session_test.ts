// The client side of an NTS association against the real responder core: cookies used once, oldest first, and refilled; only our authenticated replies accepted, once; a NAK waits for the next poll (RFC 8915 §5.7); failures back off; oversized cookies are not kept.
import assert from "node:assert/strict";
import { handleRequest } from "../../../src/core/server/handle_request.ts";
import { createAesSiv } from "../../../src/io/aes_siv.ts";
import { AeadId } from "../../../src/core/nts/aead.ts";
import {
  acceptNtsReply,
  initialNtsClientState,
  keyExchangeDue,
  keyExchangeFailed,
  keyExchangeStarted,
  keyExchangeSucceeded,
  NTS_KE_RETRY_MAX_SECONDS,
  NTS_MAX_COOKIE_BYTES,
  NTS_MAX_COOKIES,
  NTS_MAX_REQUEST_BYTES,
  ntsClientPhase,
  type NtsClientState,
  prepareNtsRequest,
} from "../../../src/core/nts/nts_client_session.ts";
import {
  clientSession,
  cookiesFor,
  counterBytes,
  modeThreeHeader,
  serverContext,
} from "./_nts_fixture.ts";

const aead = createAesSiv();
const client = { family: 4 as const, bytes: new Uint8Array([192, 0, 2, 1]), port: 40000 };
const random = counterBytes(77);
const at = (monotonicSeconds: number) => ({ monotonicSeconds, pollLog2: 6 });
const fresh = () => {
  const uniqueId = new Uint8Array(32);
  const nonce = new Uint8Array(16);
  random(uniqueId);
  random(nonce);
  return { uniqueId, nonce };
};

const session = clientSession({ seed: 11 });

/** A session with `count` different cookies of the fixture's ring, as a key exchange gives. */
function ready(count: number, cookies = cookiesFor(session, count)): NtsClientState {
  return keyExchangeSucceeded(keyExchangeStarted(initialNtsClientState), {
    keys: { aeadId: AeadId.aesSivCmac256, c2s: session.c2s, s2c: session.s2c },
    cookies,
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

/** The cookie a request carries (the field after the Unique Identifier). */
function cookieIn(request: Uint8Array): Uint8Array {
  const uidLength = (request[50]! << 8) | request[51]!;
  const at = 48 + uidLength;
  const length = (request[at + 2]! << 8) | request[at + 3]!;
  return request.slice(at + 4, at + length);
}

Deno.test("each cookie is used once, oldest first; a request asks for the missing ones and the authenticated reply refills to eight", () => {
  const context = serverContext();
  const cookies = cookiesFor(session, 3);
  let state = ready(3, cookies);
  assert.equal(ntsClientPhase(state), "ready");
  const used: Uint8Array[] = [];
  const first = prepareNtsRequest(state, modeThreeHeader(), fresh(), aead);
  used.push(cookieIn(first.bytes!));
  state = first.state;
  assert.equal(state.cookies.length, 2);
  const second = prepareNtsRequest(state, modeThreeHeader(), fresh(), aead);
  used.push(cookieIn(second.bytes!));
  assert.deepEqual(used, cookies.slice(0, 2), "oldest first, each once");
  const reply = serve(context, second.bytes!);
  assert.ok(reply !== null);
  assert.equal(reply.length, second.bytes!.length, "the server answers with as many bytes");
  const accepted = acceptNtsReply(second.state, reply, aead, at(10));
  assert.equal(accepted.verdict.kind, "authenticated");
  if (accepted.verdict.kind === "authenticated") {
    assert.equal(accepted.verdict.header.length, 48);
    assert.equal(accepted.verdict.header[0]! & 7, 4);
  }
  assert.equal(accepted.state.cookies.length, NTS_MAX_COOKIES, "1 left + 1 used + 6 placeholders");
  assert.equal(accepted.state.cookies[0], cookies[2], "the unused old one stays first");
  assert.equal(accepted.state.counters.authenticated, 1);
  // The same reply again (a replay) is dropped: its identifier is spent.
  const replay = acceptNtsReply(accepted.state, reply, aead, at(11));
  assert.equal(replay.verdict.kind, "dropped");
  assert.equal(replay.state.counters.dropped, 1);
});

Deno.test("a reply altered in one byte, for another request, or unauthenticated never reaches the filter", () => {
  const context = serverContext();
  const first = prepareNtsRequest(ready(8), modeThreeHeader(), fresh(), aead);
  const firstReply = serve(context, first.bytes!)!;
  // A newer request makes the older reply stale: its identifier is no longer expected.
  const second = prepareNtsRequest(first.state, modeThreeHeader(), fresh(), aead);
  assert.equal(acceptNtsReply(second.state, firstReply, aead, at(1)).verdict.kind, "dropped");
  const secondReply = serve(context, second.bytes!)!;
  for (const byte of [1, 20, 30, 42, 47, secondReply.length - 1]) {
    const bad = secondReply.slice();
    bad[byte]! ^= 0x40;
    assert.equal(acceptNtsReply(second.state, bad, aead, at(1)).verdict.kind, "dropped", `${byte}`);
  }
  // A plain 48-byte reply (what an attacker without keys can make).
  const plain = acceptNtsReply(second.state, secondReply.slice(0, 48), aead, at(1));
  assert.deepEqual(plain.verdict, {
    kind: "dropped",
    reason: "Unique Identifier missing or different",
  });
  assert.equal(
    acceptNtsReply(second.state, secondReply, aead, at(1)).verdict.kind,
    "authenticated",
  );
});

Deno.test("an NTS NAK is not acted on until the next poll: a valid reply may still come; else the poll waits for a new key exchange", () => {
  const lostKeys = {
    current: { id: 7, key: new Uint8Array(32).fill(3) },
    valid: [{ id: 7, key: new Uint8Array(32).fill(3) }],
  };
  const good = serverContext();
  const forgetful = serverContext({ ring: lostKeys }); // a server that lost our cookie key
  // A working session: one authenticated reply first.
  let state = ready(8);
  const warmUp = prepareNtsRequest(state, modeThreeHeader(), fresh(), aead);
  state = acceptNtsReply(warmUp.state, serve(good, warmUp.bytes!)!, aead, at(1)).state;
  // A NAK (say forged by someone on the path), then the genuine reply: accepted.
  const request = prepareNtsRequest(state, modeThreeHeader(), fresh(), aead);
  const nak = serve(forgetful, request.bytes!)!;
  const afterNak = acceptNtsReply(request.state, nak, aead, at(2));
  assert.deepEqual(afterNak.verdict, { kind: "nak" });
  assert.equal(afterNak.state.counters.naks, 1);
  assert.notEqual(afterNak.state.keys, null, "keys kept");
  assert.equal(keyExchangeDue(afterNak.state, { monotonicSeconds: 2 }), true);
  const genuine = acceptNtsReply(afterNak.state, serve(good, request.bytes!)!, aead, at(2));
  assert.equal(genuine.verdict.kind, "authenticated");
  assert.equal(genuine.state.nakPending, false);
  assert.equal(keyExchangeDue(genuine.state, { monotonicSeconds: 2 }), false);
  // No valid reply: the next poll sends nothing and waits for the key exchange.
  assert.equal(prepareNtsRequest(afterNak.state, modeThreeHeader(), fresh(), aead).bytes, null);
  assert.equal(ntsClientPhase(afterNak.state), "no cookies");
  assert.equal(afterNak.state.failuresInRow, 0, "the session had worked: no backoff");
});

Deno.test("a NAK before any authenticated reply since the key exchange counts as a failed key exchange (backoff)", () => {
  const lostKeys = {
    current: { id: 7, key: new Uint8Array(32).fill(3) },
    valid: [{ id: 7, key: new Uint8Array(32).fill(3) }],
  };
  const request = prepareNtsRequest(ready(8), modeThreeHeader(), fresh(), aead);
  const nak = serve(serverContext({ ring: lostKeys }), request.bytes!)!;
  const out = acceptNtsReply(request.state, nak, aead, at(100));
  assert.deepEqual(out.verdict, { kind: "nak" });
  assert.equal(out.state.failuresInRow, 1);
  assert.equal(out.state.counters.keyExchangeFailures, 1);
  assert.equal(keyExchangeDue(out.state, { monotonicSeconds: 163 }), false);
  assert.equal(keyExchangeDue(out.state, { monotonicSeconds: 164 }), true, "one poll (64 s) later");
  assert.equal(ntsClientPhase(out.state), "failed");
});

Deno.test("eight requests without an authenticated reply use up the cookies: the next poll waits for a key exchange, a running one is not started twice", () => {
  let state = ready(NTS_MAX_COOKIES);
  for (let i = 0; i < NTS_MAX_COOKIES; i++) {
    assert.equal(keyExchangeDue(state, { monotonicSeconds: 0 }), false, `request ${i}`);
    state = prepareNtsRequest(state, modeThreeHeader(), fresh(), aead).state;
  }
  assert.equal(state.cookies.length, 0);
  assert.equal(prepareNtsRequest(state, modeThreeHeader(), fresh(), aead).bytes, null);
  assert.equal(ntsClientPhase(state), "no cookies");
  assert.equal(keyExchangeDue(state, { monotonicSeconds: 0 }), true);
  const running = keyExchangeStarted(state);
  assert.equal(keyExchangeDue(running, { monotonicSeconds: 0 }), false);
  assert.equal(ntsClientPhase(running), "key exchange");
});

Deno.test("cookies over 256 bytes are not kept, and placeholders stop before a request outgrows 1200 bytes", () => {
  const keys = { aeadId: AeadId.aesSivCmac256, c2s: session.c2s, s2c: session.s2c };
  const huge = keyExchangeSucceeded(keyExchangeStarted(initialNtsClientState), {
    keys,
    cookies: [new Uint8Array(NTS_MAX_COOKIE_BYTES + 4)],
  });
  assert.equal(huge.cookies.length, 0);
  assert.match(huge.problem ?? "", /no cookie of at most 256 bytes/);
  const big = keyExchangeSucceeded(keyExchangeStarted(initialNtsClientState), {
    keys,
    cookies: [new Uint8Array(NTS_MAX_COOKIE_BYTES)],
  });
  const request = prepareNtsRequest(big, modeThreeHeader(), fresh(), aead).bytes!;
  assert.ok(request.length <= NTS_MAX_REQUEST_BYTES, `${request.length} bytes`);
  assert.ok(request.length > NTS_MAX_REQUEST_BYTES - 260, "as many placeholders as fit");
});

Deno.test("failed key exchanges wait at least a poll interval, doubling, never beyond 36 h; an authenticated reply resets", () => {
  let state = initialNtsClientState;
  const waits: number[] = [];
  let now = 0;
  for (let i = 0; i < 20; i++) {
    state = keyExchangeFailed(keyExchangeStarted(state), "connection refused", at(now));
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
  const working = keyExchangeSucceeded(keyExchangeStarted(state), {
    keys: { aeadId: 15, c2s: session.c2s, s2c: session.s2c },
    cookies: cookiesFor(session, 1),
  });
  assert.equal(working.problem, null);
  assert.equal(ntsClientPhase(working), "ready");
  const request = prepareNtsRequest(working, modeThreeHeader(), fresh(), aead);
  const reply = serve(serverContext(), request.bytes!)!;
  const answered = acceptNtsReply(request.state, reply, aead, at(now));
  assert.equal(answered.state.failuresInRow, 0);
});
