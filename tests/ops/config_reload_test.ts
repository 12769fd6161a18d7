// SIGHUP re-reads the config of a running `ntp serve`: upstreams swapped, restrict rules and log level applied, no request lost meanwhile; an invalid file is refused with file:line:col and the old config stays; keys that need a restart say so.
import { waitFor } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { startFakeNtpServer } from "../support/fake_ntp_server.ts";
import { buildManyClientsLoad, runManyClientsLoad } from "../support/many_clients_load.ts";
import { udpAnswers } from "../support/udp_probe.ts";

/** How these tests poll the daemon. */
const poll = { timeoutMs: 10_000, intervalMs: 50 };

function configText(options: {
  readonly upstreamPort: number;
  readonly ignoreV6: boolean;
  readonly logLevel: string;
}): string {
  return [
    "[serve]",
    `log_level = "${options.logLevel}"`,
    "",
    "[[server]]",
    `address = "127.0.0.1:${options.upstreamPort}"`,
    "iburst = true",
    "minpoll = 3",
    "maxpoll = 3",
    "",
    ...(options.ignoreV6
      ? ["[[restrict]]", 'address = "::1"', "ipv6 = true", 'flags = ["ignore"]', ""]
      : []),
  ].join("\n");
}

function answers(host: string, port: number): Promise<boolean> {
  return udpAnswers({ host, port }, { waitMs: 400 });
}

Deno.test({
  name:
    "SIGHUP: upstreams swapped, restrict rules and log level applied with no request lost; an invalid config is refused (file:line:col) and the old one kept; a drift file change waits for a restart",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using upstreamA = await startFakeNtpServer({ behaviour: "ok" });
    await using upstreamB = await startFakeNtpServer({ behaviour: "ok" });
    const port = await freeUdpPort("127.0.0.1", { alsoFreeOn: "::1" });
    await using server = await startNtpServer({
      config: configText({ upstreamPort: upstreamA.port, ignoreV6: false, logLevel: "info" }),
      configFormat: "toml",
      listen: [`127.0.0.1:${port}`, `[::1]:${port}`],
      clock: "soft",
    });
    await waitFor("the first upstream to be polled", () => upstreamA.answered >= 2, poll);
    assert.ok(await answers("::1", port), "IPv6 answered before the reload");
    // The client is a process of its own (8 MiB receive buffer): a stall of this test process
    // cannot lose replies and count them against the server.
    const buildDir = await Deno.makeTempDir({ prefix: "ntpt-reload-" });
    const loadSeconds = 20;
    const loadStarted = performance.now();
    const load = runManyClientsLoad(await buildManyClientsLoad(buildDir), {
      host: "127.0.0.1",
      port,
      addresses: 1,
      offset: 4_000_002,
      rate: 500,
      seconds: loadSeconds,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));

      // 1. Swap the upstream, ignore ::1, log at debug.
      await Deno.writeTextFile(
        server.configFile,
        configText({ upstreamPort: upstreamB.port, ignoreV6: true, logLevel: "debug" }),
      );
      Deno.kill(server.pid, "SIGHUP");
      await waitFor("the reload", () => /reloaded: /.test(server.stderr), poll);
      assert.match(server.stderr, /upstreams added: 127\.0\.0\.1/);
      assert.match(server.stderr, /upstreams removed: 127\.0\.0\.1/);
      assert.match(server.stderr, /log level debug/);
      assert.match(server.stderr, /no longer configured: not polled any more/);
      await waitFor("the new upstream to be polled", () => upstreamB.answered >= 2, poll);
      const polledA = upstreamA.answered;
      assert.equal(await answers("::1", port), false, "::1 ignored after the reload");
      assert.ok(await answers("127.0.0.1", port), "127.0.0.1 still answered");

      // 2. A broken file: refused with its position, the running config stays.
      const broken = configText({ upstreamPort: upstreamA.port, ignoreV6: false, logLevel: "info" })
        .replace("minpoll = 3", "minpoll = 99");
      await Deno.writeTextFile(server.configFile, broken);
      Deno.kill(server.pid, "SIGHUP");
      await waitFor("the refusal", () => /not reloaded: it has errors/.test(server.stderr), poll);
      assert.match(server.stderr, /ntp\.toml:\d+:\d+.*minpoll/);
      assert.equal(await answers("::1", port), false, "::1 still ignored: the old config stays");

      // 3. A drift file named: kept until a restart, and said so. The listen addresses come
      // from --listen, so the file's do not count.
      await Deno.writeTextFile(
        server.configFile,
        `driftfile = "${server.configFile}.drift"\nlisten = ["127.0.0.1:${port + 1}"]\n` +
          configText({ upstreamPort: upstreamB.port, ignoreV6: true, logLevel: "debug" }),
      );
      Deno.kill(server.pid, "SIGHUP");
      await waitFor(
        "the restart warning",
        () => /NOT applied until a restart.*driftfile/.test(server.stderr),
        poll,
      );
      assert.doesNotMatch(server.stderr, /NOT applied until a restart.*listen/);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(upstreamA.answered, polledA, "the removed upstream is not polled any more");
      assert.ok(server.running, server.describe());
      assert.ok(
        performance.now() - loadStarted < loadSeconds * 1000,
        "the reloads outlasted the load",
      );
    } finally {
      const result = await load;
      await Deno.remove(buildDir, { recursive: true }).catch(() => {});
      assert.ok(result.sent >= 9000, result.output);
      assert.equal(
        result.sent - result.replies,
        0,
        `lost ${result.sent - result.replies} of ${result.sent} across three reloads`,
      );
    }
  },
});
