// End to end: `[serve] log_level` in the config sets what a running `ntp serve` logs, and `--log-level` overrides it.
import assert from "node:assert/strict";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";

/** A config whose log file cannot be opened: the daemon says so at warning level. */
const config = `logfile = "/nonexistent-ntp-log-level-test/ntp.log"

[serve]
log_level = "warning"
`;

async function stderrOfRun(extraArgs: string[]): Promise<string> {
  const port = await freeUdpPort("127.0.0.1");
  await using server = await startNtpServer({
    config,
    configFormat: "toml",
    listen: [`127.0.0.1:${port}`],
    clock: "soft",
    extraArgs,
  });
  const exit = await server.stop(); // first, so every line is in; disposal then removes the files
  assert.deepEqual(exit, { code: 0, signal: null, killed: false }, server.describe());
  return server.stderr;
}

Deno.test("[serve] log_level = warning keeps info lines out; --log-level info brings them back", async () => {
  const quiet = await stderrOfRun([]);
  assert.match(quiet, /\[WRN\] ntp·serve: cannot write the log file/, quiet);
  assert.doesNotMatch(quiet, /\[INF\]/, quiet);

  const overridden = await stderrOfRun(["--log-level", "info"]);
  assert.match(overridden, /\[WRN\] ntp·serve: cannot write the log file/, overridden);
  assert.match(overridden, /\[INF\] ntp·serve: serving on 127\.0\.0\.1:\d+ /, overridden);
});
