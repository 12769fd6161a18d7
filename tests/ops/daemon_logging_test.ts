// End to end: a running `ntp serve` (no CAP_SYS_TIME) synchronised to a chronyd -x upstream on loopback logs its main events to stderr and to its log file, with no colour codes and nothing per packet.
import { becomes } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { startChronydServer } from "../support/chronyd_server.ts";
import { ntpServeArgv } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { startDaemon } from "../support/processes.ts";
import { clientRequest, exchange } from "../support/udp_probe.ts";

const repoRoot = new URL("../../", import.meta.url);
const upstreamStratum = 3;

/** Log lines as the plain formatter writes them: timestamp, [LVL], category, message. */
const logLine =
  /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d \[(TRC|DBG|INF|WRN|ERR|FTL)\] /;

Deno.test("a running ntp serve logs start, config warnings, reachability, sync, drift writes and a traffic summary to stderr and its log file", async () => {
  await using stack = new AsyncDisposableStack();
  const dir = await Deno.makeTempDir({ prefix: "ntpt-ops-log-" });
  stack.defer(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
  const upstreamPort = await freeUdpPort("127.0.0.1");
  stack.use(
    await startChronydServer({
      port: upstreamPort,
      bindAddresses: ["127.0.0.1"],
      localStratum: upstreamStratum,
    }),
  );
  const listenPort = await freeUdpPort("127.0.0.1");
  const upstream = `127.0.0.1:${upstreamPort}`;
  const config = `# the daemon's files in a temp dir; one chronyd upstream polled every 8 s
logfile ${dir}/ntp.log
driftfile ${dir}/ntp.drift
frobnicate yes
server 127.0.0.1 port ${upstreamPort} iburst minpoll 3 maxpoll 3
`;
  const { argv, dir: configDir } = await ntpServeArgv({
    config,
    listen: [`127.0.0.1:${listenPort}`],
    clock: "soft",
  });
  stack.defer(() => Deno.remove(configDir, { recursive: true }).catch(() => {}));
  // NO_COLOR unset: only "stderr is not a terminal" keeps the colours out.
  const daemon = stack.use(
    await startDaemon(["env", "-u", "NO_COLOR", ...argv], {
      cwd: repoRoot,
      env: { DENO_NO_UPDATE_CHECK: "1" },
      ready: { stderrPattern: /serving on/, timeoutMs: 30_000 },
    }),
  );

  const synced = await becomes(
    () => new RegExp(`synchronised at stratum ${upstreamStratum + 1}`).test(daemon.stderr),
    { timeoutMs: 30_000 },
  );
  assert.ok(synced, `not synchronised within 30 s\n${daemon.describe()}`);
  const requests = 40;
  let answered = 0;
  for (let i = 0; i < requests; i++) {
    const replies = await exchange({ host: "127.0.0.1", port: listenPort }, clientRequest(), {
      waitMs: 50,
    });
    answered += replies.length;
  }
  assert.ok(answered >= requests / 2, `only ${answered} of ${requests} requests answered`);
  const exit = await daemon.stop();
  assert.deepEqual(exit, { code: 0, signal: null, killed: false }, daemon.describe());

  const stderr = daemon.stderr;
  const file = await Deno.readTextFile(`${dir}/ntp.log`);
  const expected: [what: string, pattern: RegExp][] = [
    [
      "config warning",
      /\[WRN\] ntp·config: .*ntp\.conf:4:1: warning: unknown directive "frobnicate"/,
    ],
    ["start", /\[INF\] ntp·serve: ntp \d+\.\d+\.\d+ starting: config .*ntp\.conf; clock soft/],
    [
      "listen addresses",
      new RegExp(`\\[INF\\] ntp·serve: serving on 127\\.0\\.0\\.1:${listenPort} `),
    ],
    ["polling", new RegExp(`\\[INF\\] ntp·sync: polling ${upstream.replaceAll(".", "\\.")}`)],
    [
      "reachable",
      new RegExp(`\\[INF\\] ntp·sync: ${upstream.replaceAll(".", "\\.")} is reachable`),
    ],
    [
      "system peer",
      new RegExp(`\\[INF\\] ntp·sync: system peer is now ${upstream.replaceAll(".", "\\.")}`),
    ],
    [
      "synchronised",
      new RegExp(
        `\\[INF\\] ntp·sync: synchronised at stratum ${upstreamStratum + 1}, refid 127\\.0\\.0\\.1`,
      ),
    ],
    ["stop signal", /\[INF\] ntp·serve: SIGTERM received, stopping/],
    // A few seconds of samples may not know the frequency to the 0.3 ppm a restart trusts a
    // drift file with: then the exit says why it is not written.
    [
      "drift file write",
      /\[INF\] ntp·sync: frequency -?\d+\.\d{3} ppm (written to .*ntp\.drift|not written to .*ntp\.drift: known only to \+-\d+\.\d{3} ppm)/,
    ],
    [
      "traffic summary",
      /\[INF\] ntp·report: traffic since the start \(\d+ s\): received \d+, served \d+, dropped 0, KoD sent 0, control requests 0/,
    ],
    ["stopped", /\[INF\] ntp·serve: stopped$/m],
  ];
  for (const [what, pattern] of expected) {
    assert.match(stderr, pattern, `stderr lacks the ${what} line\n${daemon.describe()}`);
    assert.match(file, pattern, `the log file lacks the ${what} line\n${file}`);
  }
  const served = Number(/traffic since the start .*, served (\d+),/.exec(stderr)?.[1]);
  assert.ok(served >= answered, `summary says served ${served}, the test got ${answered} replies`);

  // The file holds exactly the log lines of stderr (stderr may also carry other output).
  const stderrLogLines = stderr.split("\n").filter((line) => logLine.test(line));
  assert.deepEqual(file.trimEnd().split("\n"), stderrLogLines);
  for (const text of [stderr, file]) assert.ok(!text.includes("\x1b"), "colour codes found");
  // Nothing per packet at info level: far fewer lines than the requests answered.
  assert.ok(
    stderrLogLines.length < 20,
    `${stderrLogLines.length} log lines for ${answered} packets\n${stderr}`,
  );
});
