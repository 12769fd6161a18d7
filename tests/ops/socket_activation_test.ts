// Socket activation with Debian's systemd-socket-activate: ntp serve serves the socket it is passed, and five restarts under 1000 requests/s lose no request (they wait in the kernel's queue).
import assert from "node:assert/strict";
import { activatedListen } from "../../src/daemon/socket_activation.ts";
import { parseListenFds } from "../../src/io/listen_fds.ts";
import { ntpServeArgv, startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { delay, startDaemon } from "../support/processes.ts";
import { buildManyClientsLoad, runManyClientsLoad } from "../support/many_clients_load.ts";
import { udpAnswers } from "../support/udp_probe.ts";

Deno.test("parseListenFds reads sd_listen_fds(3)'s variables: this process's only, names by position", () => {
  assert.deepEqual(parseListenFds({}, 7), { kind: "none" });
  assert.deepEqual(parseListenFds({ LISTEN_PID: "8", LISTEN_FDS: "1" }, 7), { kind: "none" });
  assert.deepEqual(
    parseListenFds({ LISTEN_PID: "7", LISTEN_FDS: "3", LISTEN_FDNAMES: "ntp::ntske" }, 7),
    {
      kind: "passed",
      fds: [{ fd: 3, name: "ntp" }, { fd: 4, name: "unknown" }, { fd: 5, name: "ntske" }],
    },
  );
  assert.equal(parseListenFds({ LISTEN_PID: "7", LISTEN_FDS: "x" }, 7).kind, "invalid");
  assert.equal(parseListenFds({ LISTEN_FDS: "1" }, 7).kind, "invalid");
});

Deno.test("activatedListen: passed UDP sockets replace the configured addresses; the portable back end refuses them", () => {
  const inherited = {
    datagram: [{ fd: 3, name: "ntp.socket", hostname: "::", port: 123, family: 6 as const }],
    ignored: ["descriptor 4 (ntske)"],
    problem: null,
  };
  const activated = activatedListen(inherited, {
    io: "fast",
    configured: [{ hostname: "0.0.0.0", port: 123, family: 4 }],
  });
  assert.deepEqual(activated?.listen, [{ hostname: "::", port: 123, family: 6, inheritedFd: 3 }]);
  const text = activated!.notes.map((n) => `${n.level}: ${n.text}`).join("\n");
  assert.match(text, /warning: socket activation: descriptor 4 \(ntske\) is not a UDP socket/);
  assert.match(
    text,
    /info: socket activation: serving the 1 UDP socket systemd passed \(\[::\]:123\)/,
  );
  assert.match(text, /0\.0\.0\.0:123 is not bound/);
  assert.throws(
    () => activatedListen(inherited, { io: "portable", configured: [] }),
    /only the fast I\/O back end/,
  );
  assert.equal(
    activatedListen({ datagram: [], ignored: [], problem: null }, { io: "fast", configured: [] }),
    null,
  );
});

/** The PIDs of `parent`'s children. */
async function childrenOf(parent: number): Promise<number[]> {
  const output = await new Deno.Command("pgrep", { args: ["-P", String(parent)], stdout: "piped" })
    .output();
  return new TextDecoder().decode(output.stdout).split(/\s+/).filter(Boolean).map(Number);
}

Deno.test({
  name:
    "systemd-socket-activate: ntp serve takes the passed socket, and 5 restarts under 1000 requests/s lose none",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const port = await freeUdpPort("127.0.0.1");
    const { argv, dir } = await ntpServeArgv({
      config: '[serve]\nlog_level = "info"\n',
      configFormat: "toml",
      listen: [],
      clock: "soft",
    });
    // systemd-socket-activate execs the shell with LISTEN_PID = the shell's PID; every daemon the
    // loop starts sets its own (sh -c ... exec keeps the PID), as systemd does for each start.
    const loop = 'while true; do sh -c \'LISTEN_PID=$$ exec "$0" "$@"\' "$@"; done';
    const daemonPids = new Set<number>();
    const activator = await startDaemon([
      "systemd-socket-activate",
      "--datagram",
      "-l",
      `127.0.0.1:${port}`,
      "-E",
      "NO_COLOR=1",
      "-E",
      "DENO_NO_UPDATE_CHECK=1",
      "/bin/sh",
      "-c",
      loop,
      "sh",
      ...argv,
    ], {
      // It execs the shell at the first datagram: the probe's request starts the first daemon.
      ready: {
        stderrPattern: /serving on/,
        probe: () => udpAnswers({ host: "127.0.0.1", port }, { waitMs: 300 }),
        timeoutMs: 30_000,
      },
    });
    const starts = () => (activator.stderr.match(/serving on/g) ?? []).length;
    const buildDir = await Deno.makeTempDir({ prefix: "ntpt-activation-" });
    try {
      assert.match(activator.stderr, /socket activation: serving the 1 UDP socket systemd passed/);
      assert.match(
        activator.stderr,
        new RegExp(`serving on 127\\.0\\.0\\.1:${port} \\(fast I/O, 1 worker`),
      );
      // The client is a process of its own (with an 8 MiB receive buffer), so that a stall of
      // this test process cannot lose replies and count them against the server.
      const loadSeconds = 15;
      const loadStarted = performance.now();
      const load = runManyClientsLoad(await buildManyClientsLoad(buildDir), {
        host: "127.0.0.1",
        port,
        addresses: 1,
        offset: 4_000_000,
        rate: 1000,
        seconds: loadSeconds,
      });
      await delay(1000);
      for (let restart = 1; restart <= 5; restart++) {
        const [daemon] = await childrenOf(activator.pid);
        assert.ok(daemon !== undefined, `no daemon running before restart ${restart}`);
        daemonPids.add(daemon);
        const before = starts();
        Deno.kill(daemon, "SIGTERM");
        const deadline = performance.now() + 30_000;
        while (starts() === before) {
          assert.ok(performance.now() < deadline, `restart ${restart} never served`);
          await delay(50);
        }
        await delay(500);
      }
      const restartsMs = performance.now() - loadStarted;
      const result = await load;
      console.log(
        `with socket activation: sent ${result.sent}, answered ${result.replies}; the 5 ` +
          `restarts took until ${(restartsMs / 1000).toFixed(1)} s of ${loadSeconds} s`,
      );
      assert.ok(restartsMs < loadSeconds * 1000, "the restarts outlasted the load");
      assert.ok(result.sent >= 14_000, result.output);
      assert.equal(
        result.sent - result.replies,
        0,
        `lost ${
          result.sent - result.replies
        } of ${result.sent} across 5 restarts\n${activator.describe()}`,
      );
      assert.equal((activator.stderr.match(/SIGTERM received, stopping/g) ?? []).length, 5);
      assert.doesNotMatch(activator.stderr, /\[ERR\]|uncaught/i);
    } finally {
      await Deno.remove(buildDir, { recursive: true }).catch(() => {});
      // The loop first (it would start another daemon), then the daemon it runs.
      const running = await childrenOf(activator.pid);
      Deno.kill(activator.pid, "SIGKILL");
      for (const pid of [...running, ...daemonPids]) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch { /* gone */ }
      }
      await activator.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "without socket activation the same 5 restarts under 1000 requests/s lose requests (the client above can see a loss)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const port = await freeUdpPort("127.0.0.1");
    const start = () =>
      startNtpServer({
        config: '[serve]\nlog_level = "info"\n',
        configFormat: "toml",
        listen: [`127.0.0.1:${port}`],
        clock: "soft",
      });
    let server = await start();
    const buildDir = await Deno.makeTempDir({ prefix: "ntpt-activation-" });
    try {
      const load = runManyClientsLoad(await buildManyClientsLoad(buildDir), {
        host: "127.0.0.1",
        port,
        addresses: 1,
        offset: 4_000_001,
        rate: 1000,
        seconds: 15,
      });
      await delay(1000);
      for (let restart = 1; restart <= 5; restart++) {
        await server[Symbol.asyncDispose]();
        server = await start();
        await delay(500);
      }
      const result = await load;
      console.log(`without socket activation: sent ${result.sent}, answered ${result.replies}`);
      assert.ok(
        result.sent > result.replies,
        `nothing lost across plain restarts: ${result.output}`,
      );
    } finally {
      await server[Symbol.asyncDispose]();
      await Deno.remove(buildDir, { recursive: true }).catch(() => {});
    }
  },
});
