// Lean start, measured: how long `ntp serve` takes from exec to its first reply, how long `ntp
// version` and `ntp status` take, and how much memory an idle `ntp serve` holds, each beside a
// baseline measured in the same run (an empty Deno program, a 10-line Deno UDP echo server, Deno
// with empty workers, and chronyd when it is installed).
//
// usage: deno run -A scripts/measure_start.ts [--runs N] [--idle-s SECONDS] [--json]
//
// Every daemon runs on 127.0.0.1 under `setpriv --bounding-set=-sys_time` with --clock soft: it
// cannot touch this host's clock. `ntp serve` runs with the shipped conf/ntp.toml, its driftfile
// and logfile moved into a temporary directory (the upstreams are whatever conf/ntp.toml names;
// without DNS they stay unresolved, which changes nothing at start).
//
// Targets (issue 18): first reply <= 3x the echo server's; version and status <= 2x the empty
// program; idle RSS <= 64 MiB with one worker and <= 80 MiB with two. The script prints each
// figure, its baseline and the ratio; it exits 0 whatever the figures are (it measures, it does
// not judge a build).
import dgram from "node:dgram";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "9" },
    "idle-s": { type: "string", default: "10" },
    json: { type: "boolean", default: false },
  },
});
const runs = Number(flags.runs);
const idleSeconds = Number(flags["idle-s"]);
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs: a whole number >= 1");
if (!(idleSeconds > 0)) throw new Error("--idle-s: a number of seconds > 0");

const repo = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
const deno = Deno.execPath();
const denoJson = JSON.parse(await Deno.readTextFile(`${repo}/deno.json`));
/** The permission flags of `deno task ntp`, exactly. */
const ntpPermissions: string[] = (denoJson.tasks.ntp as string).split(/\s+/).filter((word) =>
  word.startsWith("--allow-")
);
const work = await Deno.makeTempDir({ prefix: "ntp-measure-start-" });
const children = new Set<Deno.ChildProcess>();

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function nextPort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

/** Wall time from spawn to exit of one command, milliseconds. */
async function timeRun(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" })
    .output();
  const elapsed = performance.now() - started;
  if (output.code > 1) {
    throw new Error(
      `${command} ${args.join(" ")} exited ${output.code}: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return elapsed;
}

/** A 48-byte NTP version 4 client request. */
const request = new Uint8Array(48);
request[0] = 0x23;

/**
 * Spawns a server and sends it a request every millisecond until something answers; returns the
 * milliseconds from spawn to the first answer and the running child (the caller stops it).
 */
async function timeFirstReply(
  command: string,
  args: string[],
  port: number,
): Promise<{ ms: number; child: Deno.ChildProcess }> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const started = performance.now();
  const child = new Deno.Command(command, { args, stdout: "null", stderr: "null" }).spawn();
  children.add(child);
  try {
    const ms = await new Promise<number>((resolve, reject) => {
      const sender = setInterval(() => socket.send(request, port, "127.0.0.1"), 1);
      const giveUp = setTimeout(() => {
        clearInterval(sender);
        reject(new Error(`${command} ${args.join(" ")}: no reply within 20 s`));
      }, 20_000);
      socket.once("message", () => {
        const elapsed = performance.now() - started;
        clearInterval(sender);
        clearTimeout(giveUp);
        resolve(elapsed);
      });
    });
    return { ms, child };
  } catch (error) {
    await stop(child);
    throw error;
  } finally {
    socket.close();
  }
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }, 5000);
  await child.status;
  clearTimeout(killer);
  children.delete(child);
}

/** VmRSS of a process, MiB. */
async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

const guarded = (program: string[]): [string, string[]] => [
  "setpriv",
  ["--bounding-set=-sys_time", "--", ...program],
];

async function writeFixtures(): Promise<{ config: string; chronyConf: (port: number) => string }> {
  await Deno.writeTextFile(`${work}/empty.ts`, "\n");
  await Deno.writeTextFile(
    `${work}/udp_echo.ts`,
    [
      'import dgram from "node:dgram";',
      'const socket = dgram.createSocket("udp4");',
      'socket.on("message", (message, remote) => {',
      "  socket.send(message, remote.port, remote.address);",
      "});",
      'socket.bind(Number(Deno.args[0]), "127.0.0.1");',
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    `${work}/two_workers.ts`,
    [
      'const source = URL.createObjectURL(new Blob(["self.onmessage = () => {};"], { type: "text/javascript" }));',
      'const workers = [new Worker(source, { type: "module" }), new Worker(source, { type: "module" })];',
      'console.log("READY", workers.length);',
      "setInterval(() => {}, 1000);",
      "",
    ].join("\n"),
  );
  const shipped = await Deno.readTextFile(`${repo}/conf/ntp.toml`);
  const config = `${work}/ntp.toml`;
  await Deno.writeTextFile(
    config,
    shipped
      .replace(/^driftfile = .*$/m, `driftfile = "${work}/drift"`)
      .replace(/^logfile = .*$/m, `logfile = "${work}/ntp.log"`),
  );
  const chronyConf = (port: number): string => {
    const path = `${work}/chrony-${port}.conf`;
    Deno.writeTextFileSync(
      path,
      [
        `port ${port}`,
        "bindaddress 127.0.0.1",
        "allow 127.0.0.1",
        "cmdport 0",
        "local stratum 10",
        `pidfile ${work}/chronyd-${port}.pid`,
        `driftfile ${work}/chrony.drift`,
        "",
      ].join("\n"),
    );
    return path;
  };
  return { config, chronyConf };
}

async function haveCommand(name: string): Promise<boolean> {
  try {
    const result = await new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return result.success;
  } catch {
    return false;
  }
}

interface Row {
  readonly what: string;
  readonly value: number;
  readonly unit: "ms" | "MiB";
  readonly baseline?: string;
  readonly ratio?: number;
  readonly target?: string;
  readonly met?: boolean;
}

async function main(): Promise<Row[]> {
  const { config, chronyConf } = await writeFixtures();
  const rows: Row[] = [];
  const serveArgs = (port: number, extra: string[] = []) => [
    deno,
    "run",
    ...ntpPermissions,
    `${repo}/main.ts`,
    "serve",
    "--config",
    config,
    "--listen",
    `127.0.0.1:${port}`,
    "--clock",
    "soft",
    ...extra,
  ];

  // Warm Deno's module and transpile caches once, as an installed program has them.
  await timeRun(deno, ["run", `${work}/empty.ts`]);
  await timeRun(deno, ["run", ...ntpPermissions, `${repo}/main.ts`, "version"]);
  {
    const port = nextPort();
    const warm = await timeFirstReply(...guarded(serveArgs(port)), port);
    await stop(warm.child);
  }

  const empty: number[] = [];
  const version: number[] = [];
  for (let i = 0; i < runs; i++) {
    empty.push(await timeRun(deno, ["run", `${work}/empty.ts`]));
    version.push(await timeRun(deno, ["run", ...ntpPermissions, `${repo}/main.ts`, "version"]));
  }
  const emptyMs = median(empty);
  rows.push({ what: "empty Deno program (exec to exit)", value: emptyMs, unit: "ms" });
  const versionMs = median(version);
  rows.push({
    what: "ntp version",
    value: versionMs,
    unit: "ms",
    baseline: "empty program",
    ratio: versionMs / emptyMs,
    target: "<= 2x",
    met: versionMs / emptyMs <= 2,
  });

  // ntp status against a running ntp serve.
  {
    const port = nextPort();
    const server = await timeFirstReply(...guarded(serveArgs(port)), port);
    try {
      const status: number[] = [];
      for (let i = 0; i < runs; i++) {
        status.push(
          await timeRun(deno, [
            "run",
            ...ntpPermissions,
            `${repo}/main.ts`,
            "status",
            "--server",
            `127.0.0.1:${port}`,
          ]),
        );
      }
      const statusMs = median(status);
      rows.push({
        what: "ntp status (against a running ntp serve)",
        value: statusMs,
        unit: "ms",
        baseline: "empty program",
        ratio: statusMs / emptyMs,
        target: "<= 2x",
        met: statusMs / emptyMs <= 2,
      });
    } finally {
      await stop(server.child);
    }
  }

  // Exec to first reply.
  const echo: number[] = [];
  const serve: number[] = [];
  const chrony: number[] = [];
  const withChrony = await haveCommand("chronyd");
  for (let i = 0; i < runs; i++) {
    let port = nextPort();
    const echoRun = await timeFirstReply(
      deno,
      ["run", "--allow-net", `${work}/udp_echo.ts`, String(port)],
      port,
    );
    echo.push(echoRun.ms);
    await stop(echoRun.child);
    port = nextPort();
    const serveRun = await timeFirstReply(...guarded(serveArgs(port)), port);
    serve.push(serveRun.ms);
    await stop(serveRun.child);
    if (withChrony) {
      port = nextPort();
      const chronyRun = await timeFirstReply(
        ...guarded(["chronyd", "-x", "-d", "-f", chronyConf(port)]),
        port,
      );
      chrony.push(chronyRun.ms);
      await stop(chronyRun.child);
    }
  }
  const echoMs = median(echo);
  rows.push({ what: "10-line Deno UDP echo: exec to first reply", value: echoMs, unit: "ms" });
  const serveMs = median(serve);
  rows.push({
    what: "ntp serve: exec to first reply",
    value: serveMs,
    unit: "ms",
    baseline: "UDP echo",
    ratio: serveMs / echoMs,
    target: "<= 3x",
    met: serveMs / echoMs <= 3,
  });
  if (withChrony) {
    rows.push({ what: "chronyd -x: exec to first reply", value: median(chrony), unit: "ms" });
  }

  // Idle memory.
  {
    const child = new Deno.Command(deno, {
      args: ["run", `${work}/two_workers.ts`],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    children.add(child);
    const reader = child.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    rows.push({
      what: "Deno with two empty workers: RSS",
      value: await rssMiB(child.pid),
      unit: "MiB",
    });
    await stop(child);
  }
  for (const workers of [1, 2]) {
    const port = nextPort();
    const run = await timeFirstReply(
      ...guarded(serveArgs(port, ["--workers", String(workers)])),
      port,
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
      const rss = await rssMiB(run.child.pid);
      const limit = workers === 1 ? 64 : 80;
      rows.push({
        what: `ntp serve, ${workers} worker${workers === 1 ? "" : "s"}, idle ${idleSeconds} s: RSS`,
        value: rss,
        unit: "MiB",
        target: `<= ${limit} MiB`,
        met: rss <= limit,
      });
    } finally {
      await stop(run.child);
    }
  }
  if (withChrony) {
    const port = nextPort();
    const run = await timeFirstReply(
      ...guarded(["chronyd", "-x", "-d", "-f", chronyConf(port)]),
      port,
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      rows.push({ what: "chronyd -x, idle: RSS", value: await rssMiB(run.child.pid), unit: "MiB" });
    } finally {
      await stop(run.child);
    }
  }
  return rows;
}

try {
  const rows = await main();
  if (flags.json) {
    console.log(JSON.stringify({ runs, idleSeconds, deno: Deno.version.deno, rows }));
  } else {
    console.log(`Deno ${Deno.version.deno}; medians of ${runs} runs; idle ${idleSeconds} s`);
    for (const row of rows) {
      const figure = `${row.value.toFixed(row.unit === "ms" ? 1 : 1)} ${row.unit}`;
      const ratio = row.ratio === undefined ? "" : `  ${row.ratio.toFixed(2)}x ${row.baseline}`;
      const target = row.target === undefined
        ? ""
        : `  target ${row.target}: ${row.met ? "met" : "MISSED"}`;
      console.log(`${row.what.padEnd(52)} ${figure.padStart(10)}${ratio}${target}`);
    }
  }
} finally {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }
  await Deno.remove(work, { recursive: true });
}
