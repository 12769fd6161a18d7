// The library against real servers in a namespace (ntpsec's ntpd, chronyd, our daemon), from a program run with only --allow-net: query() answers from each, and a TrueClock over the three corrects a local clock 90 s behind.
import assert from "node:assert/strict";
import { connectNetns, createNetns } from "../support/netns.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { startChronydServer } from "../support/chronyd_server.ts";
import { startNtpsecNtpd } from "../support/ntpsec_ntpd.ts";
import { runCommand } from "../support/processes.ts";

const probe = decodeURIComponent(new URL("./_library_probe.ts", import.meta.url).pathname);

Deno.test({
  name:
    "with only --allow-net: query() answers from ntpsec's ntpd, chronyd and our daemon; TrueClock over them corrects a clock 90 s behind",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // chronyd (stratum 2) in its own namespace, reached over a veth on port 123 as ntpd needs;
    // ntpd, our daemon and the program in the other.
    await using upstreamNs = await createNetns();
    await using netns = await createNetns();
    const link = await connectNetns(upstreamNs, netns);
    await using _chronyd = await startChronydServer({
      port: 123,
      bindAddresses: [link.ipv4A],
      netns: upstreamNs.name,
      localStratum: 2,
    });
    await using _ntpd = await startNtpsecNtpd({ netns: netns.name, servers: [link.ipv4A] });
    await using _ours = await startNtpServer({
      config: `[[server]]\naddress = "${link.ipv4A}"\niburst = true\nminpoll = 4\nmaxpoll = 4\n`,
      configFormat: "toml",
      listen: ["127.0.0.1:3123"],
      netns: netns.name,
      clock: "soft",
    });
    const servers = ["127.0.0.1:123", `${link.ipv4A}:123`, "127.0.0.1:3123"];
    const run = await runCommand(
      [Deno.execPath(), "run", "--allow-net", "--no-prompt", probe, ...servers],
      {
        netns: netns.name,
        timeoutMs: 120_000,
        env: { NO_COLOR: "1" },
        // deno.json's import map (smol-toml) is found from the repository.
        cwd: new URL("../../", import.meta.url),
      },
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const result = JSON.parse(run.stdout) as {
      queries: {
        server: string;
        ok: boolean;
        offsetSeconds?: number;
        delaySeconds?: number;
        error?: string;
      }[];
      trueClock: {
        offsetSeconds: number;
        errorBoundSeconds: number;
        trueMinusSystemMs: number;
        code: string;
        systemCode: string;
        localCode: string;
      };
    };
    console.log(run.stdout);
    for (const q of result.queries) {
      assert.ok(q.ok, `${q.server}: ${q.error}`);
      assert.ok(
        Math.abs(q.offsetSeconds!) <= q.delaySeconds! / 2 + 0.005,
        `${q.server}: ${q.offsetSeconds}`,
      );
    }
    assert.ok(Math.abs(result.trueClock.offsetSeconds - 90) < 0.01, JSON.stringify(result));
    assert.ok(Math.abs(result.trueClock.trueMinusSystemMs) < 20, JSON.stringify(result));
    assert.equal(result.trueClock.code, result.trueClock.systemCode, "the code of the true time");
    assert.notEqual(result.trueClock.code, result.trueClock.localCode, "not the local clock's");
  },
});
