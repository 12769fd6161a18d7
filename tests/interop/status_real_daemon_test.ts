// Acceptance of "See it" against the REAL daemon: ntp serve synchronised to chronyd over a veth, read by ntpq, ntpstat, check_ntp_peer and `ntp status`; unsynchronised; restrict noquery.
import assert from "node:assert/strict";
import { startChronydServer } from "../support/chronyd_server.ts";
import { scapyProbe } from "../support/clients.ts";
import { billboardRows, runCheckNtpPeer, runNtpq, runNtpstat } from "../support/control_clients.ts";
import { connectNetns, createNetns } from "../support/netns.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import {
  type BillboardRow,
  parseBillboardRow,
  parseNtpqVariables,
} from "../support/ntpq_output.ts";
import { type CommandResult, delay, runCommand } from "../support/processes.ts";
import { exchange, fromHex } from "../support/udp_probe.ts";

const repoRoot = new URL("../../", import.meta.url);

/** ntp.conf for our daemon: one upstream polled every 16 s, the seed's restrict lines, no orphan mode. */
function serveConfig(upstream: string): string {
  return [
    "# status_real_daemon_test: one upstream, the seed's access rules, no orphan mode",
    `server ${upstream} iburst minpoll 4 maxpoll 4`,
    "restrict default kod limited nomodify notrap nopeer noquery",
    "restrict 127.0.0.1",
    "restrict ::1",
    "",
  ].join("\n");
}

/** `deno task ntp ARGS...` (main.ts, as a user runs it) inside `netns`, without CAP_SYS_TIME. */
function runNtpTask(args: readonly string[], netns: string): Promise<CommandResult> {
  return runCommand([Deno.execPath(), "task", "ntp", ...args], {
    netns,
    cwd: repoRoot,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    timeoutMs: 60_000,
  });
}

/** The ntpstat block of `ntp status` text: the lines between the billboard and the traffic line. */
function ntpstatPart(statusStdout: string): string {
  return (statusStdout.split("\n\n")[1] ?? "") + "\n";
}

/** Polls `ntpq -np` until `accept` holds for its single row; returns that row and the raw output. */
async function waitForRow(
  target: { host: string; port: number; netns: string },
  accept: (row: BillboardRow) => boolean,
  timeoutMs: number,
): Promise<{ row: BillboardRow; text: string }> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    const result = await runNtpq(target, ["timeout 500", "peers"]);
    last = result.stdout + result.stderr;
    const rows = billboardRows(result.stdout);
    if (rows.length === 1) {
      const row = parseBillboardRow(rows[0]!);
      if (accept(row)) return { row, text: result.stdout };
    }
    await delay(500);
  }
  throw new Error(`ntpq -np never showed the expected row in ${timeoutMs} ms; last:\n${last}`);
}

/** The daemon's ss_restricted counter (packets dropped by restrict), read with ntpq. */
async function restrictedCount(
  target: { host: string; port: number; netns: string },
): Promise<number> {
  const result = await runNtpq(target, ["rv 0 ss_restricted"]);
  const value = parseNtpqVariables(result.stdout).variables.get("ss_restricted");
  assert.match(value ?? "", /^\d+$/, result.stdout + result.stderr);
  return Number(value);
}

/** The figures of two rows that only a new sample may change (when and offset move every second). */
function sameSource(row: BillboardRow): unknown {
  return [row.tally, row.remote, row.refid, row.stratum, row.type, row.pollSeconds, row.reach];
}

Deno.test("ntp serve synchronised to chronyd is shown as synchronised by ntpq, ntpstat, check_ntp_peer and ntp status, and refuses mode 6 from afar", async (t) => {
  await using upstreamNs = await createNetns();
  await using serverNs = await createNetns();
  const link = await connectNetns(upstreamNs, serverNs);
  const upstream = link.ipv4A;
  await using chronyd = await startChronydServer({
    port: 123,
    bindAddresses: [upstream],
    netns: upstreamNs.name,
    localStratum: 2,
  });
  await using server = await startNtpServer({
    config: serveConfig(upstream),
    listen: ["127.0.0.1:123", `${link.ipv4B}:123`],
    netns: serverNs.name,
  });
  const startedAt = performance.now();
  const local = { host: "127.0.0.1", port: 123, netns: serverNs.name };
  const context = () => `${server.describe()}\n--- chronyd ---\n${chronyd.describe()}`;
  // A failing step prints both daemons' logs: the steps read state a log line explains.
  const step = (name: string, fn: () => Promise<void>) =>
    t.step(name, async () => {
      try {
        await fn();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`${message}\n${context()}`, { cause: error });
      }
    });
  let peerId = 0;

  await step(
    "ntpq -np shows the upstream with *, octal reach, poll 16 and delay/offset below 10 ms/1 ms",
    async () => {
      const { row, text } = await waitForRow(local, (r) => r.tally === "*", 15_000);
      console.log(text.trimEnd());
      assert.equal(row.remote, upstream);
      assert.equal(row.refid, "127.127.1.1"); // chronyd's `local stratum 2` reference
      assert.equal(row.stratum, 2);
      assert.equal(row.type, "u");
      assert.equal(row.pollSeconds, 16);
      assert.ok(row.reach > 0, text);
      assert.ok(row.delayMs > 0 && row.delayMs < 10, text);
      assert.ok(Math.abs(row.offsetMs) < 1, text);
      assert.ok(row.jitterMs >= 0 && row.jitterMs < 10, text);
    },
  );

  await step(
    "ntpq -c rv prints our system variables: stratum 3, refid = the upstream",
    async () => {
      const result = await runNtpq(local, ["rv"]);
      console.log(result.stdout.trimEnd());
      const { header, variables } = parseNtpqVariables(result.stdout);
      assert.ok(header !== null, result.stdout + result.stderr);
      assert.equal(header.associationId, 0);
      assert.equal(header.status >> 14, 0, "leap bits");
      assert.equal((header.status >> 8) & 0x3f, 6, "clock source: NTP server");
      assert.match(header.decoded, /^leap_none, sync_ntp, \d+ events?, clock_sync$/);
      assert.equal(variables.get("leap"), "00");
      assert.equal(variables.get("stratum"), "3");
      assert.equal(variables.get("refid"), upstream);
      assert.equal(variables.get("tc"), "4");
      assert.equal(variables.get("mintc"), "4");
      assert.equal(variables.get("version"), '"ntp 0.1.0"');
      const rootDelayMs = Number(variables.get("rootdelay"));
      assert.ok(rootDelayMs > 0 && rootDelayMs < 10, `rootdelay ${rootDelayMs}`);
      assert.ok(Math.abs(Number(variables.get("offset"))) < 1, `offset ${variables.get("offset")}`);
      peerId = Number(variables.get("peer"));
      assert.ok(peerId > 0, `peer=${variables.get("peer")}`);
    },
  );

  await step(
    "ntpq -c 'rv &1' prints the upstream's variables: srcadr, stratum 2, sel_sys.peer",
    async () => {
      const result = await runNtpq(local, ["rv &1"]);
      console.log(result.stdout.trimEnd());
      const { header, variables } = parseNtpqVariables(result.stdout);
      assert.ok(header !== null, result.stdout + result.stderr);
      assert.equal(header.associationId, peerId, "rv's peer= is this association");
      assert.match(header.decoded, /^conf, auth, reach, sel_sys\.peer, \d+ events?, sys_peer$/);
      assert.equal(variables.get("srcadr"), upstream);
      assert.equal(variables.get("srcport"), "123");
      // Our side: the veth address the route to the upstream leaves from, and our client port.
      assert.equal(variables.get("dstadr"), link.ipv4B);
      assert.ok(Number(variables.get("dstport")) > 0, `dstport=${variables.get("dstport")}`);
      assert.equal(variables.get("leap"), "00");
      assert.equal(variables.get("stratum"), "2");
      assert.equal(variables.get("refid"), "127.127.1.1");
      assert.equal(variables.get("hpoll"), "4");
      assert.match(variables.get("reach") ?? "", /^[0-7]{3}$/);
      assert.ok(Number.parseInt(variables.get("reach")!, 8) > 0);
      const delayMs = Number(variables.get("delay"));
      assert.ok(delayMs > 0 && delayMs < 10, `delay ${delayMs}`);
      assert.ok(Math.abs(Number(variables.get("offset"))) < 1);
      assert.equal(variables.get("flash"), "00 ok");
    },
  );

  await step(
    "ntpstat exits 0: synchronised to NTP server (upstream) at stratum 3",
    async () => {
      const result = await runNtpstat(serverNs.name);
      console.log(result.stdout.trimEnd());
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(
        result.stdout,
        new RegExp(
          `^synchronised to NTP server \\(${upstream.replaceAll(".", "\\.")}\\) at stratum 3 \\n` +
            `   time correct to within \\d+ ms\\n   polling server every 16 s\\n$`,
        ),
      );
    },
  );

  await step(
    "check_ntp_peer -H 127.0.0.1 says NTP OK with a sub-millisecond offset",
    async () => {
      const result = await runCheckNtpPeer(local, ["-v"]);
      console.log(result.stdout.trimEnd());
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^synchronization source found$/m);
      const ok = /^NTP OK: Offset (\S+) secs\|offset=\S+s;60\.000000;120\.000000;$/m.exec(
        result.stdout,
      );
      assert.ok(ok !== null, result.stdout);
      assert.ok(Math.abs(Number(ok[1])) < 0.001, ok[1]);
    },
  );

  await step(
    "ntp status prints the billboard with * and ntpstat's lines (exit 0); --json carries the same values",
    async () => {
      let text: CommandResult | null = null;
      let real: CommandResult | null = null;
      let ntpq: CommandResult | null = null;
      // A poll between the reads may change the figures: read again (at most 3 times).
      for (let attempt = 0; attempt < 3; attempt++) {
        text = await runNtpTask(["status", "--server", "127.0.0.1:123"], serverNs.name);
        real = await runNtpstat(serverNs.name);
        ntpq = await runNtpq(local, ["peers"]);
        const ours = billboardRows(text.stdout).map(parseBillboardRow);
        const theirs = billboardRows(ntpq.stdout).map(parseBillboardRow);
        if (
          ntpstatPart(text.stdout) === real.stdout &&
          JSON.stringify(ours.map(sameSource)) === JSON.stringify(theirs.map(sameSource))
        ) break;
      }
      console.log(text!.stdout.trimEnd());
      assert.equal(text!.code, 0, text!.stdout + text!.stderr);
      const rows = billboardRows(text!.stdout).map(parseBillboardRow);
      assert.equal(rows.length, 1, text!.stdout);
      const row = rows[0]!;
      assert.equal(row.tally, "*");
      assert.equal(row.remote, upstream);
      assert.ok(row.delayMs > 0 && row.delayMs < 10 && Math.abs(row.offsetMs) < 1, text!.stdout);
      assert.deepEqual(
        sameSource(row),
        sameSource(parseBillboardRow(billboardRows(ntpq!.stdout)[0]!)),
        `ntp status and ntpq -np disagree:\n${text!.stdout}\n${ntpq!.stdout}`,
      );
      assert.equal(ntpstatPart(text!.stdout), real!.stdout);
      assert.match(
        text!.stdout,
        /^traffic: received \d+, served \d+, dropped \d+, KoD sent \d+, control requests [1-9]\d* \(up \d+ s\)$/m,
      );

      // The JSON is a second read: a poll in between may move "time correct to within" (root
      // dispersion); read both again until they saw the same state (at most 3 times).
      let json = await runNtpTask(["status", "--server", "127.0.0.1:123", "--json"], serverNs.name);
      for (let attempt = 0; attempt < 3; attempt++) {
        const lines = ntpstatPart(text!.stdout).trimEnd().split("\n");
        if (JSON.stringify(JSON.parse(json.stdout).ntpstat) === JSON.stringify(lines)) break;
        text = await runNtpTask(["status", "--server", "127.0.0.1:123"], serverNs.name);
        json = await runNtpTask(["status", "--server", "127.0.0.1:123", "--json"], serverNs.name);
      }
      assert.equal(json.code, 0, json.stdout + json.stderr);
      const report = JSON.parse(json.stdout);
      console.log(
        JSON.stringify({ ...report, system: { ...report.system, variables: "..." }, peers: "..." }),
      );
      assert.equal(report.synchronised, true);
      assert.equal(report.exitCode, 0);
      assert.equal(report.system.leap, 0);
      assert.equal(report.system.clockSource, 6);
      assert.equal(report.system.stratum, 3);
      assert.equal(report.system.refid, upstream);
      assert.equal(report.system.pollSeconds, 16);
      assert.deepEqual(report.ntpstat, ntpstatPart(text!.stdout).trimEnd().split("\n"));
      assert.equal(report.peers.length, 1);
      const peer = report.peers[0];
      assert.equal(peer.associationId, peerId);
      assert.equal(peer.tally, "*");
      assert.equal(peer.remote, upstream);
      assert.equal(peer.refid, "127.127.1.1");
      assert.equal(peer.stratum, 2);
      assert.equal(peer.pollSeconds, 16);
      assert.equal(peer.reach, row.reach);
      assert.ok(peer.delaySeconds > 0 && peer.delaySeconds < 0.01, json.stdout);
      assert.ok(Math.abs(peer.offsetSeconds) < 0.001, json.stdout);
      assert.ok(peer.jitterSeconds >= 0 && peer.jitterSeconds < 0.01, json.stdout);
      assert.deepEqual(sameSource(parseBillboardRow(peer.billboard)), sameSource(row));
    },
  );

  await step(
    "from the upstream's namespace, mode 6 to our veth address gets no answer while mode 3 is answered",
    async () => {
      const remote = { host: link.ipv4B, port: 123, netns: upstreamNs.name };
      const restrictedBefore = await restrictedCount(local);
      const [time, silences, ntpq, status, plugin] = await Promise.all([
        scapyProbe(remote, { count: 1 }),
        Promise.all(
          [
            "d60100010000000000000000", // READSTAT (ntpq -p, check_ntp_peer)
            "d60200020000000000000000", // READVAR association 0 (ntpq rv)
            "16020001" + "00".repeat(572), // ntpstat's 576-byte READVAR
          ].map((hex) => exchange(remote, fromHex(hex), { waitMs: 1500 })),
        ),
        runNtpq(remote, ["timeout 500", "peers"]),
        runNtpTask(
          ["status", "--server", `${link.ipv4B}:123`, "--timeout", "0.5"],
          upstreamNs.name,
        ),
        runCheckNtpPeer(remote, ["-t", "2"]),
      ]);
      console.log(time.raw.trim());
      assert.ok(time.ok, time.raw);
      assert.equal(time.samples[0]?.fields.stratum, 3, time.raw);
      assert.equal(time.samples[0]?.fields.leap, 0, time.raw);
      const refidHex = upstream.split(".").map((o) => Number(o).toString(16).padStart(2, "0"));
      assert.equal(time.samples[0]?.fields.refid, refidHex.join(""), time.raw);

      assert.deepEqual(silences.map((replies) => replies.length), [0, 0, 0]);
      console.log(`ntpq from ${upstream}: ${ntpq.stdout.trim()} | ${ntpq.stderr.trim()}`);
      assert.match(ntpq.stderr, /Request timed out/, ntpq.stdout);
      assert.deepEqual(billboardRows(ntpq.stdout), []);
      console.log(`ntp status from ${upstream}: exit ${status.code}: ${status.stderr.trim()}`);
      assert.equal(status.code, 2, status.stdout + status.stderr);
      assert.match(status.stderr, /cannot reach the NTP daemon at .*: no answer to mode 6/);
      console.log(`check_ntp_peer from ${upstream}: exit ${plugin.code}: ${plugin.stdout.trim()}`);
      assert.equal(plugin.code, 2, plugin.stdout);
      assert.match(plugin.stdout, /^CRITICAL - Socket timeout after 2 seconds/m);
      // Localhost is still served, and counts the silence above as restricted (the access rule,
      // not a lost packet): 3 raw requests plus at least one from each client.
      const restricted = await restrictedCount(local) - restrictedBefore;
      console.log(`ss_restricted grew by ${restricted}`);
      assert.ok(restricted >= 6, `ss_restricted grew by ${restricted}`);
    },
  );

  await step(
    "after the first regular poll reach is 3 (octal) and the upstream stays *",
    async () => {
      const remainingMs = Math.max(1000, 35_000 - (performance.now() - startedAt));
      const { row, text } = await waitForRow(local, (r) => r.reach >= 3, remainingMs);
      console.log(text.trimEnd());
      assert.equal(row.tally, "*");
      assert.equal(row.reachOctal, "3");
      assert.equal(row.pollSeconds, 16);
      assert.ok(row.delayMs > 0 && row.delayMs < 10 && Math.abs(row.offsetMs) < 1, text);
    },
  );
});

Deno.test("ntp serve whose upstream never answers is unsynchronised for ntpq, ntpstat (1), check_ntp_peer (CRITICAL) and ntp status (1)", async (t) => {
  await using serverNs = await createNetns();
  await using silentNs = await createNetns();
  const link = await connectNetns(silentNs, serverNs);
  // On the link's subnet, but no interface has it: the requests go out and nothing answers.
  const nobody = link.ipv4A.replace(/\.1$/, ".3");
  await using server = await startNtpServer({
    config: serveConfig(nobody),
    listen: ["127.0.0.1:123", `${link.ipv4B}:123`],
    netns: serverNs.name,
  });
  const local = { host: "127.0.0.1", port: 123, netns: serverNs.name };
  // Past the time keeper's startup wait and a few iburst polls.
  await delay(4000);

  await t.step(
    "ntpq -np shows the upstream unreached: no tally, .INIT., stratum 16, poll 16, reach 0",
    async () => {
      const result = await runNtpq(local, ["peers"]);
      console.log(result.stdout.trimEnd());
      const rows = billboardRows(result.stdout);
      assert.equal(rows.length, 1, `${result.stdout}${result.stderr}\n${server.describe()}`);
      const row = parseBillboardRow(rows[0]!);
      assert.deepEqual(
        [
          row.tally,
          row.remote,
          row.refid,
          row.stratum,
          row.whenSeconds,
          row.pollSeconds,
          row.reachOctal,
        ],
        [" ", nobody, ".INIT.", 16, null, 16, "0"],
      );
    },
  );

  await t.step("ntpq -c rv says leap_alarm, stratum 16, refid INIT", async () => {
    const result = await runNtpq(local, ["rv"]);
    console.log(result.stdout.trimEnd());
    const { header, variables } = parseNtpqVariables(result.stdout);
    assert.ok(header !== null, result.stdout + result.stderr);
    assert.match(header.decoded, /^leap_alarm, /);
    assert.equal(variables.get("leap"), "11");
    assert.equal(variables.get("stratum"), "16");
    assert.equal(variables.get("refid"), "INIT");
    assert.equal(variables.get("peer"), "0");
  });

  await t.step("ntpstat exits 1 with 'unsynchronised'", async () => {
    const result = await runNtpstat(serverNs.name);
    console.log(`exit ${result.code}: ${result.stdout.trimEnd()}`);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.equal(result.stdout, "unsynchronised\n   polling server every 16 s\n");
  });

  await t.step("check_ntp_peer is CRITICAL (exit 2): server not synchronized", async () => {
    const result = await runCheckNtpPeer(local);
    console.log(`exit ${result.code}: ${result.stdout.trimEnd()}`);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /^NTP CRITICAL: Server not synchronized, Offset unknown\|/m);
  });

  await t.step(
    "ntp status exits 1 with ntpstat's lines; --json says not synchronised",
    async () => {
      const text = await runNtpTask(["status", "--server", "127.0.0.1:123"], serverNs.name);
      console.log(`exit ${text.code}:\n${text.stdout.trimEnd()}`);
      assert.equal(text.code, 1, text.stdout + text.stderr);
      assert.equal(ntpstatPart(text.stdout), "unsynchronised\n   polling server every 16 s\n");
      const rows = billboardRows(text.stdout).map(parseBillboardRow);
      assert.deepEqual(rows.map((r) => [r.tally, r.remote, r.reach]), [[" ", nobody, 0]]);

      const json = await runNtpTask(
        ["status", "--server", "127.0.0.1:123", "--json"],
        serverNs.name,
      );
      assert.equal(json.code, 1, json.stdout + json.stderr);
      const report = JSON.parse(json.stdout);
      assert.equal(report.synchronised, false);
      assert.equal(report.exitCode, 1);
      assert.equal(report.system.leap, 3);
      assert.equal(report.system.stratum, 16);
      assert.equal(report.peers[0].remote, nobody);
      assert.equal(report.peers[0].reach, 0);
      assert.equal(report.peers[0].tally, " ");
    },
  );
});
