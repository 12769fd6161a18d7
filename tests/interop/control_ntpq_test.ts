// Real ntpq (ntpsec 1.2.2) and check_ntp_peer against our control server (responders + attachControlServer, fake views) on a loopback port.
import assert from "node:assert/strict";
import { collectStatus } from "../../src/cli/status_command.ts";
import { formatBillboard } from "../../src/core/control/ntpq_billboard.ts";
import {
  billboardRows,
  runCheckNtpPeer,
  runNtpq,
  startControlFixture,
} from "../support/control_clients.ts";
import { freeUdpPort } from "../support/ports.ts";
import { exchange, fromHex } from "../support/udp_probe.ts";

/** A "when" column may differ by a second between two readers: mask it. */
function maskWhen(row: string): string {
  return row.slice(0, 38) + "####" + row.slice(42);
}

Deno.test("real ntpq and check_ntp_peer read a synchronised view", async (t) => {
  const port = await freeUdpPort();
  await using fixture = await startControlFixture({
    listen: [`127.0.0.1:${port}`],
    view: "synced",
  });
  const target = { host: "127.0.0.1", port };

  await t.step(
    "ntpq -np shows the three peers with *, + and -, in ntpq's exact columns",
    async () => {
      const result = await runNtpq(target, ["peers"]);
      const rows = billboardRows(result.stdout);
      assert.equal(rows.length, 3, `${result.stdout}\n${result.stderr}\n${fixture.describe()}`);
      // The fake peers were last heard 41, 77 and 257 s before the view's second.
      assert.deepEqual(rows.map(maskWhen), [
        "*66.220.9.122    .CDMA.           1 u ####  512  377   2.0220   6.6800   6.7980",
        "+216.218.254.202 .CDMA.           1 u #### 1024  377   2.1270   5.6630   6.1800",
        "-204.123.2.72    .GPS.            1 u ####  512  377   4.9080  -2.7530   5.0310",
      ]);
      const when = rows.map((row) => Number(row.slice(38, 42)));
      for (const [index, expected] of [41, 77, 257].entries()) {
        assert.ok(Math.abs(when[index]! - expected) <= 1, `when ${when[index]} for ${expected}`);
      }
      // ntp status renders the same rows from the same answers.
      const ours = await collectStatus(target, { timeoutSeconds: 2 });
      assert.deepEqual(
        formatBillboard(ours.peers, ours.takenAtUnixSeconds).slice(2).map(maskWhen),
        rows.map(maskWhen),
      );
    },
  );

  await t.step("ntpq -c rv prints our system variables and decodes the status word", async () => {
    const result = await runNtpq(target, ["rv"]);
    assert.match(
      result.stdout,
      /^associd=0 status=0625 leap_none, sync_ntp, 2 events, clock_sync,$/m,
      result.stderr,
    );
    for (
      const text of [
        "leap=00",
        "stratum=2",
        "precision=-24",
        "rootdelay=2.022",
        "rootdisp=17.311",
        "refid=66.220.9.122",
        "tc=10",
        "peer=17767",
        'version="ntp 0.1.0"',
        "mintc=0",
      ]
    ) {
      assert.ok(result.stdout.includes(text), `${text} missing:\n${result.stdout}`);
    }
  });

  await t.step("ntpq -c 'rv 0 stratum,offset' prints just those", async () => {
    const result = await runNtpq(target, ["rv 0 stratum,offset"]);
    assert.equal(result.stdout.trim(), "stratum=2, offset=6.68");
  });

  await t.step(
    "ntpq -c 'rv &1' prints the system peer's variables (a two-fragment answer)",
    async () => {
      const result = await runNtpq(target, ["rv &1"]);
      assert.match(
        result.stdout,
        /^associd=17767 status=b62a conf, auth, reach, sel_sys\.peer, 2 events, sys_peer,$/m,
        result.stderr,
      );
      for (
        const text of [
          "srcadr=66.220.9.122",
          "srcport=123",
          "reach=377",
          "delay=2.022",
          "offset=6.68",
          "flash=00 ok",
          " filtdelay =2.02\t2.03\t2.11",
        ]
      ) {
        assert.ok(result.stdout.includes(text), `${text} missing:\n${result.stdout}`);
      }
      // READVAR, sequence 9, association 17767 (0x4567), all variables.
      const replies = await exchange(target, fromHex("d60200090000456700000000"));
      assert.equal(replies.length, 2, "the peer READVAR answer is fragmented");
    },
  );

  await t.step("ntpq -c mrulist lists the view's clients and ntpq itself", async () => {
    const result = await runNtpq(target, ["mrulist"]);
    assert.match(
      result.stdout,
      /^\s+\d+\s+\S+\s+5f0 K 3 4\s+11\s+-\s+0 41234 198\.51\.100\.7$/m,
      result.stdout + result.stderr,
    );
    assert.match(result.stdout, /^\s+\d+\s+\S+\s+420 K 3 3\s+40\s+-\s+2\s+123 2001:db8::42$/m);
    assert.match(result.stdout, / \. 6 2 .* 127\.0\.0\.1$/m);
  });

  await t.step(
    "check_ntp_peer is OK with the system peer's offset, jitter and stratum",
    async () => {
      const result = await runCheckNtpPeer(target);
      assert.equal(result.code, 0, result.stdout);
      assert.match(
        result.stdout,
        /^NTP OK: Offset 0\.00668 secs\|offset=0\.006680s;60\.000000;120\.000000;$/m,
      );
      const detailed = await runCheckNtpPeer(target, [
        "-w",
        "0.5",
        "-c",
        "1",
        "-W",
        "4",
        "-C",
        "6",
        "-j",
        "-1:100",
        "-k",
        "-1:200",
      ]);
      assert.equal(detailed.code, 0, detailed.stdout);
      assert.match(detailed.stdout, /NTP OK: Offset 0\.00668 secs, jitter=6\.798000, stratum=1\|/);
    },
  );
});

Deno.test("real ntpq and check_ntp_peer read an unsynchronised view", async (t) => {
  const port = await freeUdpPort();
  await using _fixture = await startControlFixture({
    listen: [`127.0.0.1:${port}`],
    view: "unsynced",
  });
  const target = { host: "127.0.0.1", port };

  await t.step("ntpq -np shows both peers unreached, refid .INIT., when -", async () => {
    const rows = billboardRows((await runNtpq(target, ["peers"])).stdout);
    assert.deepEqual(rows, [
      " 192.0.2.1       .INIT.          16 u    -   64    0   0.0000   0.0000   0.0000",
      " 2001:db8::123   .INIT.          16 u    -   64    0   0.0000   0.0000   0.0000",
    ]);
  });

  await t.step("ntpq -c rv says leap_alarm", async () => {
    const result = await runNtpq(target, ["rv"]);
    assert.match(
      result.stdout,
      /^associd=0 status=c011 leap_alarm, sync_unspec, 1 event, freq_not_set,$/m,
    );
    assert.match(result.stdout, /leap=11, stratum=16,/);
    assert.match(result.stdout, /refid=INIT,/);
  });

  await t.step("check_ntp_peer is CRITICAL: not synchronized", async () => {
    const result = await runCheckNtpPeer(target);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stdout, /^NTP CRITICAL: Server not synchronized, Offset unknown/m);
  });
});

Deno.test("real ntpq reports no associations for a view without peers", async () => {
  const port = await freeUdpPort();
  await using _fixture = await startControlFixture({
    listen: [`127.0.0.1:${port}`],
    view: "empty",
  });
  const result = await runNtpq({ host: "127.0.0.1", port }, ["peers"]);
  assert.match(result.stdout + result.stderr, /No association IDs returned/);
});
