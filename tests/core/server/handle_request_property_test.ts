// Property tests of the responder on random and damaged datagrams: it never throws and only answers valid requests.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodePacket } from "../../../src/core/packet/decode_packet.ts";
import { encodePacket } from "../../../src/core/packet/encode_packet.ts";
import { Counter } from "../../../src/core/server/counters.ts";
import { handleRequest } from "../../../src/core/server/handle_request.ts";
import type { RestrictFlag, ServerVerdict } from "../../../src/core/server/types.ts";
import { mutate, mutationsArbitrary, packetArbitrary, requestArbitrary } from "../_arbitraries.ts";
import { clientAt, ruleFor } from "../_vectors.ts";
import { makeContext } from "./_context.ts";
import { propertyRuns } from "../../support/property_runs.ts";
import { underQemuUser } from "../../support/under_qemu.ts";

const flagSets: RestrictFlag[][] = [[], ["kod", "limited"], ["noquery"], ["noserve"], ["ignore"], [
  "limited",
]];
const clients = [clientAt("192.0.2.1"), clientAt("2001:db8::1"), clientAt("192.0.2.2", 0)];

/** Checks the responder's promises for one datagram; returns the verdict. */
function checkOne(
  data: Uint8Array,
  flagIndex: number,
  clientIndex: number,
  atSeconds: number,
): ServerVerdict {
  const flags = flagSets[flagIndex % flagSets.length] as RestrictFlag[];
  const context = makeContext({ rules: [ruleFor("default4", flags), ruleFor("default6", flags)] });
  const out = new Uint8Array(100).fill(0x5a);
  const client = clients[clientIndex % clients.length]!;
  const verdict = handleRequest(
    { data, client, receiveTime: { seconds: 1, fraction: 2 }, monotonicSeconds: atSeconds },
    context,
    out,
  );
  if (verdict.action === "reply") {
    assert.ok(verdict.length <= data.length, "reply longer than request");
    assert.equal(verdict.length, 48);
    const request = decodePacket(data); // throws (failing the test) for an invalid request
    assert.equal(request.mode, 3);
    assert.ok(request.version >= 1 && request.version <= 4);
    assert.notEqual(client.port, 0);
    assert.ok(!flags.includes("ignore") && !flags.includes("noserve"));
    const reply = decodePacket(out.subarray(0, 48));
    assert.equal(reply.mode, 4);
    assert.equal(reply.version, request.version);
    assert.deepEqual(reply.originTime, request.transmitTime);
    assert.equal(out[48], 0x5a);
  } else if (verdict.action === "control") {
    assert.equal((data[0] as number) & 7, 6);
    assert.ok(!flags.includes("noquery") && !flags.includes("ignore"));
  }
  const counters = context.counters;
  const current = counters[Counter.currentVersion] as number;
  const older = counters[Counter.olderVersion] as number;
  const version1 = counters[Counter.version1] as number;
  const outcomes = counters.reduce((sum, n) => sum + n, 0) -
    (counters[Counter.received] as number) - current - older - version1;
  assert.equal(counters[Counter.received], 1);
  assert.equal(outcomes, 1);
  // A version is counted for exactly the requests past the access rules: served, KoD or limited.
  const admitted = verdict.action === "reply" ||
    (verdict.action === "drop" && verdict.reason === "rateLimited");
  const isCurrent = (((data[0] as number) >> 3) & 7) === 4;
  assert.deepEqual([current, older], admitted ? (isCurrent ? [1, 0] : [0, 1]) : [0, 0]);
  const isVersion1 = (((data[0] as number) >> 3) & 7) === 1;
  assert.equal(version1, admitted && isVersion1 ? 1 : 0);
  return verdict;
}

/** Random bytes, half of them with a first byte that looks like a request (mode 3 or 6, version 1..4). */
const randomDatagram = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc.tuple(
    fc.constantFrom(0x0b, 0x13, 0x1b, 0x23, 0xe3, 0x16, 0x26),
    fc.oneof(
      fc.uint8Array({ minLength: 47, maxLength: 47 }),
      fc.uint8Array({ minLength: 5, maxLength: 119 }),
    ),
  ).map(([first, rest]) => Uint8Array.of(first, ...rest)),
);

/** Tallies verdicts so a property test can show it reached every branch it claims to cover. */
function tally(counts: Map<string, number>, verdict: ServerVerdict): void {
  const key = verdict.action === "drop" ? verdict.reason : verdict.action;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

Deno.test("handleRequest() never throws and never answers invalid bytes, for random datagrams", () => {
  const counts = new Map<string, number>();
  fc.assert(
    fc.property(randomDatagram, fc.nat(), fc.nat(), (data, flagIndex, clientIndex) => {
      tally(counts, checkOne(data, flagIndex, clientIndex, 0));
    }),
    { numRuns: propertyRuns(5000) },
  );
  // The generated inputs do not depend on the architecture: coverage is checked natively only.
  if (underQemuUser()) return;
  for (const key of ["reply", "control", "mode7", "badVersion", "tooShort"]) {
    assert.ok((counts.get(key) ?? 0) > 0, `no ${key} verdict in ${JSON.stringify([...counts])}`);
  }
});

Deno.test("handleRequest() never throws and never answers invalid bytes, for damaged packets", () => {
  const counts = new Map<string, number>();
  fc.assert(
    fc.property(
      packetArbitrary,
      mutationsArbitrary,
      fc.nat(),
      fc.nat(),
      (packet, mutations, flagIndex, clientIndex) => {
        tally(counts, checkOne(mutate(encodePacket(packet), mutations), flagIndex, clientIndex, 0));
      },
    ),
    { numRuns: propertyRuns(5000) },
  );
  // Checked natively only: in 500 runs malformedExtension was missing 4 times in 25 (2026-12-07).
  if (underQemuUser()) return;
  for (
    const key of ["reply", "badMode", "badLength", "malformedExtension", "restricted", "badPort"]
  ) {
    assert.ok((counts.get(key) ?? 0) > 0, `no ${key} verdict in ${JSON.stringify([...counts])}`);
  }
});

Deno.test("handleRequest() answers every valid request from an unrestricted client", () => {
  const runs = propertyRuns(1000);
  let replies = 0;
  fc.assert(
    fc.property(requestArbitrary, (request) => {
      const verdict = checkOne(encodePacket(request), 0, 0, 0);
      assert.deepEqual(verdict, {
        action: "reply",
        length: 48,
        kissOfDeath: false,
        transmitWritten: false,
      });
      replies++;
    }),
    { numRuns: runs },
  );
  assert.equal(replies, runs);
});
