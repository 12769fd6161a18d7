// Tests of the mrulist exchange: nonces bound to the client, READ_MRU answers, paging with ntpq's continuation requests, limits and filters.
import assert from "node:assert/strict";
import fc from "fast-check";
import { answerControl } from "../../../src/core/control/answer_control.ts";
import {
  CONTROL_MAX_DATA_LENGTH,
  ControlErrorCode,
  decodeControlMessage,
  encodeControlMessage,
} from "../../../src/core/control/control_message.ts";
import type { MruEntry } from "../../../src/core/control/control_view.ts";
import {
  checkNonce,
  makeNonce,
  MRU_FRAGS_LIMIT,
  MRU_ROW_LIMIT,
  mruResponse,
} from "../../../src/core/control/mru_list.ts";
import { reassembleFragments } from "../../../src/core/control/reassemble_fragments.ts";
import {
  packVariableText,
  parseVariableList,
  payloadText,
} from "../../../src/core/control/variable_list.ts";
import type { RestrictFlag } from "../../../src/core/server/types.ts";
import { ntpFromUnix, type NtpTimestamp } from "../../../src/core/time/ntp_timestamp.ts";
import { fakeControlView } from "../../support/fake_control_views.ts";
import { underQemuUser } from "../../support/under_qemu.ts";
import { clientAt } from "../_vectors.ts";
import { propertyRuns } from "../../support/property_runs.ts";

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

Deno.test("answerControl() answers READ_MRU with error 6 for a bad frags/limit and error 5 when no continuation entry is unchanged", () => {
  const view = fakeControlView("synced", { nowUnixSeconds });
  const context = { view, now, nonceSecret: secret };
  const nonce = makeNonce(client, { now, secret });
  for (
    const [text, code] of [
      ["limit=257", ControlErrorCode.badValue],
      ["frags=129", ControlErrorCode.badValue],
      ["addr.0=198.51.100.7:41234, last.0=0x00000001.00000002, frags=32", 5],
    ] as const
  ) {
    const answer = answerControl(mruRequest(10, `nonce=${nonce}, ${text}`, 3), client, context);
    assert.equal(answer.outcome, "error", text);
    const reply = decodeControlMessage(answer.replies[0]!);
    assert.ok(reply !== null);
    assert.deepEqual([reply.error, reply.status >> 8, reply.sequence, reply.data.length], [
      true,
      code,
      3,
      0,
    ], text);
  }
});

// --- mruResponse() on generated lists ---

const base = ntpFromUnix(nowUnixSeconds - 100_000, 0);

function at(secondsAfterBase: number, fraction = 0): NtpTimestamp {
  return { seconds: base.seconds + secondsAfterBase, fraction };
}

function client4(
  index: number,
  fields: Partial<MruEntry> = {},
): MruEntry {
  return {
    address: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
    port: 1024 + (index % 50_000),
    firstSeen: at(0),
    lastSeen: at(index),
    packets: 1 + (index % 7),
    mode: 3,
    version: 4,
    restrictFlags: [],
    droppedPackets: 0,
    ...fields,
  };
}

/** 30 clients, client i last seen at base + i s, handed over in a scrambled order. */
const thirty = Array.from({ length: 30 }, (_, i) => client4((i * 7) % 30));

function ask(entries: readonly MruEntry[], text: string) {
  return mruResponse(entries, {
    request: parseVariableList(`nonce=0123, ${text}`),
    nonce: "fresh",
    now,
  });
}

function answerItems(entries: readonly MruEntry[], text: string): readonly string[] {
  const answer = ask(entries, text);
  assert.equal(answer.kind, "answer", `${text}: ${JSON.stringify(answer)}`);
  return answer.kind === "answer" ? answer.items : [];
}

function valueOf(items: readonly string[], name: string): string | undefined {
  const prefix = `${name}=`;
  return items.find((i) => i.startsWith(prefix))?.slice(prefix.length);
}

function addresses(items: readonly string[]): string[] {
  return items.filter((i) => /^addr\.\d+=/.test(i)).map((i) => i.slice(i.indexOf("=") + 1));
}

function endpoint(entry: MruEntry): string {
  return entry.address.includes(":")
    ? `[${entry.address}]:${entry.port}`
    : `${entry.address}:${entry.port}`;
}

function hexTimestamp(ts: NtpTimestamp): string {
  return `0x${ts.seconds.toString(16).padStart(8, "0")}.${
    ts.fraction.toString(16).padStart(8, "0")
  }`;
}

/** The continuation pairs ntpq sends: the given entries (newest first) as addr.N/last.N. */
function priors(...entries: readonly MruEntry[]): string {
  return entries.map((e, n) => `addr.${n}=${endpoint(e)}, last.${n}=${hexTimestamp(e.lastSeen)}`)
    .join(", ");
}

Deno.test("mruResponse() without priors starts with the oldest client; an answer cut by limit= has no now=", () => {
  const items = answerItems(thirty, "limit=3");
  assert.deepEqual(addresses(items), ["10.0.0.0:1024", "10.0.0.1:1025", "10.0.0.2:1026"]);
  assert.equal(items[0], "nonce=fresh");
  assert.deepEqual(items.slice(1, 8), [
    "addr.0=10.0.0.0:1024",
    `last.0=${hexTimestamp(at(0))}`,
    `first.0=${hexTimestamp(at(0))}`,
    "ct.0=1",
    "mv.0=35",
    "rs.0=0x0",
    "dr.0=0",
  ]);
  assert.equal(valueOf(items, "now"), undefined);
  assert.equal(valueOf(items, "last.newest"), undefined);
  assert.equal(valueOf(items, "last.older"), undefined);
});

Deno.test("mruResponse() ends the final answer with now= and last.newest= of the last client sent", () => {
  for (const text of ["limit=30", "limit=256", "frags=32", "frags=32, limit=100"]) {
    const items = answerItems(thirty, text);
    assert.equal(addresses(items).length, 30, text);
    assert.deepEqual(items.slice(-2), [
      `now=${hexTimestamp(now)}`,
      `last.newest=${hexTimestamp(at(29))}`,
    ], text);
  }
  // Nothing to send: now= alone.
  assert.deepEqual(answerItems([], "frags=32"), ["nonce=fresh", `now=${hexTimestamp(now)}`]);
});

Deno.test("mruResponse() continues after the prior: last.older/addr.older, then strictly newer clients", () => {
  const byIndex = (i: number) => thirty.find((e) => e.lastSeen.seconds === at(i).seconds)!;
  const items = answerItems(thirty, `limit=4, ${priors(byIndex(11), byIndex(10))}`);
  assert.deepEqual(items.slice(0, 3), [
    "nonce=fresh",
    `last.older=${hexTimestamp(at(11))}`,
    "addr.older=10.0.0.11:1035",
  ]);
  assert.deepEqual(addresses(items), [
    "10.0.0.12:1036",
    "10.0.0.13:1037",
    "10.0.0.14:1038",
    "10.0.0.15:1039",
  ]);
  assert.equal(valueOf(items, "now"), undefined);
  const last = answerItems(thirty, `limit=100, ${priors(byIndex(27))}`);
  assert.deepEqual(addresses(last), ["10.0.0.28:1052", "10.0.0.29:1053"]);
  assert.equal(valueOf(last, "now"), hexTimestamp(now));
  assert.equal(valueOf(last, "last.newest"), hexTimestamp(at(29)));
  // From the newest one: nothing newer, so the list is complete with no entries and no last.newest.
  const none = answerItems(thirty, `frags=4, ${priors(byIndex(29))}`);
  assert.deepEqual(none, [
    "nonce=fresh",
    `last.older=${hexTimestamp(at(29))}`,
    "addr.older=10.0.0.29:1053",
    `now=${hexTimestamp(now)}`,
  ]);
});

Deno.test("mruResponse() with limit=1 sends the starting entry itself", () => {
  const start = thirty.find((e) => e.lastSeen.seconds === at(5).seconds)!;
  const items = answerItems(thirty, `limit=1, ${priors(start)}`);
  assert.equal(valueOf(items, "addr.older"), "10.0.0.5:1029");
  assert.deepEqual(addresses(items), ["10.0.0.5:1029"]);
  assert.equal(valueOf(items, "now"), undefined);
});

Deno.test("mruResponse() skips a prior whose client was seen again and starts from the next one", () => {
  const seenAgain = client4(20, { lastSeen: at(1000) });
  const entries = [...thirty.filter((e) => e.address !== seenAgain.address), seenAgain];
  const stale = client4(20); // what the client received before: last at base + 20
  const items = answerItems(entries, `limit=3, ${priors(stale, client4(19), client4(18))}`);
  assert.equal(valueOf(items, "addr.older"), "10.0.0.19:1043");
  assert.equal(valueOf(items, "last.older"), hexTimestamp(at(19)));
  // The re-seen client is now the newest, so it comes again, last.
  assert.deepEqual(addresses(items), [
    "10.0.0.21:1045",
    "10.0.0.22:1046",
    "10.0.0.23:1047",
  ]);
  const rest = answerItems(entries, `frags=32, ${priors(client4(23))}`);
  assert.deepEqual(addresses(rest).at(-1), "10.0.0.20:1044");
  assert.equal(valueOf(rest, "last.newest"), hexTimestamp(at(1000)));
  // Only the first prior counts when it matches, even if later ones match too.
  const first = answerItems(entries, `limit=2, ${priors(client4(25), client4(3))}`);
  assert.equal(valueOf(first, "addr.older"), "10.0.0.25:1049");
});

Deno.test("mruResponse() answers error 5 when no prior is present unchanged", () => {
  for (
    const text of [
      priors(client4(20, { lastSeen: at(20, 1) })), // last differs by 2^-32 s
      priors(client4(20, { port: 999 })), // other port
      priors(client4(5_000)), // never seen
      `${priors(client4(20, { lastSeen: at(21) }), client4(40))}`,
    ]
  ) {
    assert.deepEqual(ask(thirty, `frags=32, ${text}`), {
      kind: "error",
      code: ControlErrorCode.unknownVariable,
    }, text);
  }
  // An addr.N without its last.N (or a gap before it) is not a prior: start from the oldest.
  for (
    const text of [
      "addr.0=10.0.0.5:1029",
      "last.0=0x00000001.00000001",
      priors(client4(5)).replace(/\.0=/g, ".1="),
    ]
  ) {
    const items = answerItems(thirty, `limit=1, ${text}`);
    assert.deepEqual(addresses(items), ["10.0.0.0:1024"], text);
  }
});

Deno.test("mruResponse() answers error 6 for a frags/limit ntpd rejects, and nothing for unreadable values", () => {
  for (
    const text of [
      "",
      "limit=0",
      "frags=0",
      "limit=257",
      `frags=${MRU_FRAGS_LIMIT + 1}`,
      "frags=129, limit=5",
      "mincount=1",
    ]
  ) {
    assert.deepEqual(ask(thirty, text), { kind: "error", code: ControlErrorCode.badValue }, text);
  }
  for (
    const text of [
      `limit=${MRU_ROW_LIMIT}`,
      "limit=1",
      "frags=1",
      `frags=${MRU_FRAGS_LIMIT}`,
      "frags=1, limit=100000",
    ]
  ) {
    assert.equal(ask(thirty, text).kind, "answer", text);
  }
  for (
    const text of [
      "frags=many",
      "frags",
      "limit=-1",
      "mincount=x, frags=3",
      "resall=16, frags=3",
      "resany=0xzz, frags=3",
      "maxlstint=1.5, frags=3",
      "addr.0=10.0.0.5:1029, last.0=12345, frags=3",
      "addr.0=host.example:123, last.0=0x00000001.00000002, frags=3",
      "addr.0=10.0.0.5:70000, last.0=0x00000001.00000002, frags=3",
    ]
  ) {
    assert.deepEqual(ask(thirty, text), { kind: "dropped" }, text);
  }
  // laddr=, unknown names and pairs beyond 15 are ignored.
  assert.equal(
    addresses(answerItems(thirty, "limit=2, laddr=192.0.2.1:123, sort=addr, addr.16=x, last.16=y"))
      .length,
    2,
  );
});

Deno.test("mruResponse() matches IPv6 priors given as [address]:port, in any letter case", () => {
  const v6 = [
    client4(0, { address: "2001:db8::a", port: 123 }),
    client4(1, { address: "2001:db8::b", port: 123 }),
    client4(2, { address: "2001:db8::c", port: 123 }),
  ];
  const items = answerItems(v6, `limit=5, addr.0=[2001:DB8::B]:123, last.0=${hexTimestamp(at(1))}`);
  assert.equal(valueOf(items, "addr.older"), "[2001:db8::b]:123");
  assert.deepEqual(addresses(items), ["[2001:db8::c]:123"]);
});

Deno.test("mruResponse() orders clients last seen at the same time by address, then port", () => {
  const same = at(50, 0x80000000);
  const entries = [
    client4(0, { address: "10.0.0.9", port: 2, lastSeen: same }),
    client4(0, { address: "10.0.0.10", port: 1, lastSeen: same }),
    client4(0, { address: "10.0.0.9", port: 1, lastSeen: same }),
    client4(0, { address: "10.0.0.1", port: 7, lastSeen: at(50, 0x7fffffff) }),
  ];
  const all = ["10.0.0.1:7", "10.0.0.10:1", "10.0.0.9:1", "10.0.0.9:2"];
  assert.deepEqual(addresses(answerItems(entries, "limit=10")), all);
  assert.deepEqual(addresses(answerItems([...entries].reverse(), "limit=10")), all);
  // Continuing from a tied entry gives exactly the ones after it.
  const items = answerItems(entries, `limit=10, addr.0=10.0.0.10:1, last.0=${hexTimestamp(same)}`);
  assert.deepEqual(addresses(items), ["10.0.0.9:1", "10.0.0.9:2"]);
});

Deno.test("mruResponse() keeps the exact order of clients seen weeks ago, 2^-32 s apart", () => {
  // 40 days before now a double no longer tells these last-seen times apart.
  const longAgo = ntpFromUnix(nowUnixSeconds - 40 * 86_400, 0);
  const entries = Array.from(
    { length: 12 },
    (_, i) => client4(i, { lastSeen: { seconds: longAgo.seconds, fraction: 11 - i } }),
  );
  const expected = [...entries].reverse().map(endpoint);
  assert.deepEqual(addresses(answerItems(entries, "limit=1")), expected.slice(0, 1));
  for (const page of ["limit=2", "limit=5", "frags=1"]) {
    const { received } = fetchAll(entries, { page, priorCount: 1 });
    assert.deepEqual(received.map((r) => r.addr), expected, page);
  }
});

Deno.test("mruResponse() skips clients by mincount=, mindrop=, resall=, resany=, maxlstint= and minlstint=", () => {
  const flags: readonly (readonly RestrictFlag[])[] = [[], ["kod"], ["limited"], [
    "kod",
    "limited",
  ]];
  const entries = Array.from({ length: 40 }, (_, i) =>
    client4(i, {
      packets: i,
      droppedPackets: i % 3,
      restrictFlags: flags[i % 4]!,
      lastSeen: ntpFromUnix(nowUnixSeconds - 1000 + i * 10, 0), // 1000 s ago .. 610 s ago
    }));
  const cts = (text: string) =>
    answerItems(entries, `limit=100, ${text}`).filter((i) => i.startsWith("ct.")).map((i) =>
      Number(i.split("=")[1])
    );
  const all = Array.from({ length: 40 }, (_, i) => i);
  assert.deepEqual(cts(""), all);
  assert.deepEqual(cts("mincount=35"), [35, 36, 37, 38, 39]);
  assert.deepEqual(cts("mincount=-4"), all);
  assert.deepEqual(cts("mindrop=2"), all.filter((i) => i % 3 === 2));
  assert.deepEqual(cts("resall=0x420"), all.filter((i) => i % 4 === 3)); // kod|limited
  assert.deepEqual(cts("resall=0x400"), all.filter((i) => i % 4 === 1 || i % 4 === 3));
  assert.deepEqual(cts("resany=0x420"), all.filter((i) => i % 4 !== 0));
  assert.deepEqual(cts("resany=0x20"), all.filter((i) => i % 4 >= 2));
  assert.deepEqual(cts("maxlstint=650"), [35, 36, 37, 38, 39]); // seen 650 .. 610 s ago
  assert.deepEqual(cts("minlstint=980"), [0, 1, 2]); // seen 1000 .. 980 s ago
  assert.deepEqual(cts("mincount=20, resany=0x400, maxlstint=700"), [31, 33, 35, 37, 39]);
  // Filtered-out clients newer than the last one sent do not keep the answer open.
  const items = answerItems(entries, "limit=5, mincount=35");
  assert.equal(valueOf(items, "now"), hexTimestamp(now));
  assert.equal(valueOf(items, "last.newest"), valueOf(items, "last.4"));
});

Deno.test("mruResponse() fills at most frags= fragments and always sends at least one client", () => {
  const wide = Array.from({ length: 200 }, (_, i) =>
    client4(i, {
      address: `2001:db8:ffff:ffff:ffff:ffff:ffff:${i.toString(16).padStart(4, "0")}`,
      port: 65535,
      packets: 4_000_000_000 + i,
      droppedPackets: 4_000_000_000,
      restrictFlags: ["kod", "limited", "nomodify", "notrap", "nopeer", "noquery"],
    }));
  for (const frags of [1, 2, 3, 5, 8, 32, 128]) {
    const start = priors(wide[7]!);
    for (const text of [`frags=${frags}`, `frags=${frags}, ${start}`]) {
      const items = answerItems(wide, text);
      const fragments = packVariableText(items);
      assert.ok(fragments.length <= frags, `${text}: ${fragments.length} fragments`);
      assert.ok(fragments.every((f) => f.length <= CONTROL_MAX_DATA_LENGTH));
      assert.ok(addresses(items).length >= 1, text);
      // Beyond a fragment or two (one such client is 40 % of a fragment), a cut answer uses at
      // least two thirds of the room.
      if (frags >= 3 && valueOf(items, "now") === undefined) {
        const bytes = fragments.reduce((sum, f) => sum + f.length, 0);
        assert.ok(bytes >= (frags * CONTROL_MAX_DATA_LENGTH * 2) / 3, `${text}: ${bytes} bytes`);
      }
    }
  }
});

interface Received {
  readonly addr: string;
  readonly last: string;
  readonly ct: string;
}

/**
 * Pages through `entries` as ntpq does: no priors first, then the newest received entries
 * (up to `priorCount`, newest first) as addr.N/last.N, until an answer carries now=.
 */
function fetchAll(
  entries: readonly MruEntry[],
  { page, priorCount }: { readonly page: string; readonly priorCount: number },
): { readonly received: Received[]; readonly requests: number } {
  const received: Received[] = [];
  for (let requests = 1; requests <= entries.length + 2; requests++) {
    const newestFirst = received.slice(-priorCount).reverse();
    const continuation = newestFirst.map((r, n) => `, addr.${n}=${r.addr}, last.${n}=${r.last}`)
      .join("");
    const items = answerItems(entries, `${page}${continuation}`);
    if (newestFirst.length > 0) {
      assert.equal(valueOf(items, "addr.older"), newestFirst[0]!.addr);
      assert.equal(valueOf(items, "last.older"), newestFirst[0]!.last);
    }
    for (let n = 0; valueOf(items, `addr.${n}`) !== undefined; n++) {
      received.push({
        addr: valueOf(items, `addr.${n}`)!,
        last: valueOf(items, `last.${n}`)!,
        ct: valueOf(items, `ct.${n}`)!,
      });
    }
    if (valueOf(items, "now") !== undefined) {
      assert.equal(valueOf(items, "now"), hexTimestamp(now));
      return { received, requests };
    }
  }
  throw new Error(`no now= after ${entries.length + 2} requests`);
}

Deno.test("mruResponse() paged by ntpq's continuation requests yields every client once, oldest to newest, then now=", () => {
  const entryArbitrary = fc.record({
    address: fc.oneof(fc.ipV4(), fc.constantFrom("2001:db8::1", "2001:db8::2", "fe80::1")),
    port: fc.integer({ min: 1, max: 65535 }),
    // Few distinct times, so equal last-seen times are common.
    lastSeconds: fc.integer({ min: 0, max: 40 }),
    lastFraction: fc.constantFrom(0, 1, 0x80000000, 0xffffffff),
    packets: fc.integer({ min: 1, max: 1_000_000 }),
  });
  fc.assert(
    fc.property(
      fc.uniqueArray(entryArbitrary, {
        maxLength: 60,
        size: "max",
        selector: (e) => `${e.address}|${e.port}`,
      }),
      fc.oneof(
        fc.integer({ min: 2, max: 6 }).map((limit) => `limit=${limit}`),
        fc.integer({ min: 1, max: 3 }).map((frags) => `frags=${frags}`),
      ),
      fc.integer({ min: 1, max: 4 }),
      (generated, page, priorCount) => {
        const entries = generated.map((g, i) =>
          client4(i, {
            address: g.address,
            port: g.port,
            lastSeen: at(g.lastSeconds, g.lastFraction),
            packets: g.packets,
          })
        );
        const { received, requests } = fetchAll(entries, { page, priorCount });
        const expected = [...entries].sort((a, b) =>
          a.lastSeen.seconds - b.lastSeen.seconds || a.lastSeen.fraction - b.lastSeen.fraction ||
          (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) || a.port - b.port
        );
        assert.deepEqual(
          received,
          expected.map((e) => ({
            addr: endpoint(e),
            last: hexTimestamp(e.lastSeen),
            ct: String(e.packets),
          })),
        );
        const perPage = page.startsWith("limit=") ? Number(page.slice(6)) : 1;
        assert.ok(requests <= Math.floor(entries.length / perPage) + 1, `${requests} requests`);
      },
    ),
    { numRuns: propertyRuns(300) },
  );
});

Deno.test({
  name: "mruResponse() pages through 50,000 clients with each request well under 50 ms",
  // Under qemu-user (the CI's ARM stage) this budget measured 138, 577 and 1720 ms in three runs:
  // it measures the emulator there; the x86_64 stage holds the code to 50 ms.
  ignore: underQemuUser(),
  fn: () => {
    const entries = Array.from(
      { length: 50_000 },
      (_, i) => client4((i * 7919) % 50_000, { lastSeen: at((i * 7919) % 50_000 >> 2, i) }),
    );
    const timed = (text: string): number => {
      let best = Infinity;
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        answerItems(entries, text);
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    const first = answerItems(entries, "frags=32");
    const middle = entries.find((e) => e.lastSeen.seconds === at(25_000 >> 2).seconds)!;
    for (const text of ["frags=32", "limit=96", `frags=32, ${priors(middle)}`, "frags=128"]) {
      const ms = timed(text);
      assert.ok(ms < 50, `${text}: ${ms.toFixed(1)} ms`);
    }
    assert.equal(valueOf(first, "now"), undefined);
    assert.ok(addresses(first).length > 90, `${addresses(first).length} clients in 32 fragments`);
  },
});
