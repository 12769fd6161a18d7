// End to end: SIGTERM while `ntp serve` is still starting (after its "starting" line, before every part runs) ends it cleanly, exit 0, as a SIGTERM later does, and is logged as such.
import assert from "node:assert/strict";
import { ntpServeArgv } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { startDaemon } from "../support/processes.ts";

const repoRoot = new URL("../../", import.meta.url);

/** `ntp serve` (soft clock) with one silent upstream, ready when stderr matches `ready`. */
async function startServe(ready: RegExp, upstreamOptions: readonly string[] = []) {
  const port = await freeUdpPort("127.0.0.1");
  const { argv, dir } = await ntpServeArgv({
    config: [
      `listen = ["127.0.0.1:${port}"]`,
      "[[server]]",
      `address = "127.0.0.1"`,
      `port = ${await freeUdpPort("127.0.0.1")}`,
      ...upstreamOptions,
      "",
    ].join("\n"),
    configFormat: "toml",
    listen: [`127.0.0.1:${port}`],
    clock: "soft",
  });
  try {
    const daemon = await startDaemon(argv, {
      cwd: decodeURIComponent(repoRoot.pathname),
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      ready: { stderrPattern: ready, timeoutMs: 30_000 },
    });
    return { daemon, dir };
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

Deno.test('SIGTERM during the start (right after the "starting" line) stops ntp serve with exit 0, not by the signal', async () => {
  // A CI run caught the old way: startNtpServer is ready at "serving on", the stop signal
  // listeners came only after every part had started, and a SIGTERM between the two ended the
  // process by its default action (exit 143).
  const outcomes: string[] = [];
  let duringStart = 0;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const { daemon: started, dir } = await startServe(/starting: config/, ["iburst = true"]);
    try {
      await using daemon = started;
      // "polling" is logged by the last part to start, with no await before the hand-over.
      const startedAll = /serving on/.test(daemon.stderr) && /polling/.test(daemon.stderr);
      const exit = await daemon.stop({ graceMs: 20_000 });
      outcomes.push(
        `attempt ${attempt}: code ${exit.code}, signal ${exit.signal}, killed ${exit.killed}` +
          (startedAll ? " (had already started everything)" : ""),
      );
      assert.equal(exit.killed, false, daemon.describe());
      assert.equal(exit.code, 0, `${outcomes.join("; ")}\n${daemon.describe()}`);
      assert.match(daemon.stderr, /SIGTERM (during start|received)/);
      assert.match(daemon.stderr, /\bstopped\b/);
      if (startedAll) assert.doesNotMatch(daemon.stderr, /during start/);
      if (/SIGTERM during start: stopping once started/.test(daemon.stderr)) duringStart++;
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  console.log(outcomes.join("\n"));
  // The readiness poll (100 ms) lands within the start's 200-300 ms most times: else this test
  // would prove nothing.
  assert.ok(duringStart >= 1, `no SIGTERM landed during the start:\n${outcomes.join("\n")}`);
});

Deno.test("SIGTERM after the start is logged as received, not as one during start", async () => {
  const { daemon: started, dir } = await startServe(/polling/);
  try {
    await using daemon = started;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exit = await daemon.stop({ graceMs: 20_000 });
    assert.equal(exit.code, 0, daemon.describe());
    assert.match(daemon.stderr, /SIGTERM received, stopping/);
    assert.doesNotMatch(daemon.stderr, /during start/);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
