// The Prometheus exposition: families from a ControlView, the 0.0.4 text (checked by promtool), and the same values `ntp status --json` reads over mode 6.
import assert from "node:assert/strict";
import fc from "fast-check";
import { collectStatus, renderStatusJson } from "../../src/cli/status_command.ts";
import { type ServerCounters, ZERO_SERVER_COUNTERS } from "../../src/core/control/control_view.ts";
import { renderExposition } from "../../src/core/metrics/exposition.ts";
import { metricFamiliesOf, type MetricFamily } from "../../src/core/metrics/metric_families.ts";
import { FIXED_NOW_UNIX_SECONDS, startInProcessControlServer } from "../cli/_control_server.ts";
import { fakeControlView } from "../support/fake_control_views.ts";
import { assertPromtoolAccepts, parseExposition, sampleValue } from "./_metrics.ts";

const counters: ServerCounters = {
  ...ZERO_SERVER_COUNTERS,
  receivedPackets: 1_234_567,
  servedPackets: 1_230_001,
  kodSentPackets: 17,
  rateLimitedPackets: 4_321,
  restrictedPackets: 12,
  badFormatPackets: 3,
  declinedPackets: 2,
  controlRequests: 211,
  currentVersionPackets: 1_234_000,
  olderVersionPackets: 339,
  version1ClientPackets: 2,
};
const syncedView = fakeControlView("synced", {
  nowUnixSeconds: FIXED_NOW_UNIX_SECONDS,
  uptimeSeconds: 86_461,
  counters,
});

function family(families: readonly MetricFamily[], name: string): MetricFamily {
  const found = families.find((f) => f.name === name);
  assert.ok(found, `family ${name}`);
  return found;
}

Deno.test("metricFamiliesOf() carries the system, the server counters and one sample per upstream", () => {
  const families = metricFamiliesOf(syncedView);
  assert.equal(family(families, "ntp_system_stratum").samples[0]!.value, 2);
  assert.equal(family(families, "ntp_system_synchronised").samples[0]!.value, 1);
  assert.equal(family(families, "ntp_system_offset_seconds").samples[0]!.value, 0.00668);
  assert.equal(family(families, "ntp_system_frequency_ppm").samples[0]!.value, -12.345678);
  assert.equal(family(families, "ntp_system_poll_seconds").samples[0]!.value, 1024);
  assert.equal(family(families, "ntp_uptime_seconds").samples[0]!.value, 86_461);
  const outcomes = family(families, "ntp_server_packets_total").samples;
  assert.deepEqual(
    outcomes.map((s) => [s.labels.outcome, s.value]),
    [
      ["served", 1_230_001],
      ["kod", 17],
      ["control", 211],
      ["rate_limited", 4_321],
      ["restricted", 12],
      ["bad_format", 3],
      ["bad_auth", 0],
      ["declined", 2],
    ],
  );
  assert.deepEqual(
    family(families, "ntp_server_time_requests_total").samples
      .map((s) => [s.labels.version, s.value]),
    [["current", 1_234_000], ["older", 339]],
  );
  const offsets = family(families, "ntp_peer_offset_seconds").samples;
  assert.deepEqual(offsets.map((s) => s.labels), [
    { address: "66.220.9.122", port: "123", name: "66.220.9.122" },
    { address: "216.218.254.202", port: "123", name: "clock.sjc.he.net" },
    { address: "204.123.2.72", port: "123", name: "204.123.2.72" },
  ]);
  assert.deepEqual(offsets.map((s) => s.value), [0.00668, 0.005663, -0.002753]);
  assert.deepEqual(
    family(families, "ntp_peer_system_peer").samples.map((s) => s.value),
    [1, 0, 0],
  );
  const unsynced = metricFamiliesOf(fakeControlView("unsynced", { nowUnixSeconds: 0 }));
  assert.equal(family(unsynced, "ntp_system_synchronised").samples[0]!.value, 0);
  assert.equal(family(unsynced, "ntp_system_stratum").samples[0]!.value, 16);
});

Deno.test("the packet outcomes partition the received packets whatever the counters", () => {
  const count = fc.integer({ min: 0, max: 2 ** 40 });
  fc.assert(fc.property(
    fc.record({
      servedPackets: count,
      kodSentPackets: count,
      rateLimitedPackets: count,
      restrictedPackets: count,
      badFormatPackets: count,
      badAuthPackets: count,
      declinedPackets: count,
      controlRequests: count,
    }),
    fc.record({
      currentVersionPackets: count,
      olderVersionPackets: count,
      version1ClientPackets: count,
      // NTS figures overlap the outcomes (served, kod, bad_format, bad_auth) too.
      ntsServedPackets: count,
      ntsNakPackets: count,
      ntsBadPackets: count,
      ntsCookiesMade: count,
      ntsKeGood: count,
      ntsKeBad: count,
    }),
    (parts, versions) => {
      const received = Object.values(parts).reduce((a, b) => a + b, 0);
      // The version counters overlap the outcomes: they must not enter the partition.
      const view = fakeControlView("empty", {
        nowUnixSeconds: 0,
        counters: { ...ZERO_SERVER_COUNTERS, ...parts, ...versions, receivedPackets: received },
      });
      const families = metricFamiliesOf(view);
      const sum = family(families, "ntp_server_packets_total").samples
        .reduce((total, s) => total + s.value, 0);
      assert.equal(sum, family(families, "ntp_server_received_packets_total").samples[0]!.value);
    },
  ));
});

Deno.test("renderExposition() writes the 0.0.4 text that promtool check metrics accepts", async () => {
  const text = await renderExposition(metricFamiliesOf(syncedView));
  assert.match(
    text,
    /^# HELP ntp_build_info .+\n# TYPE ntp_build_info gauge\nntp_build_info\{version="ntp 0\.1\.0"\} 1\n/,
  );
  assert.match(text, /^# TYPE ntp_server_packets_total counter$/m);
  assert.match(text, /^ntp_server_packets_total\{outcome="kod"\} 17$/m);
  assert.match(
    text,
    /^ntp_peer_offset_seconds\{address="216\.218\.254\.202",port="123",name="clock\.sjc\.he\.net"\} 0\.005663$/m,
  );
  assert.ok(text.endsWith("\n"));
  await assertPromtoolAccepts(text);
  // No upstreams: the peer families keep their HELP and TYPE lines and have no samples.
  const empty = await renderExposition(
    metricFamiliesOf(fakeControlView("empty", { nowUnixSeconds: 0 })),
  );
  assert.doesNotMatch(empty, /^ntp_peer_offset_seconds/m);
  await assertPromtoolAccepts(empty);
});

Deno.test("renderExposition() escapes label values and refuses invalid names", async () => {
  const text = await renderExposition([{
    name: "ntp_peer_offset_seconds",
    help: "help with a \\ backslash\nand a newline",
    type: "gauge",
    labelNames: ["address", "port", "name"],
    samples: [{ labels: { address: "::1", port: "123", name: 'odd "name"\\x' }, value: -1e-7 }],
  }]);
  assert.match(
    text,
    /^# HELP ntp_peer_offset_seconds help with a \\\\ backslash\\nand a newline$/m,
  );
  assert.match(
    text,
    /^ntp_peer_offset_seconds\{address="::1",port="123",name="odd \\"name\\"\\\\x"\} -1e-7$/m,
  );
  await assertPromtoolAccepts(text);
  await assert.rejects(
    renderExposition([{ name: "bad-name", help: "x", type: "gauge", labelNames: [], samples: [] }]),
  );
});

Deno.test("the metrics carry the values `ntp status --json` reads over mode 6 from the same view", async () => {
  await using server = await startInProcessControlServer("synced", { view: syncedView });
  const status = renderStatusJson(
    await collectStatus({ host: "127.0.0.1", port: server.port }, { timeoutSeconds: 2 }),
  ) as {
    synchronised: boolean;
    system: Record<string, number | null>;
    peers: Record<string, number | string | null>[];
    traffic: Record<string, number>;
  };
  const metrics = parseExposition(await renderExposition(metricFamiliesOf(syncedView)));
  const value = (name: string, labels: Record<string, string> = {}) =>
    sampleValue(metrics, name, labels);
  // Mode 6 sends ms with 6 decimals (1 ns), root delay/dispersion with 3 (1 us), ppm with 6.
  const near = (
    actual: number,
    expected: number | null | undefined,
    tolerance: number,
    what: string,
  ) =>
    assert.ok(
      typeof expected === "number" && Math.abs(actual - expected) <= tolerance,
      `${what}: metrics ${actual}, status ${expected}`,
    );
  assert.equal(value("ntp_system_synchronised"), status.synchronised ? 1 : 0);
  assert.equal(value("ntp_system_stratum"), status.system.stratum);
  assert.equal(value("ntp_system_poll_seconds"), status.system.pollSeconds);
  near(value("ntp_system_offset_seconds"), status.system.offsetSeconds, 1e-9, "offset");
  near(value("ntp_system_frequency_ppm"), status.system.frequencyPpm, 1e-6, "frequency");
  near(value("ntp_system_root_delay_seconds"), status.system.rootDelaySeconds, 1e-6, "root delay");
  near(
    value("ntp_system_root_dispersion_seconds"),
    status.system.rootDispersionSeconds,
    1e-6,
    "root dispersion",
  );
  assert.equal(status.peers.length, 3);
  for (const peer of status.peers) {
    const labels = { address: String(peer.remote), port: "123" };
    assert.equal(value("ntp_peer_stratum", labels), peer.stratum, `${peer.remote} stratum`);
    assert.equal(value("ntp_peer_reach", labels), peer.reach, `${peer.remote} reach`);
    assert.equal(value("ntp_peer_poll_seconds", labels), peer.pollSeconds, `${peer.remote} poll`);
    assert.equal(value("ntp_peer_selection", labels), peer.selection, `${peer.remote} selection`);
    near(value("ntp_peer_offset_seconds", labels), peer.offsetSeconds as number, 1e-9, "offset");
    near(value("ntp_peer_delay_seconds", labels), peer.delaySeconds as number, 1e-9, "delay");
    near(value("ntp_peer_jitter_seconds", labels), peer.jitterSeconds as number, 1e-9, "jitter");
  }
  const traffic = status.traffic;
  assert.equal(value("ntp_server_received_packets_total"), traffic.receivedPackets);
  assert.equal(value("ntp_server_packets_total", { outcome: "served" }), traffic.servedPackets);
  assert.equal(value("ntp_server_packets_total", { outcome: "kod" }), traffic.kodSentPackets);
  assert.equal(value("ntp_server_packets_total", { outcome: "control" }), traffic.controlRequests);
  assert.equal(
    value("ntp_server_time_requests_total", { version: "current" }),
    traffic.currentVersionPackets,
  );
  assert.equal(
    value("ntp_server_time_requests_total", { version: "older" }),
    traffic.olderVersionPackets,
  );
  assert.equal(
    ["rate_limited", "restricted", "bad_format", "declined"]
      .reduce((sum, outcome) => sum + value("ntp_server_packets_total", { outcome }), 0),
    traffic.droppedPackets,
  );
  assert.equal(Math.floor(value("ntp_uptime_seconds")), traffic.uptimeSeconds);
});

Deno.test("NTS upstreams get their own families (ready, cookies, authenticated, dropped, NAKs, key exchanges), plain ones none; the peer status word says auth enabled and authentic", async () => {
  const { peerStatusWord, decodePeerStatus } = await import(
    "../../src/core/control/status_words.ts"
  );
  const [first, second, ...rest] = syncedView.peers;
  const nts = {
    phase: "ready",
    cookies: 7,
    keServer: "127.0.0.1:4460",
    problem: "",
    requests: 50,
    authenticated: 42,
    dropped: 3,
    naks: 1,
    keyExchanges: 2,
    keyExchangesGood: 2,
    keyExchangeFailures: 0,
  };
  const failed = { ...nts, phase: "failed", cookies: 0, authenticated: 0, problem: "refused" };
  const view = {
    ...syncedView,
    peers: [{ ...first!, nts }, { ...second!, nts: failed }, ...rest],
  };
  const families = metricFamiliesOf(view);
  const ready = family(families, "ntp_peer_nts_ready").samples;
  assert.deepEqual(ready.map((s) => s.value), [1, 0], "one sample per NTS upstream only");
  assert.equal(family(families, "ntp_peer_nts_cookies").samples[0]!.value, 7);
  assert.equal(family(families, "ntp_peer_nts_authenticated_total").type, "counter");
  assert.equal(family(families, "ntp_peer_nts_authenticated_total").samples[0]!.value, 42);
  assert.equal(family(families, "ntp_peer_nts_dropped_total").samples[0]!.value, 3);
  assert.equal(family(families, "ntp_peer_nts_naks_total").samples[0]!.value, 1);
  assert.equal(family(families, "ntp_peer_nts_key_exchanges_total").samples[0]!.value, 2);
  assert.equal(family(families, "ntp_peer_nts_key_exchange_failures_total").samples[1]!.value, 0);
  assert.equal(metricFamiliesOf(syncedView).some((f) => f.name.startsWith("ntp_peer_nts_")), false);
  await assertPromtoolAccepts(await renderExposition(families));
  const good = decodePeerStatus(peerStatusWord(view.peers[0]!));
  assert.equal(good.authEnabled, true);
  assert.equal(good.authentic, true);
  const bad = decodePeerStatus(peerStatusWord(view.peers[1]!));
  assert.equal(bad.authEnabled, true);
  assert.equal(bad.authentic, false, "ntpq shows auth 'bad'");
  const plain = decodePeerStatus(peerStatusWord(view.peers[2]!));
  assert.equal(plain.authEnabled, false);
});

Deno.test("ntpsec's NTS client variables sum the NTS upstreams' counters (ntpq -c nts)", async () => {
  const { systemVariables } = await import("../../src/core/control/system_variable_list.ts");
  const [first, second, ...rest] = syncedView.peers;
  const counters = (requests: number, good: number, bad: number) => ({
    phase: "ready",
    cookies: 8,
    keServer: "127.0.0.1:4460",
    problem: "",
    requests,
    authenticated: good,
    dropped: bad,
    naks: 1,
    keyExchanges: 3,
    keyExchangesGood: 2,
    keyExchangeFailures: 1,
  });
  const view = {
    ...syncedView,
    peers: [
      { ...first!, nts: counters(10, 8, 2) },
      { ...second!, nts: counters(5, 4, 0) },
      ...rest,
    ],
  };
  const value = (name: string) =>
    systemVariables.find((d) => d.name === name)!.value({
      subject: view.system,
      view,
      now: { seconds: 0, fraction: 0 },
    });
  assert.equal(value("nts_client_send"), "15");
  assert.equal(value("nts_client_recv_good"), "12");
  assert.equal(value("nts_client_recv_bad"), "4", "dropped plus NAKs");
  assert.equal(value("nts_ke_probes_good"), "4");
  assert.equal(value("nts_ke_probes_bad"), "2");
});

Deno.test("with a leap-seconds file the metrics carry TAI-UTC and its expiry; without one, neither", async () => {
  const view = {
    ...syncedView,
    system: {
      ...syncedView.system,
      leapFile: {
        taiOffsetSeconds: 37,
        lastLeapUnixSeconds: Date.UTC(2017, 0, 1) / 1000,
        expiresUnixSeconds: Date.UTC(2026, 5, 28) / 1000,
      },
    },
  };
  const families = metricFamiliesOf(view);
  assert.equal(family(families, "ntp_leapfile_tai_offset_seconds").samples[0]!.value, 37);
  assert.equal(
    family(families, "ntp_leapfile_expiry_timestamp_seconds").samples[0]!.value,
    Date.UTC(2026, 5, 28) / 1000,
  );
  await assertPromtoolAccepts(await renderExposition(families));
  assert.equal(metricFamiliesOf(syncedView).some((f) => f.name.startsWith("ntp_leapfile")), false);
});
