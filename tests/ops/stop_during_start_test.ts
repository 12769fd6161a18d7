// End to end: SIGTERM while `ntp serve` is still starting (after its first log line, before every part runs) ends it cleanly, exit 0, as a SIGTERM later does.
import assert from "node:assert/strict";
import { ntpServeArgv } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { startDaemon } from "../support/processes.ts";

const repoRoot = new URL("../../", import.meta.url);

Deno.test("SIGTERM during the start (right after the first log line) stops ntp serve with exit 0, not by the signal", async () => {
  // A CI run caught the old way: startNtpServer is ready at "serving on", the stop signal
  // listeners came only after every part had started, and a SIGTERM between the two ended the
  // process by its default action (exit 143).
  const outcomes: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freeUdpPort("127.0.0.1");
    const upstream = await freeUdpPort("127.0.0.1");
    const { argv, dir } = await ntpServeArgv({
      config: [
        `listen = ["127.0.0.1:${port}"]`,
        "[[server]]",
        `address = "127.0.0.1"`,
        `port = ${upstream}`,
        "iburst = true",
        "",
      ].join("\n"),
      configFormat: "toml",
      listen: [`127.0.0.1:${port}`],
      clock: "soft",
    });
    try {
      await using daemon = await startDaemon(argv, {
        cwd: decodeURIComponent(repoRoot.pathname),
        env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        ready: { stderrPattern: /starting: config/ },
      });
      const startedAll = /serving on/.test(daemon.stderr) && /polling/.test(daemon.stderr);
      const exit = await daemon.stop({ graceMs: 5000 });
      outcomes.push(
        `attempt ${attempt}: code ${exit.code}, signal ${exit.signal}, killed ${exit.killed}` +
          (startedAll ? " (had already started everything)" : ""),
      );
      assert.equal(exit.killed, false, daemon.describe());
      assert.equal(exit.code, 0, `${outcomes.join("; ")}\n${daemon.describe()}`);
      assert.match(daemon.stderr, /SIGTERM (during start|received)/);
      assert.match(daemon.stderr, /\bstopped\b/);
      if (startedAll) assert.doesNotMatch(daemon.stderr, /during start/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  console.log(outcomes.join("\n"));
});

Deno.test("SIGTERM after the start is logged as received, not as one during start", async () => {
  const port = await freeUdpPort("127.0.0.1");
  const { argv, dir } = await ntpServeArgv({
    config: `listen = ["127.0.0.1:${port}"]\n`,
    configFormat: "toml",
    listen: [`127.0.0.1:${port}`],
    clock: "soft",
  });
  try {
    await using daemon = await startDaemon(argv, {
      cwd: decodeURIComponent(repoRoot.pathname),
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      ready: { stderrPattern: /serving on/ },
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const exit = await daemon.stop({ graceMs: 5000 });
    assert.equal(exit.code, 0, daemon.describe());
    assert.match(daemon.stderr, /SIGTERM received, stopping/);
    assert.doesNotMatch(daemon.stderr, /during start/);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
