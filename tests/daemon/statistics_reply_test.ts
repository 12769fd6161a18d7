// Upstream replies through the real time keeping into the statistics files: a lost request, a taken answer, a duplicate (one line for the first refusal only), peerstats per sample; a failing hook does not stop time keeping.
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/mod.ts";
import { startTimeKeeping, type TimeKeeping } from "../../src/daemon/time_keeping.ts";
import { Statistics } from "../../src/daemon/statistics.ts";
import { createSoftClock } from "../../src/io/clock_soft.ts";
import { ZERO_SERVER_COUNTERS } from "../../src/core/control/control_view.ts";
import { decodePeerStatus } from "../../src/core/control/status_words.ts";
import { parsePeerStats } from "../../src/core/stats/stats_lines.ts";
import { answer, fakeSockets, manualTime } from "./_time_keeping_fakes.ts";

const oneServer = parseConfigText("server 192.0.2.1 iburst\n", {
  fileName: "test.conf",
  format: "ntp.conf",
});
const SERVER = { hostname: "192.0.2.1", port: 123 };

Deno.test("rawstats and peerstats from real replies: lost request counted, a duplicate written once, samples as peerstats", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-stats-reply-" });
  const time = manualTime();
  const sockets = fakeSockets();
  const statistics = new Statistics({
    config: {
      statsDir: dir,
      statistics: ["rawstats", "peerstats"].map((kind) => ({
        kind: kind as "rawstats" | "peerstats",
        fileName: kind,
        generation: "none" as const,
        link: false,
      })),
    },
    nowUnixSeconds: () => Date.now() / 1000,
    uptimeSeconds: () => 0,
    counters: () => ZERO_SERVER_COUNTERS,
    time,
  });
  let timeKeeping: TimeKeeping | null = null;
  timeKeeping = await startTimeKeeping({
    config: oneServer,
    clock: createSoftClock(),
    precisionLog2: -20,
    onChange: () => {},
    time,
    openSocket: sockets.open,
    onReply: (reply) => statistics.reply(reply, () => timeKeeping?.view() ?? null),
  });
  try {
    const sent = () => sockets.sent.map((s) => s.data);
    time.runDue(1);
    time.runDue(2);
    assert.equal(sent().length, 2, "two iburst requests out");
    // The first request is lost; the second is answered and taken.
    const taken = answer(sent()[1]!, 1);
    sockets.deliver(4, SERVER, taken);
    // The same answer again: a duplicate, refused; then again: not written a second time.
    sockets.deliver(4, SERVER, taken);
    sockets.deliver(4, SERVER, taken);
    await statistics.flush();
    const raw = (await Deno.readTextFile(`${dir}/rawstats`)).trim().split("\n");
    assert.equal(raw.length, 2, raw.join("\n"));
    const tail = (line: string) => line.split(" ").slice(-3);
    assert.deepEqual(tail(raw[0]!), ["1", "0", "0"], "1 lost request, nothing refused");
    const [lost, refused, flash] = tail(raw[1]!);
    assert.deepEqual([lost, refused], ["0", "1"], "the duplicate: refused once");
    assert.notEqual(flash, "0", "a refused reply carries its flash bits");
    assert.equal(raw[0]!.split(" ")[2], "192.0.2.1");
    const peers = (await Deno.readTextFile(`${dir}/peerstats`)).trim().split("\n");
    assert.equal(peers.length, 1, "one sample");
    const peer = parsePeerStats(peers[0]!);
    assert.ok(peer !== null && peer.address === "192.0.2.1");
    const status = decodePeerStatus(peer.statusWord);
    assert.ok(status.configured && status.reachable);
  } finally {
    await timeKeeping.close();
    await statistics.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a statistics hook that throws is logged and time keeping goes on taking answers", async () => {
  const time = manualTime();
  const sockets = fakeSockets();
  let calls = 0;
  const timeKeeping = await startTimeKeeping({
    config: oneServer,
    clock: createSoftClock(),
    precisionLog2: -20,
    onChange: () => {},
    time,
    openSocket: sockets.open,
    onReply: () => {
      calls++;
      throw new Error("disk on fire");
    },
  });
  try {
    const lastAnswer = () => JSON.stringify(timeKeeping.view().associations[0]!.transmitTime);
    time.runDue(1);
    const none = lastAnswer();
    sockets.deliver(4, SERVER, answer(sockets.sent[0]!.data, 1));
    const first = lastAnswer();
    assert.notEqual(first, none, "the first answer was taken in");
    time.runDue(2);
    sockets.deliver(4, SERVER, answer(sockets.sent[1]!.data, 2));
    assert.notEqual(lastAnswer(), first, "the second answer was taken in after the hook threw");
    assert.equal(calls, 2);
  } finally {
    await timeKeeping.close();
  }
});
