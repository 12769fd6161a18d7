// Tests of per-client rate limiting: polite clients over a simulated day, floods, KoD pacing, table bound and eviction.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  chargeClient,
  createRateTable,
  defaultRateLimitPolicy,
  findClient,
  noteRequest,
  oldestEntry,
  RateDecision,
  type RateDecisionValue,
  type RateTable,
  rateTableSize,
  retuneRateTable,
} from "../../../src/core/server/rate_limit.ts";
import type { ClientAddress, RateLimitPolicy } from "../../../src/core/server/types.ts";
import { clientAt } from "../_vectors.ts";
import { RestrictBit } from "../../../src/core/server/restrict.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const DAY_SECONDS = 86_400;

/** One NTPv4 request of a `limited` client at `monotonicSeconds`, as handleRequest charges it. */
function admitRequest(
  table: RateTable,
  client: ClientAddress,
  monotonicSeconds: number,
): RateDecisionValue {
  const entry = findClient(table, client, monotonicSeconds);
  const decision = chargeClient(table, entry, monotonicSeconds);
  const dropped = decision !== RateDecision.allow;
  noteRequest(table, entry, monotonicSeconds, client.port, 0x23, RestrictBit.limited, dropped);
  return decision;
}

/** Sends packets at the given times (seconds) and tallies the decisions. */
function run(table: RateTable, client: ClientAddress, timesSeconds: Iterable<number>): {
  allowed: number;
  kod: number;
  dropped: number;
  decisions: RateDecisionValue[];
} {
  const decisions: RateDecisionValue[] = [];
  for (const t of timesSeconds) decisions.push(admitRequest(table, client, t));
  return {
    allowed: decisions.filter((d) => d === RateDecision.allow).length,
    kod: decisions.filter((d) => d === RateDecision.kissOfDeath).length,
    dropped: decisions.filter((d) => d === RateDecision.drop).length,
    decisions,
  };
}

function* everyInterval(
  startSeconds: number,
  endSeconds: number,
  intervalSeconds: number,
  burst: number[],
) {
  for (let t = startSeconds; t < endSeconds; t += intervalSeconds) {
    for (const offset of burst) yield t + offset;
  }
}

Deno.test("a monitor sending 3 requests 2 s apart every 3 minutes is never limited in a day", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  const result = run(table, clientAt("192.0.2.10"), everyInterval(0, DAY_SECONDS, 180, [0, 2, 4]));
  assert.equal(result.allowed, 3 * 480);
  assert.equal(result.kod + result.dropped, 0);
});

Deno.test("check_ntp_time's 4 back-to-back requests every minute are never limited in a day", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  const burst = [0, 0.0001, 0.0002, 0.0003];
  const result = run(table, clientAt("192.0.2.11"), everyInterval(0, DAY_SECONDS, 60, burst));
  assert.equal(result.allowed, 4 * 1440);
  assert.equal(result.kod + result.dropped, 0);
});

Deno.test("an iburst client (8 packets 2 s apart, then every 64 s) is never limited in a day", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  const times = [0, 2, 4, 6, 8, 10, 12, 14, ...everyInterval(78, DAY_SECONDS, 64, [0])];
  const result = run(table, clientAt("2001:db8::12"), times);
  assert.equal(result.kod + result.dropped, 0);
  assert.equal(result.allowed, times.length);
});

Deno.test("iburst, check_ntp_time and a monitor from one address together are not limited", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  const times = [0, 0.01, 0.02, 0.03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13].sort((a, b) => a - b);
  const result = run(table, clientAt("192.0.2.13"), times);
  assert.equal(result.kod + result.dropped, 0);
});

Deno.test("a client polling every 8 s (the average) with jitter is never limited in a day", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  let rng = 12345;
  const jitter = () => {
    rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
    return (rng / 2 ** 32 - 0.5) * 0.2; // ±0.1 s
  };
  const times = [...everyInterval(0, DAY_SECONDS, 8, [0])].map((t) => t + jitter());
  const result = run(table, clientAt("192.0.2.14"), times);
  assert.equal(result.kod + result.dropped, 0);
});

Deno.test("a flood of 100 packets/s is limited after the burst and stays limited", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  const times = Array.from({ length: 100 * 60 }, (_, i) => i / 100);
  const result = run(table, clientAt("198.51.100.1"), times);
  assert.equal(result.allowed, defaultRateLimitPolicy.burstPackets);
  assert.ok(result.dropped > 5900, `dropped ${result.dropped}`);
});

Deno.test("a limited client gets one KoD per 8 s, and silence in between", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  const times = Array.from({ length: 100 * 60 }, (_, i) => i / 100);
  const { decisions } = run(table, clientAt("198.51.100.2"), times);
  const kodTimes = decisions.flatMap((
    d,
    i,
  ) => (d === RateDecision.kissOfDeath ? [times[i] as number] : []));
  // The first limited packet (the 17th) gets the first KoD.
  assert.equal(decisions[16], RateDecision.kissOfDeath);
  assert.equal(decisions[17], RateDecision.drop);
  assert.equal(kodTimes.length, 8); // t = 0.16, 8.16, ..., 56.16
  for (let i = 1; i < kodTimes.length; i++) {
    assert.ok((kodTimes[i] as number) - (kodTimes[i - 1] as number) >= 8 - 1e-9);
  }
});

Deno.test("a flooding client recovers after it goes quiet", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  const client = clientAt("198.51.100.3");
  run(table, client, Array.from({ length: 1000 }, (_, i) => i / 100));
  // Credit is at most -16 after the flood; 17 packets of refill (136 s) bring it back above 1.
  assert.notEqual(admitRequest(table, client, 10 + 100), RateDecision.allow);
  assert.equal(admitRequest(table, client, 10 + 100 + 137), RateDecision.allow);
});

Deno.test("a limited client that spaces its packets by minimumSeconds is held to the average rate", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  // One packet every 2 s for an hour: the burst, then one answer per 8 s.
  const result = run(table, clientAt("198.51.100.4"), everyInterval(0, 3600, 2, [0]));
  const expected = defaultRateLimitPolicy.burstPackets + 3600 / 8;
  assert.ok(
    Math.abs(result.allowed - expected) <= 2,
    `allowed ${result.allowed}, expected about ${expected}`,
  );
});

Deno.test("different addresses have separate buckets, IPv4 and IPv6 alike", () => {
  const table = createRateTable(defaultRateLimitPolicy);
  run(table, clientAt("198.51.100.5"), Array.from({ length: 100 }, () => 0));
  assert.equal(admitRequest(table, clientAt("198.51.100.6"), 0), RateDecision.allow);
  assert.equal(admitRequest(table, clientAt("::ffff:0:c633:6405"), 0), RateDecision.allow);
  assert.equal(admitRequest(table, clientAt("2001:db8::5"), 0), RateDecision.allow);
  assert.notEqual(admitRequest(table, clientAt("198.51.100.5"), 0), RateDecision.allow);
});

Deno.test("the table never holds more than tableEntries clients and evicts the least recently seen", () => {
  const policy: RateLimitPolicy = { ...defaultRateLimitPolicy, tableEntries: 4 };
  const table = createRateTable(policy);
  const flood = (address: string, at: number) =>
    run(table, clientAt(address), Array.from({ length: 40 }, () => at));
  flood("10.0.0.1", 0); // A limited
  flood("10.0.0.2", 0); // B limited
  admitRequest(table, clientAt("10.0.0.3"), 1);
  admitRequest(table, clientAt("10.0.0.4"), 1);
  assert.equal(rateTableSize(table), 4);
  assert.notEqual(admitRequest(table, clientAt("10.0.0.1"), 2), RateDecision.allow); // A is now the newest
  admitRequest(table, clientAt("10.0.0.5"), 3); // evicts B, the least recently seen
  assert.equal(rateTableSize(table), 4);
  assert.equal(admitRequest(table, clientAt("10.0.0.2"), 3), RateDecision.allow); // B starts afresh (evicts 10.0.0.3)
  assert.notEqual(admitRequest(table, clientAt("10.0.0.1"), 3), RateDecision.allow); // A still remembered
  for (let i = 0; i < 1000; i++) admitRequest(table, clientAt(`10.1.${i >> 8}.${i & 255}`), 4);
  assert.equal(rateTableSize(table), 4);
});

/** A plain Map-based model of the documented rules, to check the hash table against. */
function createModel(policy: RateLimitPolicy) {
  const refillSeconds = 2 ** policy.averageLog2;
  const entries = new Map<string, { tokens: number; lastSeen: number; lastKod: number }>();
  return (key: string, now: number): RateDecisionValue => {
    let entry = entries.get(key);
    if (entry === undefined) {
      if (entries.size >= policy.tableEntries) {
        entries.delete(entries.keys().next().value as string);
      }
      entries.set(key, { tokens: policy.burstPackets - 1, lastSeen: now, lastKod: -Infinity });
      return RateDecision.allow;
    }
    entries.delete(key);
    entries.set(key, entry);
    const elapsed = now - entry.lastSeen;
    entry.lastSeen = now;
    if (elapsed > 0) {
      entry.tokens = Math.min(policy.burstPackets, entry.tokens + elapsed / refillSeconds);
    }
    if (entry.tokens >= 1) {
      entry.tokens -= 1;
      return RateDecision.allow;
    }
    if (elapsed < policy.minimumSeconds) {
      entry.tokens = Math.max(-policy.burstPackets, entry.tokens - 1);
    }
    if (now - entry.lastKod >= refillSeconds) {
      entry.lastKod = now;
      return RateDecision.kissOfDeath;
    }
    entry = undefined;
    return RateDecision.drop;
  };
}

Deno.test("admitRequest() decides like a simple LRU model under random traffic and eviction", () => {
  const addresses = [
    ...Array.from({ length: 20 }, (_, i) => `192.0.2.${i}`),
    ...Array.from({ length: 20 }, (_, i) => `2001:db8::${i.toString(16)}`),
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.array(
        fc.tuple(fc.nat({ max: addresses.length - 1 }), fc.double({ min: 0, max: 5, noNaN: true })),
        {
          minLength: 1,
          maxLength: 400,
        },
      ),
      (tableEntries, hashSeed, traffic) => {
        const policy: RateLimitPolicy = {
          averageLog2: 1,
          minimumSeconds: 1,
          burstPackets: 3,
          tableEntries,
        };
        const table = createRateTable(policy, { hashSeed });
        const model = createModel(policy);
        let now = 0;
        for (const [index, gap] of traffic) {
          now += gap;
          const address = addresses[index] as string;
          assert.equal(
            admitRequest(table, clientAt(address), now),
            model(address, now),
            `${address} at ${now}`,
          );
          assert.ok(rateTableSize(table) <= tableEntries);
        }
      },
    ),
    { numRuns: propertyRuns(300) },
  );
});

Deno.test("createRateTable() rejects an invalid policy", () => {
  assert.throws(() => createRateTable({ ...defaultRateLimitPolicy, tableEntries: 0 }), RangeError);
  assert.throws(() => createRateTable({ ...defaultRateLimitPolicy, burstPackets: 0 }), RangeError);
  assert.throws(() => createRateTable({ ...defaultRateLimitPolicy, averageLog2: 1.5 }), RangeError);
  assert.throws(
    () => createRateTable({ ...defaultRateLimitPolicy, minimumSeconds: -1 }),
    RangeError,
  );
});

Deno.test("a full table forgets the least recently seen client, counts how entries were found, and never grows", () => {
  const table = createRateTable({ ...defaultRateLimitPolicy, tableEntries: 4 });
  const bytes = table.memory.byteLength;
  for (const [i, address] of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"].entries()) {
    findClient(table, clientAt(address), i);
  }
  findClient(table, clientAt("192.0.2.2"), 10); // seen again: 192.0.2.1 is now the oldest
  assert.equal(table.keys[oldestEntry(table) * 4 + 3], 0xc0000201);
  for (let i = 0; i < 1000; i++) findClient(table, clientAt(`10.0.${i >> 8}.${i & 255}`), 20 + i);
  assert.equal(rateTableSize(table), 4);
  assert.deepEqual([...table.allocations], [1, 4, 1000], "exists, new, recycled");
  assert.equal(table.memory.byteLength, bytes);
  // Retuning keeps the clients and the counts.
  const retuned = retuneRateTable(table, {
    ...defaultRateLimitPolicy,
    tableEntries: 4,
    burstPackets: 2,
  });
  assert.equal(rateTableSize(retuned), 4);
  assert.deepEqual([...retuned.allocations], [1, 4, 1000]);
});
