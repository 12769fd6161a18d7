// Real ntpstat (hard-wired to 127.0.0.1:123) against our control server on port 123 in a network namespace, next to `ntp status`.
import assert from "node:assert/strict";
import {
  billboardRows,
  runNtpCli,
  runNtpq,
  runNtpstat,
  startControlFixture,
} from "../support/control_clients.ts";
import { createNetns } from "../support/netns.ts";

/** The ntpstat part of `ntp status` output: the lines after the billboard's blank line, before the traffic line. */
function ntpstatPart(statusStdout: string): string {
  const blocks = statusStdout.split("\n\n");
  return (blocks[1] ?? "") + "\n";
}

function maskWhen(row: string): string {
  return row.slice(0, 38) + "####" + row.slice(42);
}

const cases = [
  {
    view: "synced",
    code: 0,
    ntpstat: "synchronised to NTP server (66.220.9.122) at stratum 2 \n" +
      "   time correct to within 18 ms\n" +
      "   polling server every 1024 s\n",
  },
  {
    view: "unsynced",
    code: 1,
    ntpstat: "unsynchronised\n  time server re-starting\n   polling server every 64 s\n",
  },
  {
    view: "empty",
    code: 0,
    ntpstat: "synchronised to unspecified at stratum 10 \n" +
      "   time correct to within 0 ms\n" +
      "   polling server every 64 s\n",
  },
] as const;

for (const { view, code, ntpstat } of cases) {
  Deno.test(`ntpstat exits ${code} for the ${view} view at 127.0.0.1:123, and ntp status agrees`, async () => {
    await using ns = await createNetns();
    await using fixture = await startControlFixture({
      listen: ["127.0.0.1:123"],
      view,
      netns: ns.name,
    });
    const real = await runNtpstat(ns.name);
    assert.equal(real.stdout, ntpstat, `${real.stderr}\n${fixture.describe()}`);
    assert.equal(real.code, code);

    const ours = await runNtpCli(["status"], { netns: ns.name });
    assert.equal(ours.code, code, ours.stdout + ours.stderr);
    assert.equal(ntpstatPart(ours.stdout), real.stdout);
    const ntpq = await runNtpq({ host: "127.0.0.1", port: 123, netns: ns.name }, ["peers"]);
    assert.deepEqual(
      billboardRows(ours.stdout).map(maskWhen),
      billboardRows(ntpq.stdout).map(maskWhen),
    );
    if (view !== "empty") assert.ok(billboardRows(ours.stdout).length > 0, ours.stdout);
  });
}
