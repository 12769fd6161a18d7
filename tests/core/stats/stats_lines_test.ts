// Tests of the statistics lines: ntpd's layouts field by field, MJD/second fields, torn lines refused, and format/parse round trips.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatLoopStats,
  formatPeerStats,
  formatRawStats,
  formatSysStats,
  parseLoopStats,
  parsePeerStats,
  statsTimeText,
  unixSecondsOfStatsTime,
} from "../../../src/core/stats/stats_lines.ts";
import { refidFromAscii } from "../../../src/core/packet/refid.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const MIDNIGHT_2026_12_07 = 1_796_601_600; // MJD 61381 (Python: date(2026,12,7) - date(1858,11,17))

Deno.test("the time fields are the MJD and seconds past UTC midnight to the millisecond", () => {
  assert.equal(statsTimeText(MIDNIGHT_2026_12_07), "61381 0.000");
  assert.equal(statsTimeText(MIDNIGHT_2026_12_07 + 3600.1234), "61381 3600.123");
  // Truncated, never rounded up to the next day's 86400.000.
  assert.equal(statsTimeText(MIDNIGHT_2026_12_07 - 0.0001), "61380 86399.999");
  assert.equal(statsTimeText(0), "40587 0.000");
  assert.equal(unixSecondsOfStatsTime(61381, 3600.5), MIDNIGHT_2026_12_07 + 3600.5);
});

Deno.test("loopstats and peerstats lines have NTPsec's fields and decimals", () => {
  assert.equal(
    formatLoopStats({
      unixSeconds: MIDNIGHT_2026_12_07 + 2860.926,
      offsetSeconds: 0.000079496,
      frequencyPpm: -21.201008,
      jitterSeconds: 0.0000104,
      wanderPpm: 0.012345,
      pollLog2: 6,
    }),
    "61381 2860.926 0.000079496 -21.201008 0.000010400 0.012345 6",
  );
  assert.equal(
    formatPeerStats({
      unixSeconds: MIDNIGHT_2026_12_07 + 2860.926,
      address: "2001:db8::1",
      statusWord: 0x961a,
      offsetSeconds: -0,
      delaySeconds: 0.000170574,
      dispersionSeconds: 0.000000024,
      jitterSeconds: 0.00000003,
    }),
    "61381 2860.926 2001:db8::1 961a -0.000000000 0.000170574 0.000000024 0.000000030",
  );
});

Deno.test("rawstats lines carry the four timestamps with nine decimals, the header and the outcount", () => {
  const line = formatRawStats({
    unixSeconds: MIDNIGHT_2026_12_07 + 1,
    sourceAddress: "192.0.2.1",
    destinationAddress: null,
    originate: { seconds: 4005590400, fraction: 0 },
    receive: { seconds: 4005590400, fraction: 2 ** 31 },
    // 0xffffffff / 2^32 s rounds to a whole second: carried into the seconds.
    transmit: { seconds: 4005590400, fraction: 0xffffffff },
    destination: { seconds: 4005590401, fraction: 1 },
    leap: 0,
    version: 4,
    mode: 4,
    stratum: 1,
    pollLog2: 6,
    precisionLog2: -20,
    rootDelaySeconds: 0,
    rootDispersionSeconds: 0.000015,
    referenceId: refidFromAscii("GPS"),
    lostRequests: 1,
    rejectedReplies: 0,
    flashBits: 0,
  });
  assert.equal(
    line,
    "61381 1.000 192.0.2.1 - 4005590400.000000000 4005590400.500000000 4005590401.000000000 " +
      "4005590401.000000000 0 4 4 1 6 -20 0.000000 0.000015 .GPS. 1 0 0",
  );
  const upstream = formatRawStats({
    unixSeconds: MIDNIGHT_2026_12_07,
    sourceAddress: "192.0.2.1",
    destinationAddress: "192.0.2.10",
    originate: { seconds: 1, fraction: 0 },
    receive: { seconds: 1, fraction: 0 },
    transmit: { seconds: 1, fraction: 0 },
    destination: { seconds: 1, fraction: 0 },
    leap: 0,
    version: 4,
    mode: 4,
    stratum: 2,
    pollLog2: 6,
    precisionLog2: -20,
    rootDelaySeconds: 0.001,
    rootDispersionSeconds: 0.002,
    referenceId: 0xc0000201,
    lostRequests: 3,
    rejectedReplies: 1,
    flashBits: 0x200,
  });
  assert.match(
    upstream,
    / 192\.0\.2\.10 .* 2 6 -20 0\.001000 0\.002000 192\.0\.2\.1 3 1 200$/,
  );
});

Deno.test("sysstats lines have NTPsec 1.2's fourteen fields", () => {
  const line = formatSysStats({
    unixSeconds: MIDNIGHT_2026_12_07 + 3600,
    periodSeconds: 3600.4,
    received: 10,
    processed: 9,
    currentVersion: 8,
    olderVersion: 1,
    restricted: 0,
    badFormat: 1,
    badAuthentication: 0,
    declined: 0,
    rateLimited: 2,
    kodSent: 1,
    version1Clients: 0,
  });
  assert.equal(line, "61381 3600.000 3600 10 9 8 1 0 1 0 0 2 1 0");
});

Deno.test("torn, blank and foreign lines are refused by the readers", () => {
  for (
    const line of [
      "",
      "61381 2860.926 0.000079496 -21.2010",
      "61381 2860.926 0.000079496 -21.201008 0.000010400 0.012345 6 extra",
      "# comment",
      "61381 2860.926 x 0.1 0.1 0.1 6",
    ]
  ) {
    assert.equal(parseLoopStats(line), null, line);
  }
  for (
    const line of [
      "",
      "61381 2860.926 127.0.0.1 b61a 0.000079479 0.000170574",
      "61381 2860.926 127.0.0.1 zz 0.000079479 0.000170574 0.000000024 0.000000030",
    ]
  ) {
    assert.equal(parsePeerStats(line), null, line);
  }
  // ntpd 4.2.x classic loopstats without jitter and wander.
  assert.deepEqual(parseLoopStats("50935 75440.031 0.000006019 13.778 6"), {
    unixSeconds: unixSecondsOfStatsTime(50935, 75440.031),
    offsetSeconds: 0.000006019,
    frequencyPpm: 13.778,
    jitterSeconds: 0,
    wanderPpm: 0,
    pollLog2: 6,
  });
});

Deno.test("loopstats and peerstats lines read back what was written (property)", () => {
  const small = fc.double({ min: -10, max: 10, noNaN: true });
  const positive = fc.double({ min: 0, max: 10, noNaN: true });
  const time = fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }).map((ms) => ms / 1000);
  fc.assert(
    fc.property(time, small, small, positive, positive, fc.integer({ min: 3, max: 17 }), (
      unixSeconds,
      offsetSeconds,
      frequencyPpm,
      jitterSeconds,
      wanderPpm,
      pollLog2,
    ) => {
      const record = {
        unixSeconds,
        offsetSeconds,
        frequencyPpm,
        jitterSeconds,
        wanderPpm,
        pollLog2,
      };
      const read = parseLoopStats(formatLoopStats(record));
      assert.ok(read !== null);
      assert.ok(Math.abs(read.unixSeconds - unixSeconds) < 0.0011);
      assert.ok(Math.abs(read.offsetSeconds - offsetSeconds) <= 5e-10);
      assert.ok(Math.abs(read.frequencyPpm - frequencyPpm) <= 5e-7);
      assert.equal(read.pollLog2, pollLog2);
    }),
    { seed: 0x5eed, numRuns: propertyRuns(500) },
  );
  fc.assert(
    fc.property(time, fc.ipV4(), fc.integer({ min: 0, max: 0xffff }), small, positive, (
      unixSeconds,
      address,
      statusWord,
      offsetSeconds,
      delaySeconds,
    ) => {
      const record = {
        unixSeconds,
        address,
        statusWord,
        offsetSeconds,
        delaySeconds,
        dispersionSeconds: delaySeconds / 2,
        jitterSeconds: delaySeconds / 3,
      };
      const read = parsePeerStats(formatPeerStats(record));
      assert.ok(read !== null);
      assert.equal(read.address, address);
      assert.equal(read.statusWord, statusWord);
      assert.ok(Math.abs(read.delaySeconds - delaySeconds) <= 5e-10);
    }),
    { seed: 0x5eed, numRuns: propertyRuns(500) },
  );
});

const capture = (name: string): Promise<string[]> =>
  Deno.readTextFile(new URL(`../../testdata/ntpsec_stats/${name}.20261207`, import.meta.url))
    .then((text) => text.split("\n").filter((line) => line !== ""));

Deno.test("NTPsec 1.2.2's own loopstats and peerstats lines read, and are written back byte for byte", async () => {
  const loop = await capture("loopstats");
  const peers = await capture("peerstats");
  assert.equal(loop.length, 20);
  assert.equal(peers.length, 66);
  for (const line of loop) {
    const record = parseLoopStats(line);
    assert.ok(record !== null, line);
    assert.equal(formatLoopStats(record), line);
  }
  for (const line of peers) {
    const record = parsePeerStats(line);
    assert.ok(record !== null, line);
    assert.equal(formatPeerStats(record), line);
  }
  assert.ok(peers.some((line) => line.includes(" fd13:7::1 ")), "an IPv6 upstream, bare");
});

Deno.test("our rawstats lines have the field layout of NTPsec 1.2.2's, field by field", async () => {
  const theirs = await capture("rawstats");
  const layout = (line: string): string =>
    line.split(" ").map((field) =>
      /^-?\d+\.\d{9}$/.test(field)
        ? "f9"
        : /^-?\d+\.\d{6}$/.test(field)
        ? "f6"
        : /^-?\d+\.\d{3}$/.test(field)
        ? "f3"
        : /^-?\d+$/.test(field)
        ? "int"
        : /^\..*\.$/.test(field)
        ? "refid"
        : /:|^\d+\.\d+\.\d+\.\d+$/.test(field)
        ? "address"
        : field
    ).join(" ");
  const ours = formatRawStats({
    unixSeconds: MIDNIGHT_2026_12_07 + 2659.807,
    sourceAddress: "fd13:7::1",
    destinationAddress: "fd13:7::2",
    originate: { seconds: 4005593059, fraction: 0x12345678 },
    receive: { seconds: 4005593059, fraction: 0x22345678 },
    transmit: { seconds: 4005593059, fraction: 0x32345678 },
    destination: { seconds: 4005593059, fraction: 0x42345678 },
    leap: 0,
    version: 4,
    mode: 4,
    stratum: 1,
    pollLog2: 0,
    precisionLog2: -26,
    rootDelaySeconds: 0,
    rootDispersionSeconds: 0,
    referenceId: 0x7f7f0101,
    lostRequests: 0,
    rejectedReplies: 0,
    flashBits: 0,
  });
  assert.equal(theirs.length, 40);
  for (const line of theirs) assert.equal(layout(ours), layout(line), line);
  // chronyd's local refid 0x7f7f0101: NTPsec writes its bytes as they are, between dots.
  assert.equal(ours.split(" ")[16], theirs[2]!.split(" ")[16]);
  assert.equal(theirs[2]!.split(" ")[16], ".\x7f\x7f\x01\x01.");
});
