// planReload(): what a SIGHUP applies in place and which changed keys wait for a restart.
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/mod.ts";
import { planReload } from "../../src/config/reload_plan.ts";

const parse = (text: string) => parseConfigText(text, { fileName: "t.conf", format: "ntp.conf" });

Deno.test("planReload: the same file changes nothing", () => {
  const text = "server 192.0.2.1 iburst\npool pool.ntp.org\nrestrict default kod limited\n";
  const plan = planReload(parse(text), parse(text));
  assert.deepEqual(plan, {
    upstreamsAdded: [],
    upstreamsRemoved: [],
    restrictChanged: false,
    rateLimitChanged: false,
    statisticsChanged: false,
    logLevel: null,
    needsRestart: [],
  });
});

Deno.test("planReload: statsdir, statistics and filegen apply in place", () => {
  const base = "statsdir /var/log/ntpstats\nstatistics loopstats\n";
  for (
    const next of [
      "statsdir /var/log/other\nstatistics loopstats\n",
      "statsdir /var/log/ntpstats\nstatistics loopstats peerstats\n",
      base + "filegen loopstats type week\n",
      base + "filegen loopstats disable\n",
    ]
  ) {
    const plan = planReload(parse(base), parse(next));
    assert.equal(plan.statisticsChanged, true, next);
    assert.deepEqual(plan.needsRestart, [], next);
  }
  assert.equal(
    planReload(parse(base), parse(base + "filegen loopstats type day\n")).statisticsChanged,
    false,
  );
});

Deno.test("planReload: an upstream whose options changed is removed and added; others are kept", () => {
  const plan = planReload(
    parse("server 192.0.2.1 iburst\nserver 192.0.2.2\npool pool.ntp.org\n"),
    parse("server 192.0.2.1 iburst\nserver 192.0.2.2 prefer\nserver 192.0.2.3\n"),
  );
  assert.deepEqual(
    plan.upstreamsAdded.map((e) => [e.upstream.host, e.pool, e.upstream.prefer]),
    [["192.0.2.2", false, true], ["192.0.2.3", false, false]],
  );
  assert.deepEqual(
    plan.upstreamsRemoved.map((e) => [e.upstream.host, e.pool]),
    [["192.0.2.2", false], ["pool.ntp.org", true]],
  );
  assert.deepEqual(plan.needsRestart, []);
});

Deno.test("planReload: restrict rules, rate limits and the log level apply in place", () => {
  const plan = planReload(
    parse("restrict default kod limited\ndiscard average 3\n"),
    parse(
      "restrict default kod limited\nrestrict 192.0.2.0 mask 255.255.255.0 ignore\ndiscard average 5\n",
    ),
  );
  assert.equal(plan.restrictChanged, true);
  assert.equal(plan.rateLimitChanged, true);
  assert.deepEqual(plan.needsRestart, []);
});

Deno.test("planReload: listen, driftfile, tos, the table size and the metrics address wait for a restart", () => {
  const toml = (text: string) => parseConfigText(text, { fileName: "t.toml" });
  const plan = planReload(
    toml('driftfile = "/var/lib/ntp/ntp.drift"\n[tos]\nminsane = 1\n[discard]\nmonitor = 1000\n'),
    toml(
      'driftfile = "/var/lib/ntp/other.drift"\nlisten = ["127.0.0.1:123"]\n[tos]\nminsane = 2\n' +
        '[discard]\nmonitor = 2000\n[metrics]\nlisten = "127.0.0.1:9100"\n',
    ),
  );
  assert.deepEqual(plan.needsRestart, ["listen", "driftfile", "tos", "discard.monitor", "metrics"]);
  assert.equal(plan.rateLimitChanged, false, "the table size alone is not a rate limit change");
});
