// ntpsec's ntpd as an NTS client of `ntp serve`: NTS-KE, port negotiation, authenticated replies, and ours selected.
import assert from "node:assert/strict";
import { startChronydServer } from "../support/chronyd_server.ts";
import { ntpdPath, runNtpq } from "../support/control_clients.ts";
import { createNetns } from "../support/netns.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { startDaemon } from "../support/processes.ts";
import { makeTestCertificates } from "../support/test_ca.ts";

Deno.test({
  name:
    "ntpsec's ntpd (server ADDR nts ca FILE) gets cookies from ntp serve, authenticates every reply and selects it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    await using ns = await createNetns();
    try {
      // The reference on 127.0.0.2: ntpd would call a refid equal to its own address a loop.
      await using _reference = await startChronydServer({
        port: 12399,
        bindAddresses: ["127.0.0.2"],
        netns: ns.name,
        localStratum: 1,
      });
      const config = [
        `[[server]]`,
        `address = "127.0.0.2"`,
        `port = 12399`,
        `iburst = true`,
        `minpoll = 4`,
        `maxpoll = 4`,
        `[nts]`,
        `enable = true`,
        `cert = "${certificates.certificateFile}"`,
        `key = "${certificates.keyFile}"`,
        `listen = ["127.0.0.1:4460"]`,
        "",
      ].join("\n");
      await using _ours = await startNtpServer({
        config,
        configFormat: "toml",
        listen: ["127.0.0.1:12323"],
        clock: "soft",
        netns: ns.name,
      });
      await Deno.writeTextFile(
        `${dir}/ntpd.conf`,
        [
          "disable ntp",
          "disable kernel",
          `server 127.0.0.1:4460 nts ca ${certificates.caFile} iburst minpoll 4 maxpoll 4`,
          "restrict 127.0.0.1",
          "",
        ].join("\n"),
      );
      const target = { host: "127.0.0.1", port: 123, netns: ns.name };
      const ntpd = await startDaemon(
        [ntpdPath, "-n", "-c", `${dir}/ntpd.conf`, "-l", `${dir}/ntpd.log`],
        {
          netns: ns.name,
          ready: {
            probe: async () =>
              /^\*/m.test((await runNtpq(target, ["peers"], { timeoutMs: 5000 })).stdout),
            timeoutMs: 120_000,
          },
        },
      );
      try {
        const counters = (await runNtpq(target, [
          "rv 0 nts_client_send,nts_client_recv_good,nts_client_recv_bad",
        ])).stdout;
        const value = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(counters)?.[1]);
        assert.ok(value("nts_client_recv_good") >= 3, counters);
        assert.equal(value("nts_client_recv_bad"), 0, counters);
        const log = await Deno.readTextFile(`${dir}/ntpd.log`);
        assert.match(log, /NTSc: Using port 12323/, "ntpd followed our Port Negotiation record");
        assert.match(log, /NTSc: Got 8 cookies, length 104, aead=15/);
      } finally {
        await ntpd.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
