// Tests of the mrulist exchange: nonces bound to the client, READ_MRU answers, limits.
import assert from "node:assert/strict";
import { answerControl } from "../../../src/core/control/answer_control.ts";
import {
  decodeControlMessage,
  encodeControlMessage,
} from "../../../src/core/control/control_message.ts";
import type { MruEntry } from "../../../src/core/control/control_view.ts";
import { checkNonce, makeNonce, mruResponseItems } from "../../../src/core/control/mru_list.ts";
import { reassembleFragments } from "../../../src/core/control/reassemble_fragments.ts";
import { parseVariableList, payloadText } from "../../../src/core/control/variable_list.ts";
import { ntpFromUnix } from "../../../src/core/time/ntp_timestamp.ts";
import { fakeControlView } from "../../support/fake_control_views.ts";
import { clientAt } from "../_vectors.ts";

const nowUnixSeconds = 1_795_860_837;
const now = ntpFromUnix(nowUnixSeconds, 0);
const secret = new Uint8Array(32).fill(3);
const client = clientAt("127.0.0.1", 51456);

function mruRequest(opcode: number, text: string, sequence: number): Uint8Array {
  return encodeControlMessage({
    leap: 3,
    version: 2,
    response: false,
    error: false,
    more: false,
    opcode,
    sequence,
    status: 0,
    associationId: 0,
    offset: 0,
    data: new TextEncoder().encode(text),
  });
}

Deno.test("checkNonce() accepts a nonce for 16 s, only from the client it was issued to", () => {
  const nonce = makeNonce(client, { now, secret });
  assert.match(nonce, /^[0-9a-f]{24}$/);
  assert.equal(checkNonce(nonce, client, { now, secret }), true);
  assert.equal(
    checkNonce(nonce, client, { now: ntpFromUnix(nowUnixSeconds + 16, 0), secret }),
    true,
  );
  assert.equal(
    checkNonce(nonce, client, { now: ntpFromUnix(nowUnixSeconds + 17, 0), secret }),
    false,
  );
  assert.equal(
    checkNonce(nonce, client, { now: ntpFromUnix(nowUnixSeconds - 1, 0), secret }),
    false,
  );
  assert.equal(checkNonce(nonce, clientAt("127.0.0.2", 51456), { now, secret }), false);
  assert.equal(checkNonce(nonce, clientAt("127.0.0.1", 51457), { now, secret }), false);
  assert.equal(checkNonce(nonce, client, { now, secret: new Uint8Array(32) }), false);
  assert.equal(checkNonce(nonce.toUpperCase(), client, { now, secret }), false);
  assert.equal(checkNonce("eeb52a7314e8263755865299", client, { now, secret }), false);
});

Deno.test("answerControl() runs ntpq's mrulist exchange: REQ_NONCE, then READ_MRU with that nonce and frags=32", () => {
  const view = fakeControlView("synced", { nowUnixSeconds });
  const context = { view, now, nonceSecret: secret };
  const nonceReply = decodeControlMessage(
    answerControl(mruRequest(12, "", 1), client, context).replies[0]!,
  );
  assert.ok(nonceReply !== null);
  const nonceText = payloadText(nonceReply.data);
  assert.match(nonceText, /^nonce=[0-9a-f]{24}\r\n$/);
  assert.equal(nonceReply.data.length, 32); // as ntpd's capture: count 32
  const answer = answerControl(mruRequest(10, `${nonceText.trim()}, frags=32`, 2), client, context);
  assert.equal(answer.outcome, "answered");
  const joined = reassembleFragments(answer.replies.map((r) => decodeControlMessage(r)!));
  assert.ok(joined !== null);
  const items = parseVariableList(payloadText(joined.data));
  const value = (name: string) => items.find((i) => i.name === name)?.value;
  assert.match(value("nonce") ?? "", /^[0-9a-f]{24}$/);
  // Oldest first: the IPv6 client (last seen 90 s ago) is entry 0.
  assert.equal(value("addr.0"), "[2001:db8::42]:123");
  assert.equal(value("addr.1"), "198.51.100.7:41234");
  assert.equal(value("ct.1"), "11");
  assert.equal(value("mv.1"), "35"); // version 4, mode 3
  assert.equal(value("rs.1"), "0x5f0"); // kod|noquery|nomodify|notrap|nopeer|limited as ntpd's RES_* bits
  assert.equal(value("dr.0"), "2");
  assert.equal(items.at(-2)?.name, "now");
  assert.equal(items.at(-1)?.name, "last.newest");
  assert.equal(value("last.newest"), value("last.1"));
});

Deno.test("answerControl() sends nothing for READ_MRU without a nonce, with a forged one, or one from another client", () => {
  const view = fakeControlView("synced", { nowUnixSeconds });
  const context = { view, now, nonceSecret: secret };
  const otherClientsNonce = makeNonce(clientAt("192.0.2.99", 123), { now, secret });
  for (
    const text of [
      "frags=32",
      "nonce=eeb52a7314e8263755865299, frags=32",
      `nonce=${otherClientsNonce}, frags=32`,
    ]
  ) {
    const answer = answerControl(mruRequest(10, text, 2), client, context);
    assert.equal(answer.outcome, "dropped", text);
    assert.equal(answer.replies.length, 0, text);
  }
});

Deno.test("mruResponseItems() keeps the most recent clients within limit= and the frags budget, and honours mincount=", () => {
  const entries: MruEntry[] = Array.from({ length: 1000 }, (_, i) => ({
    address: `10.0.${i >> 8}.${i & 255}`,
    port: 40000 + i,
    firstSeen: ntpFromUnix(nowUnixSeconds - 5000, 0),
    lastSeen: ntpFromUnix(nowUnixSeconds - 1000 + i, 0),
    packets: i % 5,
    mode: 3,
    version: 4,
    restrictFlags: [],
    droppedPackets: 0,
  }));
  const request = (text: string) => parseVariableList(`nonce=x, ${text}`);
  const limited = mruResponseItems(entries, { request: request("limit=3"), nonce: "n", now });
  assert.deepEqual(
    limited.filter((i) => i.startsWith("addr.")),
    ["addr.0=10.0.3.229:40997", "addr.1=10.0.3.230:40998", "addr.2=10.0.3.231:40999"],
  );
  const twoFragments = mruResponseItems(entries, { request: request("frags=2"), nonce: "n", now });
  const size = twoFragments.reduce((sum, item) => sum + item.length + 3, 0);
  assert.ok(size <= 2 * 468, `${size} bytes`);
  assert.ok(twoFragments.filter((i) => i.startsWith("addr.")).length >= 4);
  const busy = mruResponseItems(entries, {
    request: request("mincount=4, limit=1000"),
    nonce: "n",
    now,
  });
  assert.ok(busy.filter((i) => i.startsWith("ct.")).every((i) => i.endsWith("=4")));
});
