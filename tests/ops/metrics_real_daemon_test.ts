// Acceptance of the metrics endpoint against the REAL daemon: ntp serve synchronised to chronyd on loopback serves /metrics that promtool accepts, with the values `ntp status --json` shows.
import assert from "node:assert/strict";
import { collectStatus, renderStatusJson } from "../../src/cli/status_command.ts";
import { startChronydServer } from "../support/chronyd_server.ts";
import { runNtpServeToExit, startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { delay } from "../support/processes.ts";
import { assertPromtoolAccepts, parseExposition, sampleValue } from "./_metrics.ts";

interface StatusJson {
  synchronised: boolean;
  system: {
    stratum: number;
    offsetSeconds: number;
    frequencyPpm: number;
    pollSeconds: number;
    rootDelaySeconds: number;
  };
  peers: {
    remote: string;
    tally: string;
    stratum: number;
    reach: number;
    pollSeconds: number;
    offsetSeconds: number;
    delaySeconds: number;
    jitterSeconds: number;
  }[];
  traffic: {
    receivedPackets: number;
    servedPackets: number;
    controlRequests: number;
    uptimeSeconds: number;
  };
}

async function statusJson(port: number): Promise<StatusJson> {
  const snapshot = await collectStatus({ host: "127.0.0.1", port }, { timeoutSeconds: 2 });
  return renderStatusJson(snapshot) as unknown as StatusJson;
}

function serveConfig(upstreamPort: number, metricsListen: string): string {
  return [
    "# metrics_real_daemon_test: one loopback upstream polled every 16 s, metrics on loopback",
    "[[server]]",
    `address = "127.0.0.1:${upstreamPort}"`,
    "iburst = true",
    "minpoll = 4",
    "maxpoll = 4",
    "",
    "[metrics]",
    `listen = "${metricsListen}"`,
    "",
  ].join("\n");
}

Deno.test("ntp serve synchronised to chronyd serves /metrics that promtool accepts, carrying the values ntp status --json shows", async (t) => {
  const upstreamPort = await freeUdpPort();
  const ntpPort = await freeUdpPort();
  await using chronyd = await startChronydServer({
    port: upstreamPort,
    bindAddresses: ["127.0.0.1"],
    localStratum: 2,
  });
  await using server = await startNtpServer({
    config: serveConfig(upstreamPort, "127.0.0.1:0"),
    configFormat: "toml",
    listen: [`127.0.0.1:${ntpPort}`],
  });
  const context = () => `${server.describe()}\n--- chronyd ---\n${chronyd.describe()}`;

  let url = "";
  await t.step("the daemon logs the URL of its metrics endpoint", async () => {
    for (let i = 0; i < 50 && url === ""; i++) {
      url = /Prometheus metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(server.stderr)?.[1] ??
        "";
      if (url === "") await delay(100);
    }
    assert.notEqual(url, "", context());
  });

  await t.step("it synchronises to the upstream (ntp status --json: synchronised, *)", async () => {
    const deadline = performance.now() + 30_000;
    let last: StatusJson | null = null;
    while (performance.now() < deadline) {
      last = await statusJson(ntpPort);
      if (last.synchronised && last.peers[0]?.tally === "*") break;
      await delay(500);
    }
    assert.ok(
      last?.synchronised && last.peers[0]?.tally === "*",
      `${JSON.stringify(last)}\n${context()}`,
    );
  });

  await t.step("promtool check metrics accepts the scrape", async () => {
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    console.log(text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).join("\n"));
    await assertPromtoolAccepts(text);
  });

  await t.step("the scrape carries the values ntp status --json shows around it", async () => {
    // A poll between the two status reads changes reach and the samples: read again then.
    // Offsets move continuously while the soft clock slews, and counters with every request,
    // so those must lie between the two reads (within the 1 ns of mode 6's ms with 6 decimals).
    for (let attempt = 0;; attempt++) {
      const before = await statusJson(ntpPort);
      const metrics = parseExposition(await (await fetch(url)).text());
      const after = await statusJson(ntpPort);
      const steady = (s: StatusJson) =>
        JSON.stringify([
          s.synchronised,
          s.system.stratum,
          s.system.pollSeconds,
          s.peers.map((p) => [p.tally, p.stratum, p.reach, p.pollSeconds, p.delaySeconds]),
        ]);
      if (steady(before) !== steady(after) && attempt < 4) continue;
      assert.equal(steady(before), steady(after), "a poll happened between every pair of reads");
      const value = (name: string, labels: Record<string, string> = {}) =>
        sampleValue(metrics, name, labels);
      const between = (what: string, actual: number, a: number, b: number, tolerance = 0) =>
        assert.ok(
          Math.min(a, b) - tolerance <= actual && actual <= Math.max(a, b) + tolerance,
          `${what}: metrics ${actual}, status ${a} before and ${b} after`,
        );
      assert.equal(value("ntp_system_synchronised"), 1);
      assert.equal(value("ntp_system_stratum"), before.system.stratum);
      assert.equal(value("ntp_system_stratum"), 3);
      assert.equal(value("ntp_system_poll_seconds"), before.system.pollSeconds);
      between(
        "offset",
        value("ntp_system_offset_seconds"),
        before.system.offsetSeconds,
        after.system.offsetSeconds,
        1e-9,
      );
      between(
        "frequency",
        value("ntp_system_frequency_ppm"),
        before.system.frequencyPpm,
        after.system.frequencyPpm,
        1e-6,
      );
      between(
        "root delay",
        value("ntp_system_root_delay_seconds"),
        before.system.rootDelaySeconds,
        after.system.rootDelaySeconds,
        1e-6,
      );
      const [p1, p2] = [before.peers[0]!, after.peers[0]!];
      const labels = { address: "127.0.0.1", port: String(upstreamPort), name: "127.0.0.1" };
      assert.equal(value("ntp_peer_system_peer", labels), 1);
      assert.equal(value("ntp_peer_stratum", labels), p1.stratum);
      assert.equal(value("ntp_peer_stratum", labels), 2);
      assert.equal(value("ntp_peer_reach", labels), p1.reach);
      assert.equal(value("ntp_peer_poll_seconds", labels), p1.pollSeconds);
      between(
        "peer offset",
        value("ntp_peer_offset_seconds", labels),
        p1.offsetSeconds,
        p2.offsetSeconds,
        1e-9,
      );
      between(
        "peer delay",
        value("ntp_peer_delay_seconds", labels),
        p1.delaySeconds,
        p2.delaySeconds,
        1e-9,
      );
      between(
        "peer jitter",
        value("ntp_peer_jitter_seconds", labels),
        p1.jitterSeconds,
        p2.jitterSeconds,
        1e-9,
      );
      const { traffic: t1 } = before;
      const { traffic: t2 } = after;
      between(
        "received",
        value("ntp_server_received_packets_total"),
        t1.receivedPackets,
        t2.receivedPackets,
      );
      between(
        "served",
        value("ntp_server_packets_total", { outcome: "served" }),
        t1.servedPackets,
        t2.servedPackets,
      );
      between(
        "control",
        value("ntp_server_packets_total", { outcome: "control" }),
        t1.controlRequests,
        t2.controlRequests,
      );
      assert.ok(t2.controlRequests > t1.controlRequests, "our own mode 6 reads are counted");
      between(
        "uptime",
        Math.floor(value("ntp_uptime_seconds")),
        t1.uptimeSeconds,
        t2.uptimeSeconds,
      );
      break;
    }
  });

  await t.step(
    "a second daemon asked for the same metrics port refuses to start and says why",
    async () => {
      const port = Number(new URL(url).port);
      const result = await runNtpServeToExit({
        config: serveConfig(upstreamPort, `127.0.0.1:${port}`),
        configFormat: "toml",
        listen: [`127.0.0.1:${await freeUdpPort()}`],
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: the address is in use`),
      );
    },
  );
});
