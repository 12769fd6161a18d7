// The daemon's statistics files: hourly sysstats lines of counter growth (ntpd resets its counters), sets opened and closed on reload, nothing opened when none is enabled.
import assert from "node:assert/strict";
import { Statistics } from "../../src/daemon/statistics.ts";
import { type ServerCounters, ZERO_SERVER_COUNTERS } from "../../src/core/control/control_view.ts";
import type { StatsFileConfig } from "../../src/config/ntp_config.ts";
import { manualTime } from "./_time_keeping_fakes.ts";

const MIDNIGHT = 1_796_601_600; // 2026-12-07T00:00:00Z
const set = (kind: StatsFileConfig["kind"]): StatsFileConfig => ({
  kind,
  fileName: kind,
  generation: "day",
  link: true,
});

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-daemon-stats-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sysstats: one line per interval with what the counters grew by, and NTPsec's fourteen fields", async () => {
  await withDir(async (dir) => {
    const time = manualTime();
    let counters: ServerCounters = { ...ZERO_SERVER_COUNTERS, receivedPackets: 100 };
    let unixSeconds = MIDNIGHT + 60;
    const statistics = new Statistics({
      config: { statsDir: dir, statistics: [set("sysstats")] },
      nowUnixSeconds: () => unixSeconds,
      uptimeSeconds: () => 0,
      counters: () => counters,
      time,
    });
    assert.ok(statistics.writes("sysstats"));
    counters = {
      ...counters,
      receivedPackets: 1100,
      servedPackets: 900,
      controlRequests: 5,
      currentVersionPackets: 850,
      olderVersionPackets: 50,
      version1ClientPackets: 2,
      rateLimitedPackets: 80,
      kodSentPackets: 7,
      restrictedPackets: 10,
      badFormatPackets: 3,
    };
    unixSeconds = MIDNIGHT + 3660;
    time.runDue(3600);
    counters = { ...counters, receivedPackets: 1200, servedPackets: 990 };
    unixSeconds = MIDNIGHT + 7260;
    time.runDue(3600);
    await statistics.close();
    assert.equal(time.pending(), 0, "the timer stops with close()");
    assert.deepEqual((await Deno.readTextFile(`${dir}/sysstats`)).split("\n"), [
      "61381 3660.000 3600 1000 905 850 50 10 3 0 0 80 7 2",
      "61381 7260.000 3600 100 90 0 0 0 0 0 0 0 0 0",
      "",
    ]);
  });
});

Deno.test("reconfigure: a new directory takes the lines; the old set is closed; none enabled opens nothing", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    const time = manualTime();
    const statistics = new Statistics({
      config: { statsDir: `${dir}/a`, statistics: [set("sysstats")] },
      nowUnixSeconds: () => MIDNIGHT,
      uptimeSeconds: () => 0,
      counters: () => ZERO_SERVER_COUNTERS,
      time,
    });
    statistics.reconfigure({ statsDir: `${dir}/b`, statistics: [set("sysstats")] });
    assert.equal(time.pending(), 1, "one sysstats timer, not two");
    time.runDue(3600);
    await statistics.flush();
    assert.equal((await Deno.readTextFile(`${dir}/b/sysstats`)).split("\n").length, 2);
    await assert.rejects(Deno.stat(`${dir}/a/sysstats`), Deno.errors.NotFound);
    statistics.reconfigure({ statsDir: `${dir}/b`, statistics: [] });
    assert.equal(statistics.writes("sysstats"), false);
    assert.equal(time.pending(), 0);
    await statistics.close();
    const idle = new Statistics({
      config: { statsDir: `${dir}/a`, statistics: [set("clockstats")] },
      nowUnixSeconds: () => MIDNIGHT,
      uptimeSeconds: () => 0,
      counters: () => ZERO_SERVER_COUNTERS,
      time,
    });
    assert.equal(idle.writes("clockstats"), false, "no reference clocks: nothing to write");
    await idle.close();
    assert.deepEqual([...Deno.readDirSync(`${dir}/a`)], []);
  });
});
