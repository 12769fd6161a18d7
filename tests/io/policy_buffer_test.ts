// The shared policy buffer: a reload's restrict rules and rate limits reach a reader once, byte arrays intact; a write in progress is not read.
import assert from "node:assert/strict";
import { defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import {
  createPolicyBuffer,
  createPolicyReader,
  readNewPolicy,
  writePolicy,
} from "../../src/io/policy_buffer.ts";

const rule = {
  family: 6 as const,
  network: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array(12).fill(0)]),
  mask: Uint8Array.from([...new Array(8).fill(0xff), ...new Array(8).fill(0)]),
  flags: ["kod", "limited"] as const,
};

Deno.test("a published policy is read once, with its rules' bytes intact", () => {
  const buffer = createPolicyBuffer();
  const reader = createPolicyReader(buffer);
  assert.equal(readNewPolicy(reader), null, "nothing published yet: the start policy stays");
  writePolicy(buffer, {
    restrict: [rule],
    rateLimit: { ...defaultRateLimitPolicy, burstPackets: 3 },
  });
  const read = readNewPolicy(reader);
  assert.deepEqual(read?.restrict, [{ ...rule, flags: [...rule.flags] }]);
  assert.ok(read?.restrict[0]?.network instanceof Uint8Array);
  assert.equal(read?.rateLimit.burstPackets, 3);
  assert.equal(readNewPolicy(reader), null, "read once");
  writePolicy(buffer, { restrict: [], rateLimit: defaultRateLimitPolicy });
  assert.deepEqual(readNewPolicy(reader)?.restrict, []);
});

Deno.test("a write in progress (odd sequence) is not read; the next call takes the finished one", () => {
  const buffer = createPolicyBuffer();
  const reader = createPolicyReader(buffer);
  writePolicy(buffer, { restrict: [rule], rateLimit: defaultRateLimitPolicy });
  const words = new Int32Array(buffer);
  Atomics.add(words, 0, 1); // a writer started and stopped half way
  assert.equal(readNewPolicy(reader), null);
  Atomics.add(words, 0, 1);
  assert.equal(readNewPolicy(reader)?.restrict.length, 1);
});

Deno.test("a policy too large for the buffer is refused before anything is written", () => {
  const buffer = createPolicyBuffer();
  const many = Array.from({ length: 20_000 }, () => rule);
  assert.throws(
    () => writePolicy(buffer, { restrict: many, rateLimit: defaultRateLimitPolicy }),
    /fit the responders' shared buffer/,
  );
  assert.equal(Atomics.load(new Int32Array(buffer), 0), 0);
});
