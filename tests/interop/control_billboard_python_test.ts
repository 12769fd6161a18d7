// Our ntpq -np row renderer against ntpsec ntpq's own Python code (ntp.util.PeerSummary) on thousands of generated peers.
import assert from "node:assert/strict";
import fc from "fast-check";
import { answerControl } from "../../src/core/control/answer_control.ts";
import {
  decodeControlMessage,
  encodeControlMessage,
} from "../../src/core/control/control_message.ts";
import type { ControlPeerView } from "../../src/core/control/control_view.ts";
import { formatBillboardRow } from "../../src/core/control/ntpq_billboard.ts";
import { reassembleFragments } from "../../src/core/control/reassemble_fragments.ts";
import { parseVariableList, payloadText } from "../../src/core/control/variable_list.ts";
import { refidFromAscii } from "../../src/core/packet/refid.ts";
import { ntpFromUnix } from "../../src/core/time/ntp_timestamp.ts";
import { debianPython } from "../support/clients.ts";
import { fakeControlView } from "../support/fake_control_views.ts";

const script = decodeURIComponent(
  new URL("../support/ntpq_peer_summary.py", import.meta.url).pathname,
);
const nowUnixSeconds = 1_795_860_837.6;

interface Case {
  readonly status: number;
  readonly text: string;
  readonly now: number;
}

/** Rows as ntpq's PeerSummary renders them, one per case. */
async function pythonRows(cases: readonly Case[]): Promise<string[]> {
  const child = new Deno.Command(debianPython, {
    args: [script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Read while writing: the rows would fill the stdout pipe and stall the writer.
  const outputPromise = child.output();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(cases.map((c) => JSON.stringify(c)).join("\n") + "\n"),
  );
  await writer.close();
  const output = await outputPromise;
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).trim().split("\n").map((l) =>
    JSON.parse(l) as string
  );
}

const peerArbitrary = fc.record({
  address: fc.oneof(fc.ipV4(), fc.ipV6()),
  stratum: fc.integer({ min: 0, max: 16 }),
  refid: fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.constantFrom("INIT", "GPS", "PPS", "RATE", "CDMA"),
  ),
  hostPollLog2: fc.integer({ min: -2, max: 17 }),
  peerPollLog2: fc.integer({ min: -2, max: 17 }),
  reach: fc.integer({ min: 0, max: 255 }),
  delaySeconds: fc.double({ min: 0, max: 200, noNaN: true }),
  offsetSeconds: fc.double({ min: -2000, max: 2000, noNaN: true }),
  jitterSeconds: fc.double({ min: 0, max: 20, noNaN: true }),
  agoSeconds: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 10_000_000 })),
  selection: fc.integer({ min: 0, max: 7 }),
  configured: fc.boolean(),
  hostMode: fc.constantFrom(1, 2, 3, 5, 6),
});

Deno.test("our ntpq -np rows equal ntpq's own rendering of what our server sends, for 2000 generated peers", async () => {
  const base = fakeControlView("synced", { nowUnixSeconds }).peers[0]!;
  const samples = fc.sample(peerArbitrary, { numRuns: 2000, seed: 42 });
  const cases: Case[] = samples.map((s, index) => {
    const peer: ControlPeerView = {
      ...base,
      associationId: index + 1,
      sourceAddress: s.address,
      stratum: s.stratum,
      referenceId: typeof s.refid === "number" ? s.refid : refidFromAscii(s.refid),
      hostPollLog2: s.hostPollLog2,
      peerPollLog2: s.peerPollLog2,
      reach: s.reach,
      delaySeconds: s.delaySeconds,
      offsetSeconds: s.offsetSeconds,
      jitterSeconds: s.jitterSeconds,
      receiveTime: s.agoSeconds === null
        ? { seconds: 0, fraction: 0 }
        : ntpFromUnix(nowUnixSeconds - s.agoSeconds, 0),
      selection: s.selection,
      configured: s.configured,
      hostMode: s.hostMode,
    };
    const view = { ...fakeControlView("synced", { nowUnixSeconds }), peers: [peer] };
    const request = encodeControlMessage({
      leap: 3,
      version: 2,
      response: false,
      error: false,
      more: false,
      opcode: 2,
      sequence: 1,
      status: 0,
      associationId: peer.associationId,
      offset: 0,
      data: new Uint8Array(0),
    });
    const { replies } = answerControl(request, {
      family: 4,
      bytes: new Uint8Array([127, 0, 0, 1]),
      port: 1,
    }, {
      view,
      now: ntpFromUnix(nowUnixSeconds, 0),
      nonceSecret: new Uint8Array(16),
    });
    const joined = reassembleFragments(replies.map((r) => decodeControlMessage(r)!));
    assert.ok(joined !== null);
    return { status: joined.status, text: payloadText(joined.data), now: nowUnixSeconds };
  });
  const expected = await pythonRows(cases);
  const mismatches: string[] = [];
  cases.forEach((c, i) => {
    const ours = formatBillboardRow(
      { status: c.status, variables: parseVariableList(c.text) },
      c.now,
    );
    if (ours !== expected[i]) {
      mismatches.push(
        `ntpq: ${JSON.stringify(expected[i])}\nours: ${JSON.stringify(ours)}\n${c.text}`,
      );
    }
  });
  assert.deepEqual(
    mismatches.slice(0, 5),
    [],
    `${mismatches.length} of ${cases.length} rows differ`,
  );
  assert.ok(
    !expected.some((row) => row.startsWith("ERROR")),
    "ntpq crashed on some of our answers",
  );
});
