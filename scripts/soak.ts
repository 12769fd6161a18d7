// Soak benchmark: `ntp serve` for N minutes at half its measured maximum rate, from 100k IPv4 and 100k IPv6 client addresses, a flood source and a polite monitor, with its upstreams taking turns to go silent; reports RSS, the monitor's losses and p99 per minute, and errors in the log.
//
// Usage (root: it makes a network namespace; nothing on the host changes):
//   deno run -A scripts/soak.ts [--minutes 10] [--rate REQUESTS_PER_S] [--workers 2] [--log FILE]
// (--log: the daemon's log is written there at the end)
// Everything runs in a throw-away namespace `ntpt-<pid>-1`:
//   - three reference servers (scripts/keep_time/reference_servers.ts, true time) at
//     127.0.2.1..3:12300, each silent one minute in three (--flap-s 60): the daemon's upstreams
//     flap, one at a time;
//   - `ntp serve --clock soft` on 0.0.0.0 and [::] port 12123, its three upstreams with iburst,
//     minpoll 4, maxpoll 6; restrict as the shipped config (kod limited for everyone, 127.0.0.1
//     and ::1 exempt) with `discard average 1` (one request per 2 s on average); the 200k load
//     addresses overflow the 2 x 65536 client table entries, so each request meets a fresh
//     entry (full credit) and is served: the load exercises recycling, not limiting;
//   - the maximum rate: ntpload --max from 127.0.0.1 against the daemon (unless --rate), then
//     half of it split: 45% from 100k IPv4 addresses (127.64.0.0/14), 45% from 100k IPv6
//     addresses (2001:db8:5::/64, a local route with ip_nonlocal_bind in the namespace), 10%
//     from one flooding address (rate limited: KoD and drops);
//   - the polite monitor: ntpload -r 20 -d 50 from 127.0.0.1 (exempt), one run a minute: its
//     losses and p50/p99;
//   - at the end, 1M further distinct IPv4 addresses at the same rate for 20 s (memory).
// Prints one line per minute and a summary; exits 1 when RSS grew more than 5% from minute 1 to
// the end or after the 1M addresses, the monitor lost an answer, or the log has an error line. Everything started is
// stopped and the namespace deleted, also on Ctrl-C.
import { createNetns } from "../tests/support/netns.ts";
import { type Daemon, delay, runCommand, startDaemon } from "../tests/support/processes.ts";
import {
  buildManyClientsLoad,
  rssMiB,
  runManyClientsLoad,
} from "../tests/support/many_clients_load.ts";
import { runNtpq } from "../tests/support/control_clients.ts";
import { ntpTaskFlags } from "../tests/support/ntp_server_process.ts";

function option(name: string, fallback: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Deno.args[index + 1] ?? fallback : fallback;
}

const minutes = Number(option("minutes", "10"));
const fixedRate = Number(option("rate", "0"));
const workers = Number(option("workers", "2"));
const logPath = option("log", "");
const repo = decodeURIComponent(new URL("..", import.meta.url).pathname);
const port = 12123;
const upstreams = ["127.0.2.1", "127.0.2.2", "127.0.2.3"].map((host) => ({ host, port: 12300 }));

const buildDir = await Deno.makeTempDir({ prefix: "ntp-soak-" });
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  cleanups.length = 0;
  await Deno.remove(buildDir, { recursive: true }).catch(() => {});
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    console.error(`soak: ${signal}, cleaning up`);
    await cleanUp();
    Deno.exit(130);
  });
}

/** One ntpload result line as numbers. */
function ntploadFields(line: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const [, key, value] of line.matchAll(/(\w+)=([-0-9.]+)/g)) fields[key!] = Number(value);
  return fields;
}

async function build(): Promise<{ load: string; ntpload: string }> {
  const load = await buildManyClientsLoad(buildDir);
  const ntpload = `${buildDir}/ntpload`;
  const built = await runCommand(["gcc", "-O2", "-o", ntpload, `${repo}scripts/ntpload.c`]);
  if (built.code !== 0) throw new Error(`gcc ntpload.c failed:\n${built.stderr}`);
  return { load, ntpload };
}

function configText(): string {
  const restrict = (address: string, family: 4 | 6, flags: string[]) =>
    [
      "[[restrict]]",
      `address = "${address}"`,
      family === 4 ? "ipv4 = true" : "ipv6 = true",
      ...(flags.length > 0 ? [`flags = [${flags.map((f) => `"${f}"`).join(", ")}]`] : []),
      "",
    ].join("\n");
  const limited = ["kod", "limited", "nomodify", "notrap", "nopeer", "noquery"];
  return [
    `listen = ["0.0.0.0:${port}", "[::]:${port}"]`,
    "",
    "[serve]",
    `workers = ${workers}`,
    "",
    "[discard]",
    "average = 1",
    "",
    restrict("default", 4, limited),
    restrict("default", 6, limited),
    restrict("127.0.0.1", 4, []),
    restrict("::1", 6, []),
    ...upstreams.map((u) =>
      [
        "[[server]]",
        `address = "${u.host}:${u.port}"`,
        "iburst = true",
        "minpoll = 4",
        "maxpoll = 6",
        "",
      ].join("\n")
    ),
  ].join("\n");
}

async function main(): Promise<number> {
  const tools = await build();
  const netns = await createNetns();
  cleanups.push(() => netns.delete());
  const inNetns = (args: string[]) => runCommand(["ip", "-n", netns.name, ...args]);
  await inNetns(["-6", "route", "add", "local", "2001:db8:5::/64", "dev", "lo"]);
  await runCommand([
    "ip",
    "netns",
    "exec",
    netns.name,
    "sysctl",
    "-qw",
    "net.ipv6.ip_nonlocal_bind=1",
  ]);
  const totalSeconds = minutes * 60 + 120;
  const references: Daemon = await startDaemon([
    Deno.execPath(),
    "run",
    "--allow-ffi",
    "--allow-net",
    "--allow-read",
    `${repo}scripts/keep_time/reference_servers.ts`,
    "--plan",
    JSON.stringify({ startUnixSeconds: Date.now() / 1000, offsetSeconds: 0, ratePpm: 0 }),
    "--servers",
    upstreams.map((u) => `${u.host}:${u.port}`).join(","),
    "--lifetime-s",
    String(totalSeconds + 120),
    "--flap-s",
    "60",
  ], { netns: netns.name, ready: { stderrPattern: /READY/ } });
  cleanups.push(() => references.stop());
  const configFile = `${buildDir}/soak.toml`;
  await Deno.writeTextFile(configFile, configText());
  const daemon = await startDaemon([
    Deno.execPath(),
    "run",
    ...await ntpTaskFlags(),
    `${repo}main.ts`,
    "serve",
    "--config",
    configFile,
    "--clock",
    "soft",
  ], {
    netns: netns.name,
    env: { NO_COLOR: "1" },
    ready: { stderrPattern: /serving on/, timeoutMs: 30_000 },
  });
  cleanups.push(() => daemon.stop());
  const local = { host: "127.0.0.1", port, netns: netns.name };
  await delay(5000);

  let rate = fixedRate;
  if (rate <= 0) {
    const max = await runCommand(
      [tools.ntpload, "--max", "-t", "2", "-p", String(daemon.pid), "127.0.0.1", String(port)],
      { netns: netns.name, timeoutMs: 90_000 },
    );
    const line = max.stdout.trim().split("\n").at(-1) ?? "";
    const fields = ntploadFields(line);
    if (!line.startsWith("MAX") || !(fields.rate! > 0)) {
      throw new Error(`ntpload --max gave no MAX line:\n${max.stdout}${max.stderr}`);
    }
    console.log(`measured maximum: ${line}`);
    rate = Math.round(fields.rate! / 2);
  }
  const manyRate = Math.round(rate * 0.45);
  const floodRate = Math.round(rate * 0.1);
  console.log(
    `soak: ${minutes} min at ${rate} requests/s: ${manyRate}/s from 100k IPv4 addresses, ` +
      `${manyRate}/s from 100k IPv6 addresses, ${floodRate}/s from one flooding address; ` +
      "monitor 20/s from 127.0.0.1",
  );
  const seconds = minutes * 60;
  const loads = [
    ...["127.0.0.1", "::1"].map((host) =>
      runManyClientsLoad(tools.load, {
        host,
        port,
        addresses: 100_000,
        rate: manyRate,
        seconds,
        netns: netns.name,
      })
    ),
    runManyClientsLoad(tools.load, {
      host: "127.0.0.1",
      port,
      addresses: 1,
      offset: 3_000_000,
      rate: floodRate,
      seconds,
      netns: netns.name,
    }),
  ];
  const rows: string[] = [];
  let rssMinute1 = 0;
  let monitorLost = 0;
  for (let minute = 1; minute <= minutes; minute++) {
    const minuteStarted = performance.now();
    const monitor = await runCommand(
      [tools.ntpload, "-r", "20", "-d", "50", "-s", "1", "127.0.0.1", String(port)],
      { netns: netns.name, timeoutMs: 90_000 },
    );
    const line = monitor.stdout.trim().split("\n").at(-1) ?? "";
    const fields = ntploadFields(line);
    const lost = (fields.sent ?? 0) - (fields.recv ?? 0);
    monitorLost += line.startsWith("RESULT") ? lost : 1;
    const rss = await rssMiB(daemon.pid);
    if (minute === 1) rssMinute1 = rss;
    const errors = (daemon.stderr.match(/\[ERR\]/g) ?? []).length;
    const row = `minute ${String(minute).padStart(2)}: RSS ${rss.toFixed(1)} MiB, monitor ${
      fields.recv ?? 0
    }/${fields.sent ?? 0} answered, p50 ${(fields.p50_us ?? 0).toFixed(0)} us, p99 ${
      (fields.p99_us ?? 0).toFixed(0)
    } us; UDP receive buffer drops ${
      fields.rcvbuf_err ?? 0
    } (all sockets); errors in the log ${errors}`;
    rows.push(row);
    console.log(row);
    // ntpload runs at most 50 s; the rest of the minute is idle for the monitor.
    await delay(Math.max(0, minuteStarted + 60_000 - performance.now()));
  }
  const results = await Promise.all(loads);
  const rssEnd = await rssMiB(daemon.pid);
  const names = ["IPv4 100k", "IPv6 100k", "flood"];
  results.forEach((r, i) => {
    console.log(
      `${names[i]}: sent ${r.sent}, answered ${r.replies}, KoD ${r.kod}, unanswered ${
        r.sent - r.replies - r.kod
      }`,
    );
  });
  const memory = await runManyClientsLoad(tools.load, {
    host: "127.0.0.1",
    port,
    addresses: 1_000_000,
    offset: 200_000,
    rate: Math.max(manyRate, 50_000),
    seconds: 20,
    netns: netns.name,
  });
  const rssAfterMillion = await rssMiB(daemon.pid);
  const monstats = await runNtpq(local, ["monstats"]);
  console.log(
    `1M more addresses: sent ${memory.sent}, answered ${memory.replies}; RSS ${
      rssAfterMillion.toFixed(1)
    } MiB\n${monstats.stdout.trim()}`,
  );
  if (logPath !== "") await Deno.writeTextFile(logPath, daemon.stderr);
  const errors = daemon.stderr.split("\n").filter((l) => /\[ERR\]/.test(l));
  const growthPct = (rssEnd / rssMinute1 - 1) * 100;
  const millionGrowthPct = (rssAfterMillion / rssMinute1 - 1) * 100;
  const pass = growthPct <= 5 && millionGrowthPct <= 5 && monitorLost === 0 && errors.length === 0;
  console.log(
    `summary: RSS ${rssMinute1.toFixed(1)} MiB at minute 1, ${rssEnd.toFixed(1)} MiB at the end ` +
      `(${growthPct >= 0 ? "+" : ""}${growthPct.toFixed(1)}%, limit +5%), ` +
      `${rssAfterMillion.toFixed(1)} MiB after 1M more addresses (${
        millionGrowthPct >= 0 ? "+" : ""
      }${millionGrowthPct.toFixed(1)}%, limit +5%); monitor lost ${monitorLost}; ` +
      `errors in the log ${errors.length}${errors.length > 0 ? `:\n${errors.join("\n")}` : ""}; ` +
      (pass ? "PASS" : "FAIL"),
  );
  return pass ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} finally {
  await cleanUp();
}
Deno.exit(code);
