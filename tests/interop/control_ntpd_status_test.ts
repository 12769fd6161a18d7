// `ntp status` reads a real ntpsec ntpd (synchronised to a chronyd upstream over a veth) and agrees with ntpq -np and ntpstat.
import assert from "node:assert/strict";
import { startChronydServer } from "../support/chronyd_server.ts";
import { billboardRows, runNtpCli, runNtpq, runNtpstat } from "../support/control_clients.ts";
import { connectNetns, createNetns } from "../support/netns.ts";
import { startNtpsecNtpd } from "../support/ntpsec_ntpd.ts";

function maskWhen(row: string): string {
  return row.slice(0, 38) + "####" + row.slice(42);
}

Deno.test("ntp status reads ntpsec's ntpd: the same billboard as ntpq -np, the same lines and exit code as ntpstat", async (t) => {
  await using upstreamNs = await createNetns();
  await using serverNs = await createNetns();
  const link = await connectNetns(upstreamNs, serverNs);
  await using _chronyd = await startChronydServer({
    port: 123,
    bindAddresses: [link.ipv4A],
    netns: upstreamNs.name,
    localStratum: 2,
  });
  await using _ntpd = await startNtpsecNtpd({ netns: serverNs.name, servers: [link.ipv4A] });
  const ntpqTarget = { host: "127.0.0.1", port: 123, netns: serverNs.name };

  await t.step(
    "the billboard rows equal ntpq -np's (read within the same poll interval)",
    async () => {
      let last = "";
      for (let attempt = 0; attempt < 4; attempt++) {
        const ours = await runNtpCli(["status"], { netns: serverNs.name });
        const ntpq = await runNtpq(ntpqTarget, ["peers"]);
        const ourRows = billboardRows(ours.stdout).map(maskWhen);
        const theirRows = billboardRows(ntpq.stdout).map(maskWhen);
        assert.equal(ourRows.length, 1, ours.stdout + ours.stderr);
        assert.ok(ourRows[0]!.startsWith(`*${link.ipv4A}`), ours.stdout);
        last = `ours:\n${ourRows.join("\n")}\nntpq:\n${theirRows.join("\n")}`;
        // A poll between the two reads changes delay/offset/jitter: read again.
        if (ourRows.join("\n") === theirRows.join("\n")) return;
      }
      assert.fail(`the billboards never matched\n${last}`);
    },
  );

  await t.step(
    "the ntpstat lines and exit code equal ntpstat's ('synchronised to unspecified', ntpsec's clock source 0)",
    async () => {
      const ours = await runNtpCli(["status"], { netns: serverNs.name });
      const real = await runNtpstat(serverNs.name);
      assert.equal(real.code, 0, real.stdout + real.stderr);
      assert.equal(ours.code, real.code, ours.stdout);
      assert.equal((ours.stdout.split("\n\n")[1] ?? "") + "\n", real.stdout);
      assert.match(real.stdout, /^synchronised to unspecified at stratum 3 $/m);
      // ntpsec knows the ss_* counters, so the traffic line is there too.
      assert.match(
        ours.stdout,
        /^traffic: received \d+, served \d+, dropped \d+, KoD sent \d+, control requests \d+ \(up \d+ s\)$/m,
      );
    },
  );

  await t.step("--json gives the same verdict with the peer's values in seconds", async () => {
    const ours = await runNtpCli(["status", "--json"], { netns: serverNs.name });
    const report = JSON.parse(ours.stdout);
    assert.equal(report.synchronised, true);
    assert.equal(report.system.stratum, 3);
    assert.equal(report.peers[0].remote, link.ipv4A);
    assert.equal(report.peers[0].tally, "*");
    assert.ok(report.peers[0].delaySeconds > 0 && report.peers[0].delaySeconds < 0.01, ours.stdout);
  });
});
