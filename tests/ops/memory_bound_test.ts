// Memory bounded by configuration under hostile input: a million distinct client addresses fill the client tables to `discard monitor` and no further, and the daemon's RSS does not grow with them; real ntpq monstats shows the tables.
import assert from "node:assert/strict";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { buildManyClientsLoad, rssMiB, runManyClientsLoad } from "../support/many_clients_load.ts";
import { runNtpq } from "../support/control_clients.ts";

/** The value of one `ntpq -c monstats` line ("addresses in use:  40000"). */
function monstat(stdout: string, legend: string): number {
  const line = stdout.split("\n").find((l) => l.startsWith(`${legend}:`));
  const match = line === undefined ? null : /:\s+(\d+)\s*$/.exec(line);
  if (match === null) throw new Error(`no "${legend}" in:\n${stdout}`);
  return Number(match[1]);
}

Deno.test({
  name:
    "1M distinct client addresses fill the client tables to discard monitor and no further; RSS stays flat (ntpq monstats)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "ntpt-memory-" });
    try {
      const load = await buildManyClientsLoad(dir);
      const port = await freeUdpPort("127.0.0.1");
      const monitor = 20_000;
      await using server = await startNtpServer({
        config: `[discard]\nmonitor = ${monitor}\n`,
        configFormat: "toml",
        listen: [`127.0.0.1:${port}`],
        clock: "soft",
        extraArgs: ["--workers", "2"],
      });
      const target = { host: "127.0.0.1", port };
      // Warm-up: the tables fill once (their pages are touched), the code paths are compiled.
      const warm = await runManyClientsLoad(load, {
        ...target,
        addresses: 3 * monitor,
        rate: 30_000,
        seconds: 3,
      });
      assert.ok(warm.replies > 0.9 * warm.sent, warm.output);
      const before = await rssMiB(server.pid);
      // A million more, none seen before.
      const flood = await runManyClientsLoad(load, {
        ...target,
        addresses: 1_000_000,
        offset: 3 * monitor,
        rate: 100_000,
        seconds: 10,
      });
      const after = await rssMiB(server.pid);
      const stats = await runNtpq(target, ["monstats"]);
      console.log(
        `RSS ${before.toFixed(1)} MiB after the warm-up, ${after.toFixed(1)} MiB after ` +
          `${flood.sent} requests from 1M addresses (${flood.replies} answered)\n${stats.stdout}`,
      );
      assert.ok(flood.sent >= 800_000, flood.output);
      assert.equal(monstat(stats.stdout, "maximum addresses"), 2 * monitor, stats.stdout);
      assert.equal(monstat(stats.stdout, "addresses in use"), 2 * monitor, stats.stdout);
      assert.ok(
        monstat(stats.stdout, "alloc: recycle full") >= flood.replies - 2 * monitor,
        stats.stdout,
      );
      // The tables were allocated whole at start: nothing grows with the addresses.
      assert.ok(after - before < 8, `RSS grew ${(after - before).toFixed(1)} MiB`);
      assert.ok(server.running, server.describe());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
