// State survives kill -9 at any moment: a writer of the drift file and the NTS key file killed 100 times mid-loop, `ntp serve` killed 100 times while it starts (rotating its cookie key), and a statistics writer killed 30 times, always leave whole files and lines.
import assert from "node:assert/strict";
import { readDriftFile } from "../../src/io/drift_file.ts";
import { readNtsKeyFile, writeNtsKeyFile } from "../../src/io/nts_key_file.ts";
import { driftValues, keySets } from "../support/crash_writer.ts";
import { crashLine } from "../support/stats_crash_writer.ts";
import { parseLoopStats } from "../../src/core/stats/stats_lines.ts";
import { ntpServeArgv, startNtpServer } from "../support/ntp_server_process.ts";
import { confinedArgv, delay } from "../support/processes.ts";
import { freeTcpPort, freeUdpPort } from "../support/ports.ts";
import { makeTestCertificates } from "../support/test_ca.ts";

const writer = decodeURIComponent(new URL("../support/crash_writer.ts", import.meta.url).pathname);
const statsWriter = decodeURIComponent(
  new URL("../support/stats_crash_writer.ts", import.meta.url).pathname,
);

/** A pseudo-random generator with a fixed seed (the kill moments are reproducible per run). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Starts the writer loop, waits until it writes, lets it run `runMs`, then SIGKILLs it. */
async function killWriterAfter(
  paths: { drift: string; keys: string },
  runMs: number,
  torn: boolean,
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      writer,
      paths.drift,
      paths.keys,
      ...(torn ? ["--torn"] : []),
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /writing/);
  await delay(runMs);
  child.kill("SIGKILL");
  reader.releaseLock();
  await child.stdout.cancel();
  const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", `the writer ended by itself: ${stderr}`);
}

/** What the files hold after a kill: whole when each is one of the versions the writer writes. */
async function inspect(paths: { drift: string; keys: string }): Promise<string | null> {
  const drift = await readDriftFile(paths.drift);
  if (drift.freqPpm === null || !driftValues.some((v) => v === drift.freqPpm)) {
    return `drift file holds ${JSON.stringify(await Deno.readTextFile(paths.drift))}`;
  }
  const keys = await readNtsKeyFile(paths.keys).catch((error) => error as Error);
  if (keys instanceof Error) return `key file: ${keys.message}`;
  const ids = keys.map((k) => k.id).join(",");
  if (ids !== "1" && ids !== "3,2,1") return `key file holds keys ${ids}`;
  return null;
}

Deno.test({
  name:
    "kill -9 at 100 random moments of a loop rewriting the drift and key files leaves each file whole (and a naive writer is caught torn)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "ntpt-crash-" });
    const paths = { drift: `${dir}/ntp.drift`, keys: `${dir}/nts-keys` };
    const random = seeded(0xc4a5);
    try {
      const problems: string[] = [];
      for (let i = 0; i < 100; i++) {
        await killWriterAfter(paths, Math.floor(random() * 40), false);
        const problem = await inspect(paths);
        if (problem !== null) problems.push(`kill ${i + 1}: ${problem}`);
      }
      assert.deepEqual(problems, []);
      // Temporary files of the writers killed mid-write: once a minute old, the next write
      // removes them (only the last writer's may remain).
      const leftovers = () =>
        [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp-"));
      // One planted for sure, as if a writer had been killed an hour ago.
      const planted = `.ntp.drift.tmp-1-deadbeef`;
      await Deno.writeTextFile(`${dir}/${planted}`, "-12");
      const killedMidWrite = leftovers().length;
      const hourAgo = new Date(Date.now() - 3600_000);
      for (const name of leftovers()) await Deno.utime(`${dir}/${name}`, hourAgo, hourAgo);
      await killWriterAfter(paths, 50, false);
      assert.ok(!leftovers().includes(planted), "an hour-old leftover was not removed");
      assert.ok(
        leftovers().length <= 2,
        `${killedMidWrite} leftovers; after a write: ${leftovers().join(", ")}`,
      );

      // The same checks catch a writer that truncates and writes in place.
      let torn = 0;
      for (let i = 0; i < 30 && torn === 0; i++) {
        await killWriterAfter(paths, Math.floor(random() * 40), true);
        if (await inspect(paths) !== null) torn++;
        // Whole files again for the next round.
        await Deno.writeTextFile(paths.drift, "-12.345\n");
        await writeNtsKeyFile(paths.keys, keySets[0]);
      }
      assert.ok(torn > 0, "30 kills of the naive writer never left a torn file");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "kill -9 of ntp serve at 100 random moments of its start (cookie key rotation due) leaves the key and drift files whole; the next start serves",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = await Deno.makeTempDir({ prefix: "ntpt-crash-serve-" });
    const drift = `${dir}/ntp.drift`;
    const keys = `${dir}/nts-keys`;
    const port = await freeUdpPort("127.0.0.1");
    const config = [
      `driftfile = "${drift}"`,
      "[nts]",
      "enable = true",
      `cert = "${certificates.certificateFile}"`,
      `key = "${certificates.keyFile}"`,
      `cookie_keys = "${keys}"`,
      `listen = ["127.0.0.1:${freeTcpPort()}"]`,
      "",
    ].join("\n");
    // A key two days old: every start rotates and rewrites the file.
    const old = [{
      id: 0x0badcafe,
      key: new Uint8Array(32).fill(0x5a),
      createdUnixSeconds: Math.floor(Date.now() / 1000) - 2 * 86400,
    }];
    const { argv, dir: configDir } = await ntpServeArgv({
      config,
      configFormat: "toml",
      listen: [`127.0.0.1:${port}`],
      clock: "soft",
    });
    const random = seeded(0x5e7e);
    let rotated = 0;
    try {
      await Deno.writeTextFile(drift, "12.500\n");
      const problems: string[] = [];
      for (let i = 0; i < 100; i++) {
        await writeNtsKeyFile(keys, old);
        const [program, ...args] = confinedArgv(argv);
        const child = new Deno.Command(program!, {
          args,
          env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn();
        await delay(Math.floor(random() * 400));
        child.kill("SIGKILL");
        await child.status;
        const driftNow = await readDriftFile(drift);
        if (driftNow.freqPpm !== 12.5) problems.push(`kill ${i + 1}: drift ${driftNow.freqPpm}`);
        const read = await readNtsKeyFile(keys).catch((error) => error as Error);
        if (read instanceof Error) {
          problems.push(`kill ${i + 1}: ${read.message}`);
          continue;
        }
        const ids = read.map((k) => k.id);
        if (ids.length === 2 && ids[1] === old[0]!.id) rotated++;
        else if (ids.length !== 1 || ids[0] !== old[0]!.id) {
          problems.push(`kill ${i + 1}: keys ${ids.join(",")}`);
        }
      }
      console.log(`100 kills of ntp serve: ${rotated} after the key file was rewritten`);
      assert.deepEqual(problems, []);
      // The kills landed before and after the write, else the loop proves little.
      assert.ok(rotated > 0 && rotated < 100, `${rotated} of 100 kills after the rewrite`);
      // Temporary files of killed writers: removed by the next write once a minute old (here:
      // the start's key rotation). The old key file goes back first (that write sweeps too).
      await writeNtsKeyFile(keys, old);
      const leftovers = () =>
        [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp-"));
      await Deno.writeTextFile(`${dir}/.nts-keys.tmp-1-deadbeef`, "# torn");
      const hourAgo = new Date(Date.now() - 3600_000);
      for (const name of leftovers()) await Deno.utime(`${dir}/${name}`, hourAgo, hourAgo);
      const killedMidWrite = leftovers().length;
      await using server = await startNtpServer({
        config,
        configFormat: "toml",
        listen: [`127.0.0.1:${port}`],
        clock: "soft",
      });
      assert.doesNotMatch(server.stderr, /\[ERR\]/);
      assert.deepEqual(leftovers(), [], `${killedMidWrite} leftovers, not removed by the start`);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(configDir, { recursive: true }).catch(() => {});
      await Deno.remove(certificates.dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "kill -9 at 30 random moments of a loop appending statistics lines leaves only whole lines (and at most one torn line per kill, always ended)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "ntpt-crash-stats-" });
    const random = seeded(0x57a7);
    try {
      for (let kill = 0; kill < 30; kill++) {
        const [program, ...args] = confinedArgv([
          Deno.execPath(),
          "run",
          "--allow-read",
          "--allow-write",
          statsWriter,
          dir,
          `${kill * 1_000_000}`,
        ]);
        const child = new Deno.Command(program!, {
          args,
          stdout: "piped",
          stderr: "piped",
          stdin: "null",
        }).spawn();
        const reader = child.stdout.getReader();
        const first = await reader.read();
        assert.match(new TextDecoder().decode(first.value), /writing/);
        await delay(Math.floor(random() * 30));
        child.kill("SIGKILL");
        reader.releaseLock();
        await child.stdout.cancel();
        await child.stderr.cancel();
        assert.equal((await child.status).signal, "SIGKILL");
      }
      const text = await Deno.readTextFile(`${dir}/loopstats.20261207`);
      const lines = text.split("\n");
      if (lines.at(-1) === "") lines.pop();
      let whole = 0;
      let torn = 0;
      let last: number | null = null;
      const seen = new Set<string>();
      lines.forEach((line, index) => {
        const record = parseLoopStats(line);
        const n = record === null ? null : Math.round(record.offsetSeconds * 1e6);
        if (n !== null && crashLine(n) === line) {
          assert.ok(!seen.has(line), `line written twice: ${line}`);
          seen.add(line);
          whole++;
          last = n;
          return;
        }
        // A kill mid-write leaves a prefix of the line after the last whole one, and the next
        // writer starts on a line of its own (never glued to the prefix).
        torn++;
        const expected = last === null ? "" : crashLine(last + 1);
        assert.ok(
          expected.startsWith(line) && expected !== line,
          `line ${index + 1} is neither whole nor a torn prefix: ${JSON.stringify(line)}`,
        );
      });
      assert.ok(torn <= 30, `${torn} torn lines after 30 kills`);
      assert.ok(whole >= 30 * 50, `${whole} whole lines`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
