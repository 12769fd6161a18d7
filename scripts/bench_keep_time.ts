// Keep-time benchmark: our soft-clock server and chronyd -x side by side behind the same jittery paths to the same drifting references, judged by the same probe.
//
// Usage (as root; takes DURATION per run and scenario, 5 min by default):
//   deno run -A scripts/bench_keep_time.ts [--scenarios fresh,stale,freqstep,asymmetric,falseticker]
//     [--runs 3 | --seeds 1,1,4] [--duration-s 300] [--from-s 60] [--out results.jsonl]
//     [--stats-dir DIR]   (our daemon's loopstats, peerstats and rawstats, DIR/SCENARIO-RUN-seedN/;
//                          an existing directory's daily files are appended to)
// Run N uses the relay seed N unless --seeds lists them: the relays draw every delay from one
// generator seeded per run, so run N of one invocation meets much the same delays as run N of
// another (the order in which the two daemons' requests reach the relay varies).
// Each run, in a network namespace of its own (loopback only, deleted afterwards):
//   - reference servers (scripts/keep_time/reference_servers.ts) at 127.0.2.N keep a time that
//     is 37 ms ahead of this host's kernel clock and gains 20 ppm (scripts/keep_time/
//     reference_clock.ts): to the clients, their own clock is 37 ms behind and 20 ppm slow;
//   - one delaying relay per reference (scripts/keep_time/ntp_relay.c, built with gcc into a
//     temporary directory) at 127.0.1.N: by default 2.5 +- 0.5 ms each way (2 ms + uniform
//     0..1 ms);
//   - `chronyd -x` and `ntp serve --clock soft` use the four (or five) relayed references with
//     each daemon's default poll settings (iburst, minpoll 6, maxpoll 10) and serve on 127.0.0.1;
//     chronyd also has Debian's shipped `maxupdateskew 100.0` and `makestep 1 3`;
//   - the judge (scripts/keep_time/judge.ts) probes both served clocks directly every 2 s and
//     records each one's error against the references' time.
// Every daemon runs under `setpriv --bounding-set=-sys_time`: nothing can set this host's clock
// (chronyd only with -x, ours only with the soft clock). The kernel clock's state is read before
// and after (adjtimex modes=0) and must not change.
// Scenarios:
//   fresh        no drift files
//   stale        both drift files 31 ppm off (ours 51 ppm in ntpd's sign; chronyd's -51 with
//                a skew of 0.3 ppm, as certain as our prior)
//   freqstep     the references' rate goes from 20 to 30 ppm half way through
//   asymmetric   out 6 ms + 0..2 ms, back 2.5 ms + 0..0.5 ms (a bias of about 2 ms for any client)
//   falseticker  a fifth reference 20 ms off
// Prints, per scenario and run, the RMS and largest error of both from --from-s on, their
// ratio, and how often each one's root distance covered its error; with --out, every probe.
import { resolve } from "node:path";
import type { ReferencePlan } from "./keep_time/reference_clock.ts";
import { createNetns } from "../tests/support/netns.ts";
import { type Daemon, delay, runCommand, startDaemon } from "../tests/support/processes.ts";

interface Scenario {
  readonly name: string;
  readonly path: {
    readonly out: { delayMs: number; jitterMs: number };
    readonly back: { delayMs: number; jitterMs: number };
  };
  readonly falsetickerSeconds?: number;
  readonly driftOffPpm?: number;
  readonly rateStepPpm?: number;
}

const symmetric = { out: { delayMs: 2, jitterMs: 1 }, back: { delayMs: 2, jitterMs: 1 } };
const scenarios: readonly Scenario[] = [
  { name: "fresh", path: symmetric },
  { name: "stale", path: symmetric, driftOffPpm: 31 },
  { name: "freqstep", path: symmetric, rateStepPpm: 10 },
  {
    name: "asymmetric",
    path: { out: { delayMs: 6, jitterMs: 2 }, back: { delayMs: 2.5, jitterMs: 0.5 } },
  },
  { name: "falseticker", path: symmetric, falsetickerSeconds: 0.02 },
];

function option(name: string, fallback: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Deno.args[index + 1] ?? fallback : fallback;
}

const chosen = option("scenarios", scenarios.map((s) => s.name).join(",")).split(",");
const runs = Number(option("runs", "1"));
/** The relay's random seed of each run: 1..runs unless given (`--seeds 1,1,4` repeats run 1's delays). */
const seeds = Deno.args.includes("--seeds")
  ? option("seeds", "").split(",").map(Number)
  : Array.from({ length: runs }, (_, i) => i + 1);
if (Deno.args.includes("--seeds") && Deno.args.includes("--runs")) {
  console.error("bench_keep_time: --runs and --seeds exclude each other (--seeds sets the runs)");
  Deno.exit(2);
}
if (seeds.length === 0 || !seeds.every((seed) => Number.isSafeInteger(seed) && seed >= 0)) {
  console.error("bench_keep_time: --runs must be at least 1, --seeds whole numbers >= 0");
  Deno.exit(2);
}
const durationSeconds = Number(option("duration-s", "300"));
const fromSeconds = Number(option("from-s", "60"));
const outPath = option("out", "");
/** Where our daemon's loopstats, peerstats and rawstats go (a directory per scenario and run), or "". */
const statsDir = option("stats-dir", "") === "" ? "" : resolve(option("stats-dir", ""));
const referenceOffsetSeconds = 0.037;
const referenceRatePpm = 20;
const repo = new URL("..", import.meta.url).pathname;
const denoRun = [
  Deno.execPath(),
  "run",
  "--allow-net",
  "--allow-ffi",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
];

for (const tool of ["chronyd", "setpriv", "ip", "gcc"]) {
  const found = await runCommand(["sh", "-c", `command -v ${tool}`]);
  if (found.code !== 0) {
    console.error(`bench_keep_time: ${tool} not found`);
    Deno.exit(2);
  }
}

const buildDir = await Deno.makeTempDir({ prefix: "ntp-bench-keep-time-build-" });
/** What a run has started, so an interrupt (Ctrl-C, SIGTERM) can still release it. */
const cleanups = new Set<() => Promise<void>>();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    console.error(`bench_keep_time: ${signal}, cleaning up`);
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => {});
    await Deno.remove(buildDir, { recursive: true }).catch(() => {});
    Deno.exit(130);
  });
}
const relayBinary = `${buildDir}/ntp_relay`;
const built = await runCommand([
  "gcc",
  "-O2",
  "-Wall",
  "-Wextra",
  "-o",
  relayBinary,
  `${repo}scripts/keep_time/ntp_relay.c`,
]);
if (built.code !== 0) {
  console.error(`bench_keep_time: cannot build ntp_relay.c:\n${built.stderr}`);
  await Deno.remove(buildDir, { recursive: true });
  Deno.exit(2);
}

async function kernelClockState(): Promise<string> {
  const out = await runCommand(["/usr/bin/python3", `${repo}tests/support/adjtimex_read.py`]);
  return out.code === 0 ? out.stdout.trim() : `unavailable (${out.stderr.trim()})`;
}

interface Probe {
  readonly t: number;
  readonly name: string;
  readonly errorSeconds?: number;
  readonly rootDistanceSeconds?: number;
  readonly stratum?: number;
  readonly leap?: number;
  readonly lost?: boolean;
}

interface Summary {
  readonly samples: number;
  readonly unsynchronised: number;
  readonly rmsSeconds: number;
  readonly maxSeconds: number;
  readonly meanSeconds: number;
  readonly covered: number;
}

function summarise(probes: readonly Probe[], name: string): Summary {
  const mine = probes.filter((p) => p.name === name && p.t >= fromSeconds && !p.lost);
  const synced = mine.filter((p) => p.stratum !== undefined && p.stratum < 16 && p.leap !== 3);
  const errors = synced.map((p) => p.errorSeconds ?? NaN);
  const n = errors.length;
  return {
    samples: n,
    unsynchronised: mine.length - n,
    rmsSeconds: n === 0 ? NaN : Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / n),
    maxSeconds: n === 0 ? NaN : Math.max(...errors.map(Math.abs)),
    meanSeconds: n === 0 ? NaN : errors.reduce((s, e) => s + e, 0) / n,
    covered: synced.filter((p) => Math.abs(p.errorSeconds ?? 0) <= (p.rootDistanceSeconds ?? 0))
      .length,
  };
}

async function runOnce(scenario: Scenario, run: number, seed: number): Promise<Probe[]> {
  await using netns = await createNetns();
  const work = await Deno.makeTempDir({ prefix: "ntp-bench-keep-time-" });
  const daemons: Daemon[] = [];
  const cleanup = async () => {
    for (const daemon of daemons.reverse()) await daemon.stop();
    await Deno.remove(work, { recursive: true });
    await netns[Symbol.asyncDispose]();
  };
  cleanups.add(cleanup);
  try {
    const count = scenario.falsetickerSeconds === undefined ? 4 : 5;
    const refs = Array.from({ length: count }, (_, i) => ({
      relay: `127.0.1.${i + 1}:${12301 + i}`,
      server: `127.0.2.${i + 1}:${12301 + i}`,
      extra: i === 4 ? scenario.falsetickerSeconds ?? 0 : 0,
    }));
    const startUnixSeconds = Date.now() / 1000 + 4;
    const plan: ReferencePlan = {
      startUnixSeconds,
      offsetSeconds: referenceOffsetSeconds,
      ratePpm: referenceRatePpm,
      ...(scenario.rateStepPpm === undefined ? {} : {
        rateStep: {
          atSeconds: durationSeconds / 2,
          ratePpm: referenceRatePpm + scenario.rateStepPpm,
        },
      }),
    };
    const lifetime = String(durationSeconds + 120);
    daemons.push(
      await startDaemon([
        ...denoRun,
        `${repo}scripts/keep_time/reference_servers.ts`,
        "--plan",
        JSON.stringify(plan),
        "--servers",
        refs.map((r) => `${r.server}+${r.extra}`).join(","),
        "--lifetime-s",
        lifetime,
      ], { netns: netns.name, ready: { stderrPattern: /READY/ } }),
    );
    daemons.push(
      await startDaemon([
        relayBinary,
        lifetime,
        String(seed),
        ...refs.map((r) =>
          [
            r.relay,
            r.server,
            scenario.path.out.delayMs,
            scenario.path.out.jitterMs,
            scenario.path.back.delayMs,
            scenario.path.back.jitterMs,
          ].join(",")
        ),
      ], { netns: netns.name, ready: { stderrPattern: /READY/ } }),
    );

    const hostPorts = refs.map((r) => {
      const [address, port] = r.relay.split(":");
      return { address: address!, port: Number(port) };
    });
    const drift = scenario.driftOffPpm;
    const ourStats = statsDir === "" ? "" : `${statsDir}/${scenario.name}-${run}-seed${seed}`;
    if (ourStats !== "") await Deno.mkdir(ourStats, { recursive: true });
    const oursFreq = referenceRatePpm + (drift ?? 0);
    await Deno.writeTextFile(
      `${work}/chrony.conf`,
      [
        ...hostPorts.map((h) => `server ${h.address} port ${h.port} iburst`),
        `driftfile ${work}/chrony.drift`,
        // As Debian's shipped chrony.conf has them (what a chrony user runs).
        "maxupdateskew 100.0",
        "makestep 1 3",
        "port 12401",
        "bindaddress 127.0.0.1",
        "allow 127.0.0.1",
        "cmdport 0",
        `pidfile ${work}/chrony.pid`,
        "",
      ].join("\n"),
    );
    await Deno.writeTextFile(
      `${work}/ours.toml`,
      [
        `driftfile = "${work}/ours.drift"`,
        `listen = ["127.0.0.1:12402"]`,
        ...(ourStats === "" ? [] : [
          `statsdir = ${JSON.stringify(ourStats)}`,
          `statistics = ["loopstats", "peerstats", "rawstats"]`,
        ]),
        ...hostPorts.flatMap((h) => [
          "",
          "[[server]]",
          `address = "${h.address}"`,
          `port = ${h.port}`,
          "iburst = true",
        ]),
        "",
        "[serve]",
        `clock = "soft"`,
        "workers = 1",
        "",
      ].join("\n"),
    );
    if (drift !== undefined) {
      // chrony's sign is the opposite of ntpd's (its timex freq is -freq): same error, same trust.
      await Deno.writeTextFile(`${work}/chrony.drift`, `${-oursFreq} 0.3\n`);
      await Deno.writeTextFile(`${work}/ours.drift`, `${oursFreq}\n`);
    }
    const wait = startUnixSeconds * 1000 - Date.now();
    if (wait > 0) await delay(wait);
    const [chronyd, ours] = await Promise.all([
      startDaemon(["chronyd", "-x", "-d", "-u", "root", "-f", `${work}/chrony.conf`], {
        netns: netns.name,
        ready: { stderrPattern: /chronyd version/ },
      }),
      startDaemon([...denoRun, `${repo}main.ts`, "serve", "--config", `${work}/ours.toml`], {
        netns: netns.name,
        cwd: repo,
        ready: { stderrPattern: /serving on/, timeoutMs: 30_000 },
      }),
    ]);
    daemons.push(chronyd, ours);
    const judged = await runCommand([
      ...denoRun,
      `${repo}scripts/keep_time/judge.ts`,
      "--plan",
      JSON.stringify(plan),
      "--targets",
      "chronyd=127.0.0.1:12401,ours=127.0.0.1:12402",
      "--duration-s",
      String(durationSeconds),
    ], { netns: netns.name, timeoutMs: (durationSeconds + 60) * 1000 });
    if (judged.code !== 0) throw new Error(`judge failed: ${judged.stderr}`);
    const probes = judged.stdout.trim().split("\n").filter((l) => l !== "").map((l) =>
      JSON.parse(l) as Probe
    );
    const events = ours.stderr.split("\n").filter((l) =>
      /stepped|contradicted|moved away|spike|system peer/.test(l)
    );
    console.log(`  run ${run}: our events: ${events.length === 0 ? "none" : ""}`);
    for (const line of events.slice(0, 12)) console.log(`    ${line.slice(0, 200)}`);
    if (outPath !== "") {
      await Deno.writeTextFile(
        outPath,
        probes.map((p) => JSON.stringify({ scenario: scenario.name, run, seed, ...p })).join("\n") +
          "\n",
        { append: true },
      );
    }
    return probes;
  } finally {
    cleanups.delete(cleanup);
    for (const daemon of daemons.reverse()) await daemon.stop();
    await Deno.remove(work, { recursive: true });
  }
}

const us = (s: number) => Number.isFinite(s) ? (s * 1e6).toFixed(0).padStart(7) : "      -";
const before = await kernelClockState();
console.log(
  `keep-time benchmark: references ${
    referenceOffsetSeconds * 1e3
  } ms ahead, +${referenceRatePpm} ppm; ` +
    `${durationSeconds} s per run, errors from ${fromSeconds} s on; ${seeds.length} run(s) per scenario, relay seeds ${
      seeds.join(",")
    }`,
);
const table: string[] = [];
for (const scenario of scenarios.filter((s) => chosen.includes(s.name))) {
  console.log(`scenario ${scenario.name}`);
  for (const [index, seed] of seeds.entries()) {
    const run = index + 1;
    const probes = await runOnce(scenario, run, seed);
    const c = summarise(probes, "chronyd");
    const o = summarise(probes, "ours");
    const line =
      `${scenario.name.padEnd(12)} ${run} (seed ${seed})  ours rms ${us(o.rmsSeconds)} max ${
        us(o.maxSeconds)
      } mean ${us(o.meanSeconds)} | chronyd rms ${us(c.rmsSeconds)} max ${us(c.maxSeconds)} mean ${
        us(c.meanSeconds)
      } | ratio rms ${(o.rmsSeconds / c.rmsSeconds).toFixed(2)} max ${
        (o.maxSeconds / c.maxSeconds).toFixed(2)
      } | covered ours ${o.covered}/${o.samples} chronyd ${c.covered}/${c.samples}` +
      (o.unsynchronised + c.unsynchronised > 0
        ? ` | unsynchronised probes ours ${o.unsynchronised} chronyd ${c.unsynchronised}`
        : "");
    console.log(line);
    table.push(line);
  }
}
const after = await kernelClockState();
await Deno.remove(buildDir, { recursive: true });
console.log(
  "\nsummary (microseconds; errors = served time - reference time, from " +
    `${fromSeconds} s to ${durationSeconds} s):`,
);
for (const line of table) console.log(line);
console.log(`kernel clock before: ${before}\nkernel clock after:  ${after}`);
if (before !== after) {
  console.error("bench_keep_time: THE KERNEL CLOCK STATE CHANGED");
  Deno.exit(4);
}
// The signal listeners would keep the process alive.
Deno.exit(0);
