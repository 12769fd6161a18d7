// `ntp serve` releases everything it started when a later stage fails (or at a stop signal): each part counted as it is started and closed, with real responders, sockets and workers.
import assert from "node:assert/strict";
import { runServe, type ServeParts } from "../../src/daemon/serve.ts";
import { attachControlServer } from "../../src/daemon/control_server.ts";
import { MetricsBindError, startMetricsServer } from "../../src/daemon/metrics_server.ts";
import { startPeriodicReports } from "../../src/daemon/periodic_reports.ts";
import { startResponders } from "../../src/daemon/responders.ts";
import { BindError } from "../../src/io/bind_error.ts";
import { ListenSetupError } from "../../src/io/listen_setup_error.ts";
import { startTimeKeeping } from "../../src/daemon/time_keeping.ts";
import { UpstreamSocketError } from "../../src/daemon/upstream_socket_error.ts";

/**
 * Counted by a shell (Deno wants --allow-all to read /proc/self, which the test task does not
 * grant): the open sockets of this process, and its worker threads (Deno names them worker-N;
 * each responder runs in one).
 */
function procCount(script: string): number {
  const output = new Deno.Command("sh", {
    args: ["-c", script.replaceAll("PID", String(Deno.pid))],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return Number(new TextDecoder().decode(output.stdout).trim());
}

/**
 * Sockets only: the runtime opens descriptors of its own now and then (a CI run once saw 3 more
 * descriptors appear during a start that failed before anything opened, and stay for 10 s), while
 * what `serve` opens and must close are sockets (UDP, the control and metrics listeners); a
 * leaked worker shows in the thread count.
 */
function openSockets(): number {
  return procCount("ls -l /proc/PID/fd | grep -c 'socket:'");
}

/** Every open descriptor and what it is (socket:[inode], pipe:[inode], a path): for a failure message. */
function descriptorTargets(): string[] {
  const output = new Deno.Command("sh", {
    args: ["-c", `cd /proc/${Deno.pid}/fd && for f in *; do echo "$f $(readlink $f)"; done`],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(output.stdout).trim().split("\n");
}

function threads(): number {
  return procCount("cat /proc/PID/task/*/comm 2>/dev/null | grep -c '^worker-'");
}

/**
 * Waits until the counts are back to what they were and stay there (worker threads end a little
 * after terminate()), at most 10 s; the caller then asserts them.
 */
async function settle(expected: { readonly sockets: number; readonly threads: number }) {
  let steady = 0; // the counts pass through the expected ones while threads wind down: 10 in a row
  for (let i = 0; i < 500 && steady < 10; i++) {
    // At most as many as before: sockets of an earlier run may close meanwhile (never more).
    const back = openSockets() <= expected.sockets &&
      threads() === expected.threads;
    steady = back ? steady + 1 : 0;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the socket and thread counts hold still for 10 looks 20 ms apart (at most 5 s). */
async function steady(): Promise<void> {
  let last = "";
  let same = 0;
  for (let i = 0; i < 250 && same < 10; i++) {
    const now = `${openSockets()}/${threads()}`;
    same = now === last ? same + 1 : 0;
    last = now;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The real parts, each counted when started and when closed; `failAt` makes one throw. */
function countedParts(failAt: string | null) {
  const started: string[] = [];
  const closed: string[] = [];
  const seen = { workers: 0, sockets: 0 };
  const stop = Promise.withResolvers<string>();
  const parts: ServeParts = {
    startResponders: async (options) => {
      if (failAt === "responders") {
        throw new BindError("127.0.0.1:1", { code: "EADDRINUSE", port: 1 });
      }
      if (failAt === "socketOption") {
        throw new ListenSetupError("127.0.0.1:1", "SO_RCVTIMEO", "Protocol not available");
      }
      const responders = await startResponders(options);
      started.push("responders");
      seen.workers = threads();
      seen.sockets = openSockets();
      return {
        ...responders,
        close: async () => {
          closed.push("responders");
          await responders.close();
        },
      } as typeof responders;
    },
    attachControlServer: (responders, options) => {
      const control = attachControlServer(responders, options);
      started.push("control");
      return {
        close: () => {
          closed.push("control");
          control.close();
        },
      };
    },
    startMetricsServer: (options) => {
      if (failAt === "metrics") {
        return Promise.reject(new MetricsBindError("metrics: address in use (test)"));
      }
      const metrics = startMetricsServer(options);
      started.push("metrics");
      return Promise.resolve({
        ...metrics,
        close: async () => {
          closed.push("metrics");
          await metrics.close();
        },
      });
    },
    startTimeKeeping: async (options) => {
      if (failAt === "timekeeping") {
        throw new UpstreamSocketError("cannot open the IPv6 upstream socket: test");
      }
      const timeKeeping = await startTimeKeeping(options);
      started.push("timekeeping");
      const close = async () => {
        closed.push("timekeeping");
        await timeKeeping.close();
      };
      return {
        synchronised: () => timeKeeping.synchronised(),
        view: () => timeKeeping.view(),
        reconfigure: (config, change) => timeKeeping.reconfigure(config, change),
        close,
        [Symbol.asyncDispose]: close,
      };
    },
    startPeriodicReports: (sources, options) => {
      const reports = startPeriodicReports(sources, options);
      started.push("reports");
      return {
        reportNow: reports.reportNow,
        stop: () => {
          closed.push("reports");
          reports.stop();
        },
      };
    },
    startNtsService: async (config, wiring) => {
      const { startNtsService } = await import("../../src/daemon/nts_service.ts");
      const nts = await startNtsService(config, wiring);
      started.push("nts");
      const close = async () => {
        closed.push("nts");
        await nts.close();
      };
      return { ...nts, close, [Symbol.asyncDispose]: close };
    },
    waitForStop: () => {
      if (failAt === null) setTimeout(() => stop.resolve("SIGTERM"), 300);
      return stop.promise;
    },
  };
  return { parts, started, closed, seen };
}

async function configFile(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-serve-release-" });
  const path = `${dir}/ntp.toml`;
  await Deno.writeTextFile(
    path,
    [
      `listen = ["127.0.0.1:0"]`,
      "",
      "[[server]]",
      `address = "127.0.0.1"`,
      "port = 9",
      "",
      "[metrics]",
      `listen = "127.0.0.1:0"`,
      "",
      "[serve]",
      "workers = 2",
      `clock = "soft"`,
      "",
    ].join("\n"),
  );
  return path;
}

// One whole run first: libraries opened once per process (libc, the logger) are not leaks.
// The daemon runs inside this test process, which may hold CAP_SYS_TIME: only the soft clock
// (asserted by the config and by --clock) keeps it away from the kernel clock.
{
  const path = await configFile();
  try {
    await runServe({ configPath: path, listen: [], clock: "soft" }, countedParts(null).parts);
  } finally {
    await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  }
  await steady();
}

for (const failAt of ["responders", "socketOption", "metrics", "timekeeping", null] as const) {
  Deno.test(
    failAt === null
      ? "a stop signal releases every part in reverse order of start: no socket, worker or timer left"
      : `a failure starting the ${failAt} releases every part started before it: no socket, worker or timer left`,
    async () => {
      const path = await configFile();
      // The baseline only once the previous run's sockets and threads stopped changing (a socket
      // or a worker can close a moment after its test ended).
      await steady();
      const sockets = openSockets();
      const targetsBefore = descriptorTargets();
      const threadCount = threads();
      const { parts, started, closed, seen } = countedParts(failAt);
      try {
        const code = await runServe({ configPath: path, listen: [], clock: "soft" }, parts);
        assert.equal(code, failAt === null ? 0 : 1);
      } finally {
        await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      }
      assert.deepEqual(closed, [...started].reverse(), `started ${started}, closed ${closed}`);
      const expected = {
        responders: [],
        socketOption: [],
        metrics: ["responders", "control"],
        timekeeping: ["responders", "control", "metrics"],
      } as const;
      if (failAt !== null) assert.deepEqual(started, expected[failAt]);
      else {assert.deepEqual(started, [
          "responders",
          "control",
          "metrics",
          "timekeeping",
          "reports",
        ]);}
      await settle({ sockets, threads: threadCount });
      const left = openSockets();
      if (left > sockets) {
        const before = new Set(targetsBefore);
        const added = descriptorTargets().filter((t) => !before.has(t));
        assert.fail(
          `sockets left open: ${left} after, ${sockets} before; new descriptors: ${
            added.join(", ")
          }`,
        );
      }
      assert.equal(threads(), threadCount, "worker threads left running");
      assert.equal(threadCount, 0, "workers were running before the start");
      if (failAt !== "responders" && failAt !== "socketOption") {
        // The checks can fail: while running there were workers and more sockets.
        assert.equal(seen.workers, 2);
        assert.ok(seen.sockets > sockets, `${seen.sockets} sockets while running`);
      }
      // Timers and Deno resources left behind fail the test through Deno's sanitizers.
    },
  );
}
