// The real ntpq (ntpsec) lists 1500 recent clients from our control server by paging with READ_MRU continuation requests.
import assert from "node:assert/strict";
import type { ControlOutcome } from "../../src/core/control/answer_control.ts";
import { decodeControlMessage } from "../../src/core/control/control_message.ts";
import type { MruEntry } from "../../src/core/control/control_view.ts";
import { parseVariableList, payloadText } from "../../src/core/control/variable_list.ts";
import { defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import type { RestrictFlag } from "../../src/core/server/types.ts";
import { ntpFromUnix } from "../../src/core/time/ntp_timestamp.ts";
import { attachControlServer } from "../../src/daemon/control_server.ts";
import { startResponders } from "../../src/daemon/responders.ts";
import type { Responders } from "../../src/io/responders_types.ts";
import { runNtpq } from "../support/control_clients.ts";
import { fakeControlView } from "../support/fake_control_views.ts";

const CLIENTS = 1500;
const IPV6_CLIENTS = 100;
const READ_MRU = 10;

interface Expected {
  readonly count: number;
  readonly restrictHex: string;
  readonly mode: number;
  readonly version: number;
  readonly dropped: number;
  readonly ageSeconds: number;
}

/**
 * 1400 IPv4 and 100 IPv6 clients with distinct address:port; every last-seen time is shared by
 * two clients (so pages also split equal times), ages 0..749 s before `startUnixSeconds`.
 */
function generateClients(startUnixSeconds: number): {
  clients: MruEntry[];
  expected: Map<string, Expected>;
} {
  const clients: MruEntry[] = [];
  const expected = new Map<string, Expected>();
  const flagSets: readonly (readonly RestrictFlag[])[] = [["kod", "limited"], ["limited"], [], [], [
    "nomodify",
    "noquery",
  ]];
  const bitsOf = ["420", "20", "0", "0", "c0"];
  for (let i = 0; i < CLIENTS; i++) {
    const ipv6 = i >= CLIENTS - IPV6_CLIENTS;
    const address = ipv6
      ? `2001:db8::${i.toString(16)}`
      : `10.${1 + (i % 3)}.${(i >> 8) & 255}.${i & 255}`;
    const port = ipv6 ? 123 + i : 1024 + ((i * 37) % 60_000);
    const ageSeconds = Math.floor(((i * 7919) % CLIENTS) / 2);
    const packets = 1 + ((i * 13) % 5000);
    const lastSeen = ntpFromUnix(startUnixSeconds - ageSeconds, 0);
    clients.push({
      address,
      port,
      firstSeen: ntpFromUnix(startUnixSeconds - ageSeconds - packets * 8, 0),
      lastSeen,
      packets,
      mode: 3,
      version: 3 + (i % 2),
      restrictFlags: flagSets[i % 5]!,
      droppedPackets: i % 4,
    });
    expected.set(`${address} ${port}`, {
      count: packets,
      restrictHex: bitsOf[i % 5]!,
      mode: 3,
      version: 3 + (i % 2),
      dropped: i % 4,
      ageSeconds,
    });
  }
  return { clients, expected };
}

interface Row {
  readonly lstint: number;
  readonly restrictHex: string;
  readonly mode: number;
  readonly version: number;
  readonly count: number;
  readonly dropped: number;
  readonly key: string;
}

/** The rows of `ntpq -n -c mrulist` (between the `=` rule and the "# Collected" line). */
function mrulistRows(stdout: string): Row[] {
  const lines = stdout.split("\n");
  const rule = lines.findIndex((l) => /^=+$/.test(l));
  assert.ok(rule > 0, stdout);
  const rows: Row[] = [];
  for (const line of lines.slice(rule + 1)) {
    if (line.startsWith("#") || line.trim() === "") break;
    // lstint avgint rstr r m v count score drop rport remote-address
    const match = /^\s*(\d+)\s+\S+\s+([0-9a-f]+) \S (\d) (\d)\s+(\d+)\s+\S+\s+(\d+)\s+(\d+) (\S+)$/
      .exec(line);
    assert.ok(match !== null, `unexpected row: ${JSON.stringify(line)}`);
    rows.push({
      lstint: Number(match[1]),
      restrictHex: match[2]!,
      mode: Number(match[3]),
      version: Number(match[4]),
      count: Number(match[5]),
      dropped: Number(match[6]),
      key: `${match[8]} ${match[7]}`,
    });
  }
  return rows;
}

Deno.test("ntpq -c mrulist pages through 1500 recent clients with READ_MRU continuation requests", async () => {
  const startUnixSeconds = Math.floor(Date.now() / 1000);
  const { clients, expected } = generateClients(startUnixSeconds);
  const responders = await startResponders({
    listen: [{ hostname: "127.0.0.1", port: 0, family: 4 }],
    workers: 1,
    restrict: [],
    rateLimit: defaultRateLimitPolicy,
  });
  // Watch the mode 6 traffic: the READ_MRU requests and every reply fragment.
  const readMruRequests: string[] = [];
  let replyFragments = 0;
  const observed: Responders = {
    ...responders,
    onControl: (callback) =>
      responders.onControl((data, client) => {
        if ((data[1]! & 0x1f) === READ_MRU) readMruRequests.push(payloadText(data.subarray(12)));
        callback(data, client);
      }),
    sendControlReply: (bytes, client) => {
      replyFragments++;
      assert.ok(decodeControlMessage(bytes) !== null);
      responders.sendControlReply(bytes, client);
    },
  };
  const outcomes: ControlOutcome[] = [];
  const control = attachControlServer(observed, {
    view: () => ({
      ...fakeControlView("synced", { nowUnixSeconds: Date.now() / 1000 }),
      clients,
    }),
    onRequest: (outcome) => outcomes.push(outcome),
  });
  try {
    const started = performance.now();
    const result = await runNtpq(
      { host: "127.0.0.1", port: responders.addresses[0]!.port },
      ["mrulist"],
      { timeoutMs: 45_000 },
    );
    const elapsedSeconds = (performance.now() - started) / 1000;
    assert.equal(result.timedOut, false, result.stderr);
    const rows = mrulistRows(result.stdout);
    const context = `${result.stdout.split("\n").slice(-3).join("\n")}\n${result.stderr}`;

    // Every generated client once, with its own counters, plus ntpq itself (mode 6).
    assert.equal(rows.length, CLIENTS + 1, context);
    assert.match(result.stdout, new RegExp(`^# Collected ${CLIENTS + 1} slots`, "m"));
    const seen = new Set<string>();
    for (const row of rows) {
      assert.ok(!seen.has(row.key), `${row.key} listed twice`);
      seen.add(row.key);
      const want = expected.get(row.key);
      if (want === undefined) {
        assert.match(row.key, /^127\.0\.0\.1 \d+$/, `unknown client ${row.key}`);
        assert.equal(row.mode, 6);
        continue;
      }
      assert.deepEqual(
        [row.count, row.restrictHex, row.mode, row.version, row.dropped],
        [want.count, want.restrictHex, want.mode, want.version, want.dropped],
        row.key,
      );
      // ntpq's lstint is its `now` (our final answer) minus last.N, rounded.
      assert.ok(
        row.lstint >= want.ageSeconds && row.lstint <= want.ageSeconds + elapsedSeconds + 2,
        `${row.key}: lstint ${row.lstint}, age ${want.ageSeconds}`,
      );
    }
    assert.equal(seen.size, CLIENTS + 1);
    // ntpq prints the newest first: the pages were stitched in order.
    for (let i = 1; i < rows.length; i++) {
      assert.ok(rows[i]!.lstint >= rows[i - 1]!.lstint, `row ${i} out of order`);
    }

    // It took several READ_MRU requests, each continuing from the newest client received.
    assert.ok(readMruRequests.length > 5, `${readMruRequests.length} READ_MRU requests`);
    const first = parseVariableList(readMruRequests[0]!);
    assert.ok(!first.some((item) => item.name === "addr.0"), readMruRequests[0]);
    for (const text of readMruRequests.slice(1)) {
      const names = parseVariableList(text).map((item) => item.name);
      assert.ok(names.includes("addr.0") && names.includes("last.0"), text);
    }
    assert.ok(!outcomes.includes("error"), `error replies: ${outcomes.join(",")}`);
    assert.ok(replyFragments > readMruRequests.length, `${replyFragments} reply fragments`);
  } finally {
    control.close();
    await responders.close();
  }
});
