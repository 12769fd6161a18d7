// Real ntpq (ntpsec 1.2.2) `sysstats` against our control server after known time requests: "current version" and "older version" count them by version.
import assert from "node:assert/strict";
import { runNtpq, startControlFixture } from "../support/control_clients.ts";
import { freeUdpPort } from "../support/ports.ts";
import { clientRequest, exchange } from "../support/udp_probe.ts";

/** The since-start and since-reset counts of one `ntpq -c sysstats` line, or null if it is missing. */
function sysstatsCounts(stdout: string, legend: string): [number, number] | null {
  const line = stdout.split("\n").find((l) => l.startsWith(`${legend}:`));
  const match = line === undefined ? null : /^[^:]+:\s+(\d+)\s+(\d+)/.exec(line);
  return match === null ? null : [Number(match[1]), Number(match[2])];
}

Deno.test("real ntpq sysstats shows time requests by version: current (4) and older (1..3)", async () => {
  const port = await freeUdpPort();
  await using fixture = await startControlFixture({
    listen: [`127.0.0.1:${port}`],
    view: "synced",
  });
  const target = { host: "127.0.0.1", port };

  // 3 requests of version 4 and 4 of versions 1..3, each answered.
  for (const version of [4, 4, 4, 3, 3, 2, 1]) {
    const replies = await exchange(target, clientRequest({ version }), { waitMs: 500 });
    assert.equal(replies.length, 1, `no reply to version ${version}\n${fixture.describe()}`);
    assert.equal(((replies[0]![0] as number) >> 3) & 7, version);
  }
  // Not counted by version: a mode 4 packet, a version 5 request and a runt (all dropped).
  const mode4 = clientRequest();
  mode4[0] = (4 << 3) | 4;
  const version5 = clientRequest();
  version5[0] = (5 << 3) | 3;
  for (const junk of [mode4, version5, clientRequest().subarray(0, 47)]) {
    assert.deepEqual(await exchange(target, junk, { waitMs: 200 }), []);
  }

  const result = await runNtpq(target, ["sysstats"]);
  const output = `${result.stdout}\n${result.stderr}`;
  // ntpq's own mode 6 requests are not time requests: they are in no version count.
  assert.deepEqual(sysstatsCounts(result.stdout, "current version"), [3, 3], output);
  assert.deepEqual(sysstatsCounts(result.stdout, "older version"), [4, 4], output);
  assert.deepEqual(sysstatsCounts(result.stdout, "processed for time"), [7, 7], output);
  assert.deepEqual(sysstatsCounts(result.stdout, "bad length or format"), [3, 3], output);
  assert.deepEqual(sysstatsCounts(result.stdout, "NTPv1 total"), [1, 1], output);
  assert.deepEqual(sysstatsCounts(result.stdout, "NTPv1 clients"), [1, 1], output);
  assert.deepEqual(sysstatsCounts(result.stdout, "NTPv1 mode0"), [0, 0], output);
  assert.deepEqual(sysstatsCounts(result.stdout, "NTPv1 symm act"), [0, 0], output);
  // Every variable ntpq asks for is known: no "Unknown variable" retry one at a time, no ???.
  assert.doesNotMatch(output, /Unknown variable|\?\?\?/, output);
  // The lines sit where ntpsec's ntpq puts them: right after "packets received".
  const legends = result.stdout.split("\n").map((l) => l.split(":")[0]!.trim());
  const received = legends.indexOf("packets received");
  assert.ok(received >= 0, output);
  assert.deepEqual(legends.slice(received + 1, received + 3), ["current version", "older version"]);
});
