// Tests of reading a responder's client table as ntpq's recently-used list, also from another thread's view and from torn memory.
import assert from "node:assert/strict";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { recentClients } from "../../../src/core/control/recent_clients.ts";
import {
  chargeClient,
  createRateTable,
  defaultRateLimitPolicy,
  findClient,
  noteRequest,
  openRateTable,
  type RateTable,
  rateTableByteLength,
} from "../../../src/core/server/rate_limit.ts";
import { RestrictBit } from "../../../src/core/server/restrict.ts";
import type { ClientAddress, RateLimitPolicy } from "../../../src/core/server/types.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const policy: RateLimitPolicy = { ...defaultRateLimitPolicy, tableEntries: 8 };
const unixEpochInNtp = 2_208_988_800;

function v4(text: string, port = 123): ClientAddress {
  return { family: 4, bytes: Uint8Array.from(text.split(".").map(Number)), port };
}

function request(
  table: RateTable,
  client: ClientAddress,
  at: number,
  options: { firstByte?: number; restrictBits?: number; dropped?: boolean } = {},
): void {
  const entry = findClient(table, client, at);
  noteRequest(
    table,
    entry,
    at,
    client.port,
    options.firstByte ?? 0x23,
    options.restrictBits ?? 0,
    options.dropped ?? false,
  );
}

/** Unix seconds of an NTP timestamp (this era). */
function unixOf(ts: { seconds: number; fraction: number }): number {
  return ts.seconds - unixEpochInNtp + ts.fraction / 2 ** 32;
}

Deno.test("recentClients() lists the most recent first with wall-clock times, counts, mode, version, flags and drops", () => {
  const table = createRateTable(policy);
  request(table, v4("192.0.2.1", 40000), 100, { firstByte: 0x1b }); // v3 client
  request(table, v4("192.0.2.2", 123), 101);
  request(table, v4("192.0.2.1", 40001), 105, {
    restrictBits: RestrictBit.kod | RestrictBit.limited,
    dropped: true,
  });
  const clients = recentClients(table, {
    limit: 10,
    clock: { monotonicSeconds: 110, unixSeconds: 1_800_000_000.5 },
  });
  assert.deepEqual(clients.map((c) => [c.address, c.port, c.packets, c.droppedPackets]), [
    ["192.0.2.1", 40001, 2, 1],
    ["192.0.2.2", 123, 1, 0],
  ]);
  const [first, second] = clients as [(typeof clients)[0], (typeof clients)[0]];
  assert.ok(Math.abs(unixOf(first.lastSeen) - 1_799_999_995.5) < 1e-6);
  assert.ok(Math.abs(unixOf(first.firstSeen) - 1_799_999_990.5) < 1e-6);
  assert.deepEqual([first.version, first.mode], [4, 3]);
  assert.deepEqual(first.restrictFlags, ["kod", "limited"]);
  assert.deepEqual([second.version, second.mode, second.restrictFlags], [4, 3, []]);
  assert.deepEqual(
    recentClients(table, { limit: 1, clock: { monotonicSeconds: 110, unixSeconds: 0 } })
      .map((c) => c.address),
    ["192.0.2.1"],
  );
});

Deno.test("recentClients() formats IPv6 addresses and skips an entry with no request noted yet", () => {
  const table = createRateTable(policy);
  const v6: ClientAddress = {
    family: 6,
    bytes: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42),
    port: 5000,
  };
  request(table, v6, 1);
  findClient(table, v4("198.51.100.7"), 2); // found, but noteRequest not called (yet)
  const clients = recentClients(table, {
    limit: 10,
    clock: { monotonicSeconds: 2, unixSeconds: 1_800_000_000 },
  });
  assert.deepEqual(clients.map((c) => `${c.address} ${c.port}`), ["2001:db8::42 5000"]);
});

Deno.test("an evicted client disappears from the list; a rate-limited one keeps its token state apart from the monitor's counts", () => {
  const small: RateLimitPolicy = { ...policy, tableEntries: 2, burstPackets: 1 };
  const table = createRateTable(small);
  const a = v4("10.0.0.1");
  const entry = findClient(table, a, 0);
  assert.equal(chargeClient(table, entry, 0), 0); // allowed
  noteRequest(table, entry, 0, 123, 0x23, RestrictBit.limited, false);
  const again = findClient(table, a, 0.5);
  assert.equal(again, entry);
  assert.notEqual(chargeClient(table, again, 0.5), 0, "second packet within the burst of 1");
  noteRequest(table, again, 0.5, 123, 0x23, RestrictBit.limited, true);
  request(table, v4("10.0.0.2"), 1);
  request(table, v4("10.0.0.3"), 2); // evicts 10.0.0.1, the least recently seen
  const clock = { monotonicSeconds: 2, unixSeconds: 1_800_000_000 };
  assert.deepEqual(recentClients(table, { limit: 10, clock }).map((c) => c.address), [
    "10.0.0.3",
    "10.0.0.2",
  ]);
  request(table, a, 3); // comes back afresh
  const back = recentClients(table, { limit: 10, clock: { ...clock, monotonicSeconds: 3 } })[0]!;
  assert.deepEqual([back.address, back.packets, back.droppedPackets], ["10.0.0.1", 1, 0]);
});

Deno.test("a view opened on the shared buffer sees what the writer's table records", () => {
  const buffer = new SharedArrayBuffer(rateTableByteLength(policy));
  const writer = createRateTable(policy, { hashSeed: 1234, buffer });
  const reader = openRateTable(policy, buffer);
  const clock = { monotonicSeconds: 50, unixSeconds: 1_800_000_000 };
  assert.deepEqual(recentClients(reader, { limit: 10, clock }), []);
  for (let i = 1; i <= 12; i++) request(writer, v4(`203.0.113.${i}`), i);
  assert.deepEqual(
    recentClients(reader, { limit: 10, clock }).map((c) => c.address),
    [12, 11, 10, 9, 8, 7, 6, 5].map((i) => `203.0.113.${i}`),
  );
  assert.throws(
    () => openRateTable(policy, new SharedArrayBuffer(16)),
    /rate table buffer has 16 bytes, needs \d+/,
  );
});

Deno.test("recentClients() on a table torn by a concurrent writer never throws, lists no entry twice and stays within the table", () => {
  const entries = policy.tableEntries;
  const link = fc.integer({ min: -2, max: entries + 1 });
  const runs = propertyRuns(500);
  let listed = 0;
  fc.assert(
    fc.property(
      fc.record({
        head: link,
        older: fc.array(link, { minLength: entries, maxLength: entries }),
        times: fc.array(fc.double(), { minLength: entries, maxLength: entries }),
        packets: fc.array(fc.double(), { minLength: entries, maxLength: entries }),
        keys: fc.array(fc.nat(), { minLength: entries * 4, maxLength: entries * 4 }),
      }),
      fc.integer({ min: 0, max: 20 }),
      (noise, limit) => {
        const buffer = new SharedArrayBuffer(rateTableByteLength(policy));
        const writer = createRateTable(policy, { buffer });
        for (let i = 1; i <= 5; i++) request(writer, v4(`192.0.2.${i}`, 1000 + i), i);
        // What a reader may see mid-write: links, times, counts and keys in any state.
        const view = openRateTable(policy, buffer);
        view.state[1] = noise.head;
        view.older.set(noise.older);
        view.lastSeenSeconds.set(noise.times);
        view.packets.set(noise.packets);
        view.keys.set(noise.keys);
        const clients = recentClients(view, {
          limit,
          clock: { monotonicSeconds: 10, unixSeconds: 1_800_000_000 },
        });
        assert.ok(clients.length <= Math.min(limit, entries));
        listed += clients.length;
        const rows = clients.map((c) => `${c.address} ${c.port}`);
        assert.equal(new Set(rows).size, rows.length, `a row listed twice: ${rows}`);
        for (const c of clients) {
          assert.ok(ipaddr.isValid(c.address), c.address);
          assert.ok(c.packets >= 1);
        }
      },
    ),
    // Seeded: how many entries the random walks reach varies with the draws (89 was seen once);
    // this seed's first 50 runs (under qemu-user, propertyRuns) list 18.
    { numRuns: runs, seed: 0x5eed },
  );
  assert.ok(listed > runs / 5, `the walks listed only ${listed} entries in ${runs} runs`);
});

Deno.test("recentClients() stops at a link back to an entry it already listed", () => {
  const buffer = new SharedArrayBuffer(rateTableByteLength(policy));
  const writer = createRateTable(policy, { buffer });
  for (let i = 1; i <= 5; i++) request(writer, v4(`192.0.2.${i}`), i);
  const view = openRateTable(policy, buffer);
  // Entries 0..4 are 192.0.2.1..5; 4 is the newest. Link 192.0.2.4 back to it: a cycle.
  view.older[3] = 4;
  const clients = recentClients(view, {
    limit: 10,
    clock: { monotonicSeconds: 10, unixSeconds: 1_800_000_000 },
  });
  assert.deepEqual(clients.map((c) => c.address), ["192.0.2.5", "192.0.2.4"]);
});
