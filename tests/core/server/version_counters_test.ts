// Tests of the per-version counters (ntpq sysstats' "current version" / "older version"): which datagrams handleRequest counts, and how.
import assert from "node:assert/strict";
import { Counter, countersToRecord } from "../../../src/core/server/counters.ts";
import { handleRequest, type ServerContext } from "../../../src/core/server/handle_request.ts";
import type { ClientAddress, RestrictFlag } from "../../../src/core/server/types.ts";
import { capturedRequests, clientAt, fromHex, ruleFor } from "../_vectors.ts";
import { makeContext } from "./_context.ts";

const CLIENT = clientAt("192.0.2.1", 59792);

/** ntpdig's captured request with byte 0 set to leap 0, `version`, `mode`. */
function requestWith(version: number, mode: number, length = 48): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set(fromHex(capturedRequests.ntpdig).subarray(0, Math.min(48, length)));
  bytes[0] = (version << 3) | mode;
  return bytes;
}

function send(
  context: ServerContext,
  data: Uint8Array,
  options: { client?: ClientAddress; at?: number } = {},
): void {
  handleRequest(
    {
      data,
      client: options.client ?? CLIENT,
      receiveTime: { seconds: 0xeeb527e0, fraction: 0 },
      monotonicSeconds: options.at ?? 0,
    },
    context,
    new Uint8Array(48),
  );
}

function versions(
  context: ServerContext,
): [current: number, older: number, version1: number] {
  return [
    context.counters[Counter.currentVersion] as number,
    context.counters[Counter.olderVersion] as number,
    context.counters[Counter.version1] as number,
  ];
}

function withFlags(flags: readonly RestrictFlag[]): ServerContext {
  return makeContext({ rules: [ruleFor("default4", flags)] });
}

Deno.test("handleRequest() counts mode 3 version 4 as current and versions 1..3 as older", () => {
  const context = makeContext();
  for (const [version, times] of [[1, 1], [2, 2], [3, 3], [4, 5]] as const) {
    for (let i = 0; i < times; i++) send(context, requestWith(version, 3));
  }
  assert.deepEqual(versions(context), [5, 6, 1]);
  const record = countersToRecord(context.counters);
  assert.equal(record.served, 11);
  assert.equal(record.received, 11);
});

Deno.test("handleRequest() counts no version for other modes, even with versions 1..4", () => {
  const context = makeContext();
  for (const mode of [0, 1, 2, 4, 5, 6, 7]) {
    for (const version of [1, 2, 3, 4]) send(context, requestWith(version, mode));
  }
  assert.deepEqual(versions(context), [0, 0, 0]);
  const record = countersToRecord(context.counters);
  assert.equal(record.control, 4);
  assert.equal(record.dropMode7, 4);
  assert.equal(record.dropBadMode, 20);
});

Deno.test("handleRequest() counts no version for bad versions or malformed requests", () => {
  const context = makeContext();
  for (const version of [0, 5, 6, 7]) send(context, requestWith(version, 3));
  send(context, requestWith(4, 3, 47)); // too short
  send(context, requestWith(3, 3, 50)); // 2 bytes after the header: bad length
  send(context, requestWith(4, 3, 48), { client: clientAt("192.0.2.1", 0) }); // source port 0
  assert.deepEqual(versions(context), [0, 0, 0]);
  const record = countersToRecord(context.counters);
  assert.equal(record.dropBadVersion, 4);
  assert.equal(record.dropTooShort + record.dropBadLength + record.dropBadPort, 3);
});

Deno.test("handleRequest() counts no version for requests refused by ignore or noserve", () => {
  for (const flag of ["ignore", "noserve"] as const) {
    const context = withFlags([flag]);
    send(context, requestWith(4, 3));
    send(context, requestWith(2, 3));
    assert.deepEqual(versions(context), [0, 0, 0], flag);
    assert.equal(context.counters[Counter.dropRestricted], 2, flag);
  }
});

Deno.test("handleRequest() counts the version of rate-limited requests too, as ntpd does", () => {
  for (const flags of [["limited"], ["limited", "kod"]] as const) {
    const context = withFlags(flags);
    // 100 requests in one second: most are limited (ntpd counts versions before rate limiting).
    for (let i = 0; i < 100; i++) {
      send(context, requestWith(i % 2 === 0 ? 4 : 1, 3), { at: i / 100 });
    }
    const record = countersToRecord(context.counters);
    assert.ok(record.dropRateLimited > 0, `${flags}: nothing was rate limited`);
    assert.deepEqual(versions(context), [50, 50, 50], `${flags}`);
    assert.equal(record.served + record.kodSent + record.dropRateLimited, 100, `${flags}`);
  }
});
