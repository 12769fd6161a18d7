// Benchmark (not a test): seconds from the start of the daemon to serving synchronised time (LI 0, stratum 2) with four upstreams on loopback, over NTS and plain NTP, `ntp serve` beside `chronyd -x`.
//
// In a network namespace of its own: four chronyd NTS servers (local stratum 1, a test CA made
// with openssl), then per run and per variant a fresh daemon on 127.0.0.1:123 with the four as
// `server ... iburst [nts]` (default polls otherwise), watched by a mode 3 probe every 50 ms
// from before its start. Never touches the clock: every daemon runs without CAP_SYS_TIME
// (chronyd -x, ntp serve --clock soft).
//
//   deno run -A scripts/bench_nts_sync.ts [--runs 5]
import { startChronydServer } from "../tests/support/chronyd_server.ts";
import { createNetns } from "../tests/support/netns.ts";
import { ntpServeArgv } from "../tests/support/ntp_server_process.ts";
import { type Daemon, startDaemon } from "../tests/support/processes.ts";
import { firstSynchronised, startServedTimeWatch } from "../tests/support/served_time_watch.ts";
import { makeTestCertificates } from "../tests/support/test_ca.ts";

const runsFlag = Deno.args.indexOf("--runs");
const runs = runsFlag >= 0 ? Number(Deno.args[runsFlag + 1]) : 5;
if (!Number.isInteger(runs) || runs < 1) {
  console.error("usage: deno run -A scripts/bench_nts_sync.ts [--runs N]");
  Deno.exit(2);
}

const upstreams = [0, 1, 2, 3].map((i) => ({ port: 1231 + i, kePort: 4461 + i }));
type Variant = "ours NTS" | "chronyd NTS" | "ours plain" | "chronyd plain";
const variants: readonly Variant[] = ["ours NTS", "chronyd NTS", "ours plain", "chronyd plain"];

await using ns = await createNetns();
const certificates = await makeTestCertificates(["127.0.0.1"]);
const dir = certificates.dir;
try {
  await using stack = new AsyncDisposableStack();
  for (const [i, u] of upstreams.entries()) {
    await Deno.mkdir(`${dir}/dump-${i}`);
    stack.use(
      await startChronydServer({
        port: u.port,
        bindAddresses: ["127.0.0.1"],
        netns: ns.name,
        localStratum: 1,
        extraConfig: [
          `ntsservercert ${certificates.certificateFile}`,
          `ntsserverkey ${certificates.keyFile}`,
          `ntsport ${u.kePort}`,
          `ntsdumpdir ${dir}/dump-${i}`,
        ],
      }),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 1000)); // chronyd opens NTS-KE a moment later

  const results = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  for (let run = 1; run <= runs; run++) {
    for (const variant of variants) {
      const seconds = await timeToSync(variant, run);
      results.get(variant)!.push(seconds);
      console.log(`run ${run} ${variant}: ${seconds.toFixed(2)} s`);
    }
  }
  console.log("\nseconds from start to serving LI 0 at stratum 2 (median, min-max):");
  for (const variant of variants) {
    const values = [...results.get(variant)!].sort((a, b) => a - b);
    const median = values[Math.floor(values.length / 2)]!;
    console.log(
      `${variant.padEnd(14)} ${median.toFixed(2)} (${values[0]!.toFixed(2)}-${
        values.at(-1)!.toFixed(2)
      }) over ${values.length} runs`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

async function timeToSync(variant: Variant, run: number): Promise<number> {
  const nts = variant.endsWith("NTS");
  await using watch = await startServedTimeWatch(
    { host: "127.0.0.1", port: 123, netns: ns.name },
    { intervalSeconds: 0.05, maxDurationSeconds: 60 },
  );
  const startedWall = Date.now() / 1000;
  let daemon: Daemon;
  let scratch: string;
  if (variant.startsWith("ours")) {
    const config = upstreams.map((u) =>
      nts
        ? `server 127.0.0.1:${u.kePort} port ${u.port} iburst nts ca ${certificates.caFile}`
        : `server 127.0.0.1 port ${u.port} iburst`
    ).join("\n") + "\n";
    const { argv, dir: serveDir } = await ntpServeArgv({
      config,
      configFormat: "conf",
      listen: ["127.0.0.1:123"],
      clock: "soft",
    });
    scratch = serveDir;
    daemon = await startDaemon(argv, {
      netns: ns.name,
      env: { NO_COLOR: "1" },
      ready: { stderrPattern: /serving/i, timeoutMs: 30_000 },
    });
  } else {
    scratch = await Deno.makeTempDir({ prefix: "bench-chronyd-" });
    const config = [
      ...upstreams.map((u) =>
        `server 127.0.0.1 port ${u.port} iburst` + (nts ? ` nts ntsport ${u.kePort}` : "")
      ),
      ...(nts ? [`ntstrustedcerts ${certificates.caFile}`, "nosystemcert"] : []),
      "port 123",
      "bindaddress 127.0.0.1",
      "allow 127.0.0.1",
      "cmdport 0",
      `pidfile ${scratch}/chronyd.pid`,
      "",
    ].join("\n");
    await Deno.writeTextFile(`${scratch}/chrony.conf`, config);
    daemon = await startDaemon(
      ["chronyd", "-x", "-d", "-u", "root", "-f", `${scratch}/chrony.conf`],
      { netns: ns.name, ready: { stderrPattern: /chronyd version/ } },
    );
  }
  try {
    const deadline = performance.now() + 40_000;
    while (performance.now() < deadline) {
      const first = firstSynchronised(watch.samples(), 2);
      if (first !== undefined) return first.wallSeconds - startedWall;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`run ${run} ${variant}: not synchronised in 40 s\n${daemon.describe()}`);
  } finally {
    await daemon.stop();
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}
