// Acceptance of `ntp doctor` on a real setup (ntp serve synced to chronyd across namespaces) and on broken ones: no capability, firewall closed (then opened by its fix), a rival chronyd, a port taken, a dead upstream.
import assert from "node:assert/strict";
import { Capability, hasCapability } from "../../src/io/capabilities.ts";
import { checkCapability } from "../../src/core/doctor/capability_check.ts";
import { readProcLink, readProcText } from "../../src/io/proc_files.ts";
import { startChronydServer } from "../support/chronyd_server.ts";
import { connectNetns, createNetns } from "../support/netns.ts";
import { ntpTaskFlags, startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { type CommandResult, delay, runCommand, startDaemon } from "../support/processes.ts";

const repoRoot = new URL("../../", import.meta.url);
/** The misbehaving test responder (KoD, unsynchronised), run as a program in the namespace. */
const fakeNtpServer = new URL("../support/fake_ntp_server.ts", import.meta.url).pathname;

/** One parsed report line: status, check name, detail, and the fix under it. */
interface ReportLine {
  readonly status: string;
  readonly check: string;
  readonly detail: string;
  readonly fix: string | null;
}

interface DoctorRun {
  readonly result: CommandResult;
  readonly lines: readonly ReportLine[];
  line(check: string): ReportLine;
}

/** Parses the text report with the JSON report's check names (the text pads them). */
function parseReport(result: CommandResult, checks: readonly string[]): ReportLine[] {
  const lines: ReportLine[] = [];
  const text = result.stdout.split("\n");
  for (let i = 0; i < text.length; i++) {
    const match = /^(OK|WARN|FAIL) {1,2}(.*)$/.exec(text[i]!);
    if (match === null) continue;
    const rest = match[2]!.trimStart();
    const check = checks.find((c) => rest.startsWith(`${c} `) || rest === c);
    if (check === undefined) throw new Error(`unknown check in: ${text[i]}`);
    const fix = /^ {6}fix: (.*)$/.exec(text[i + 1] ?? "")?.[1] ?? null;
    lines.push({ status: match[1]!, check, detail: rest.slice(check.length).trim(), fix });
  }
  return lines;
}

/** Runs `ntp doctor ARGS...` from main.ts inside `netns`, without CAP_SYS_TIME; text and JSON. */
async function runDoctor(args: readonly string[], netns: string): Promise<DoctorRun> {
  const flags = await ntpTaskFlags();
  const run = (extra: readonly string[]) =>
    runCommand([
      Deno.execPath(),
      "run",
      ...flags,
      decodeURIComponent(new URL("main.ts", repoRoot).pathname),
      "doctor",
      ...args,
      ...extra,
    ], { netns, cwd: repoRoot, env: { NO_COLOR: "1" }, timeoutMs: 60_000 });
  // The text and JSON runs are two looks at a live daemon: while it synchronises, one may see
  // more checks (offset, stratum, poll) than the other. Look again until both saw the same state.
  let attempt = 0;
  for (;;) {
    const [result, json] = await Promise.all([run([]), run(["--json"])]);
    const report = JSON.parse(json.stdout) as { exitCode: number; checks: { check: string }[] };
    assert.equal(report.exitCode, json.code, "--json exitCode is the exit status");
    const lines = parseReport(result, report.checks.map((c) => c.check));
    if (lines.length !== report.checks.length && ++attempt < 5) continue;
    assert.equal(lines.length, report.checks.length, `one line per check:\n${result.stdout}`);
    return finish(result, lines);
  }
}

function finish(result: CommandResult, lines: ReportLine[]): DoctorRun {
  console.log(result.stdout.trimEnd());
  return {
    result,
    lines,
    line(check: string) {
      const found = lines.find((l) => l.check === check);
      assert.ok(found, `no "${check}" line in:\n${result.stdout}${result.stderr}`);
      return found;
    },
  };
}

function tomlConfig(fields: {
  readonly upstreams: readonly string[];
  readonly listen: readonly string[];
  readonly extra?: readonly string[];
}): string {
  return [
    "# doctor_real_setup_test",
    `listen = [${fields.listen.map((l) => `"${l}"`).join(", ")}]`,
    ...fields.upstreams.flatMap((u) => [
      "",
      "[[server]]",
      `address = "${u}"`,
      "iburst = true",
      "minpoll = 4",
      "maxpoll = 4",
    ]),
    ...(fields.extra ?? []),
    "",
  ].join("\n");
}

Deno.test("ntp doctor passes a healthy setup and names the fix for each broken one", async (t) => {
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
  const listen = ["127.0.0.1:123", `${link.ipv4B}:123`];
  const config = tomlConfig({ upstreams: [upstream], listen });
  await using server = await startNtpServer({
    config,
    configFormat: "toml",
    listen,
    netns: serverNs.name,
  });
  const dir = await Deno.makeTempDir({ prefix: "ntpt-doctor-" });
  const writeConfig = async (name: string, text: string) => {
    const path = `${dir}/${name}`;
    await Deno.writeTextFile(path, text);
    return path;
  };
  const healthyConfig = await writeConfig("healthy.toml", config);
  const ns = serverNs.name;
  try {
    await t.step(
      "healthy: exit 0; config, ports held by our daemon, upstream, firewall, sync, offset, stratum and the public query pass",
      async () => {
        let run: DoctorRun | null = null;
        const deadline = performance.now() + 40_000;
        while (performance.now() < deadline) {
          run = await runDoctor(["--config", healthyConfig, "--public", `${link.ipv4B}:123`], ns);
          // The doctor runs its checks concurrently: a run that straddles the moment the daemon
          // synchronises can see sync OK over mode 6 and still get the unsynchronised answer to
          // its public query, sent a few ms earlier. Wait for a run after that moment.
          const ok = (check: string) => run!.lines.find((l) => l.check === check)?.status === "OK";
          if (ok("sync") && ok("public")) break;
          await delay(1000);
        }
        assert.ok(run !== null);
        const context =
          `${run.result.stdout}${run.result.stderr}\n${server.describe()}\n${chronyd.describe()}`;
        assert.equal(run.result.code, 0, context);
        // One upstream is a working setup, but the config check rightly asks for four.
        assert.equal(run.line("config").status, "WARN");
        assert.equal(
          run.line("config").detail,
          `${healthyConfig} loads (1 upstream) with a warning: line 4: only 1 server configured; ` +
            "the NTP pool advises at least 4 so that one bad server can be outvoted",
        );
        for (const address of listen) {
          const line = run.line(`listen ${address}`);
          assert.equal(line.status, "OK", context);
          assert.match(line.detail, /answering as "ntp 0\.1\.0": our daemon$/);
          assert.match(line.detail, new RegExp(`held by \\S+ \\(pid ${server.pid}\\)`));
        }
        // No NTS in this config: no crypto line.
        assert.ok(!run.lines.some((l) => l.check === "nts crypto"), run.result.stdout);
        // The doctor runs under setpriv --bounding-set=-sys_time, as every test process does.
        assert.equal(run.line("capability").status, "WARN");
        assert.match(run.line("capability").detail, /^CAP_SYS_TIME is not held: .*soft clock/);
        const rivals = run.line("rival daemons");
        assert.equal(rivals.status, "OK", context);
        assert.match(
          rivals.detail,
          /ignored chronyd \(pids? [\d, ]+\) in other network namespaces/,
        );
        const up = run.line(`upstream ${upstream}`);
        assert.equal(up.status, "OK");
        assert.match(
          up.detail,
          /^stratum 2, refid 127\.127\.1\.1, offset [-+]0\.\d{6} s, delay 0\.\d{6} s$/,
        );
        assert.equal(run.line("firewall").status, "OK");
        assert.equal(
          run.line("firewall").detail,
          "inbound UDP 123 gets in: nft: nftables has no input filter chain",
        );
        assert.equal(run.line("daemon").detail, "ntp 0.1.0 answers mode 6 at 127.0.0.1:123");
        assert.equal(run.line("sync").detail, `synchronised to ${upstream} at stratum 3`);
        assert.equal(run.line("offset").status, "OK");
        assert.match(run.line("offset").detail, /^[-+]\d+\.\d{3} ms, well under the pool's 25 ms$/);
        assert.equal(run.line("stratum").detail, "3 (the pool accepts up to 4)");
        const poll = run.line("poll");
        assert.equal(poll.status, "WARN");
        assert.equal(poll.detail, "16 s, and maxpoll 4 (16 s) keeps it below 1024 s");
        assert.match(poll.fix ?? "", /set maxpoll = 10/);
        assert.equal(run.line("public").status, "OK");
        assert.match(
          run.line("public").detail,
          new RegExp(`^${link.ipv4B.replaceAll(".", "\\.")}:123 answers: stratum 3,`),
        );
        assert.deepEqual(run.lines.filter((l) => l.status === "FAIL"), []);
      },
    );

    await t.step(
      'no capability: [serve] clock = "kernel" without CAP_SYS_TIME fails with the systemd fix; with it the same check passes',
      async () => {
        const path = await writeConfig(
          "kernel.toml",
          tomlConfig({ upstreams: [upstream], listen, extra: ["", "[serve]", 'clock = "kernel"'] }),
        );
        const run = await runDoctor(["--config", path], ns);
        assert.equal(run.result.code, 1);
        const line = run.line("capability");
        assert.equal(line.status, "FAIL");
        assert.match(
          line.detail,
          /CAP_SYS_TIME is not held, and \[serve\] clock = "kernel" needs it/,
        );
        assert.match(line.fix ?? "", /AmbientCapabilities=CAP_SYS_TIME/);
        // This test process runs as root with the capability: the same facts pass.
        assert.equal(hasCapability(Capability.sysTime), true);
        assert.equal(
          checkCapability({ holdsSysTime: hasCapability(Capability.sysTime), clock: "kernel" })
            .status,
          "ok",
        );
      },
    );

    await t.step(
      "firewall: an nft policy drop without a rule for UDP 123 fails; running the printed fix makes it pass",
      async () => {
        const ruleset = `table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    ct state established,related accept
    tcp dport 22 accept
  }
}
`;
        const apply = await runCommand(["nft", "-f", await writeConfig("drop.nft", ruleset)], {
          netns: ns,
        });
        assert.equal(apply.code, 0, apply.stderr);
        const blocked = await runDoctor(["--config", healthyConfig], ns);
        assert.equal(blocked.result.code, 1);
        const line = blocked.line("firewall");
        assert.equal(line.status, "FAIL");
        assert.equal(
          line.detail,
          "inbound UDP 123 is blocked: nft: chain inet filter input: policy drop and no rule accepts UDP 123 from everywhere",
        );
        assert.equal(line.fix, "nft insert rule inet filter input udp dport 123 accept");
        const fixed = await runCommand(line.fix!.split(" "), { netns: ns });
        assert.equal(fixed.code, 0, fixed.stderr);
        const open = await runDoctor(["--config", healthyConfig], ns);
        assert.equal(open.line("firewall").status, "OK");
        assert.match(open.line("firewall").detail, /"udp dport 123 accept" accepts UDP 123/);
        assert.equal(open.result.code, 0);
        assert.equal((await runCommand(["nft", "flush", "ruleset"], { netns: ns })).code, 0);
      },
    );

    await t.step(
      "rival daemon: a chronyd -x in the same namespace fails with its pid and the command that stops it",
      async () => {
        await using rival = await startChronydServer({
          port: await freeUdpPort(),
          bindAddresses: ["127.0.0.1"],
          netns: ns,
        });
        const run = await runDoctor(["--config", healthyConfig], ns);
        assert.equal(run.result.code, 1, rival.describe());
        const line = run.line("rival daemons");
        assert.equal(line.status, "FAIL");
        const match = /another time daemon runs: chronyd \(pid (\d+)\), cannot set the clock/.exec(
          line.detail,
        );
        assert.ok(match !== null, line.detail);
        const pid = Number(match[1]);
        assert.equal(readProcText(`/proc/${pid}/comm`), "chronyd\n");
        assert.notEqual(
          readProcLink(`/proc/${pid}/ns/net`),
          readProcLink(`/proc/${Deno.pid}/ns/net`),
        );
        assert.match(line.fix ?? "", new RegExp(`systemctl disable --now chrony .*kill ${pid}`));
        assert.match(
          line.detail,
          /ignored .*chronyd/,
          "the upstream's chronyd elsewhere is still ignored",
        );
      },
    );

    await t.step(
      "port taken: another process on the listen port fails with its name and pid",
      async () => {
        const port = await freeUdpPort();
        await using holder = await startDaemon([
          "/usr/bin/python3",
          "-c",
          "import socket, sys, time\n" +
          `s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", ${port}))\n` +
          'print("bound", file=sys.stderr, flush=True); time.sleep(120)',
        ], { netns: ns, ready: { stderrPattern: /bound/ } });
        const path = await writeConfig(
          "taken.toml",
          tomlConfig({ upstreams: [upstream], listen: [`127.0.0.1:${port}`] }),
        );
        const run = await runDoctor(["--config", path, "--server", "127.0.0.1:123"], ns);
        assert.equal(run.result.code, 1);
        const line = run.line(`listen 127.0.0.1:${port}`);
        assert.equal(line.status, "FAIL");
        assert.equal(line.detail, `UDP 127.0.0.1:${port} is taken by python3 (pid ${holder.pid})`);
        assert.equal(line.fix, "stop python3 or set another listen address");
      },
    );

    await t.step(
      "bad upstreams: silence, a name that does not resolve, a Kiss-o'-Death and an unsynchronised server fail; so does a daemon that is not there",
      async () => {
        const dead = await freeUdpPort();
        const fake = async (behaviour: string) => {
          const port = await freeUdpPort();
          const daemon = await startDaemon(
            [
              Deno.execPath(),
              "run",
              "--allow-net",
              fakeNtpServer,
              behaviour,
              "--port",
              String(port),
            ],
            { netns: ns, ready: { stderrPattern: /listening on/ } },
          );
          return { port, daemon };
        };
        const kod = await fake("kod-RATE");
        await using _kod = kod.daemon;
        const unsync = await fake("unsync");
        await using _unsync = unsync.daemon;
        const path = await writeConfig(
          "dead.toml",
          tomlConfig({
            upstreams: [
              `127.0.0.1:${dead}`,
              "nonexistent.invalid",
              `127.0.0.1:${kod.port}`,
              `127.0.0.1:${unsync.port}`,
            ],
            listen,
          }),
        );
        const run = await runDoctor(
          ["--config", path, "--timeout", "1", "--server", `127.0.0.1:${dead}`],
          ns,
        );
        assert.equal(run.result.code, 1);
        const silent = run.line(`upstream 127.0.0.1:${dead}`);
        assert.equal(silent.status, "FAIL");
        assert.equal(silent.detail, "no answer within 1 s");
        assert.match(silent.fix ?? "", new RegExp(`try: ntp query 127\\.0\\.0\\.1:${dead}`));
        const unresolved = run.line("upstream nonexistent.invalid");
        assert.equal(unresolved.status, "FAIL");
        assert.match(unresolved.detail, /^nonexistent\.invalid does not resolve \(/);
        assert.match(unresolved.fix ?? "", /getent hosts nonexistent\.invalid/);
        const kissed = run.line(`upstream 127.0.0.1:${kod.port}`);
        assert.equal(kissed.status, "FAIL");
        assert.equal(kissed.detail, "Kiss-o'-Death RATE (Rate exceeded.)");
        assert.match(kissed.fix ?? "", /poll it less often/);
        const unsynchronised = run.line(`upstream 127.0.0.1:${unsync.port}`);
        assert.equal(unsynchronised.status, "FAIL");
        assert.equal(unsynchronised.detail, "answers but is not synchronised (leap 3, stratum 16)");
        const daemon = run.line("daemon");
        assert.equal(daemon.status, "FAIL");
        assert.match(
          daemon.detail,
          new RegExp(`^cannot read the daemon at 127\\.0\\.0\\.1:${dead}: no answer`),
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
