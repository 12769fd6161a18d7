// A running `ntp serve` writes ntpd's statistics files (loopstats, peerstats, rawstats) that NTPsec's ntpviz draws; SIGHUP moves them; an unwritable statsdir never stops serving.
import { waitFor } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { startFakeNtpServer } from "../support/fake_ntp_server.ts";
import { udpAnswers } from "../support/udp_probe.ts";
import { parseLoopStats, parsePeerStats } from "../../src/core/stats/stats_lines.ts";
import { decodePeerStatus } from "../../src/core/control/status_words.ts";

const NTPVIZ = "/tmp/ntp-test-peers/ntpviz-root/usr/bin/ntpviz";

async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((line) => line !== "");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** The lines of every dated file of a set (a run may cross UTC midnight). */
async function datedLines(dir: string, name: string): Promise<string[]> {
  const files = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((file) => file.startsWith(`${name}.`)).sort();
  return (await Promise.all(files.map((file) => lines(`${dir}/${file}`)))).flat();
}

Deno.test({
  name:
    "ntp serve writes loopstats/peerstats/rawstats in ntpd's formats, linked by base name; NTPsec's ntpviz draws them; SIGHUP moves them to another directory",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using upstream4 = await startFakeNtpServer({ behaviour: "ok" });
    await using upstream6 = await startFakeNtpServer({ behaviour: "ok", hostname: "::1" });
    const dir = await Deno.makeTempDir({ prefix: "ntpt-stats-" });
    const stats = `${dir}/stats`;
    const moved = `${dir}/moved`;
    await Deno.mkdir(stats);
    await Deno.mkdir(moved);
    const config = (statsdir: string) =>
      [
        `statsdir ${statsdir}/`,
        "statistics loopstats peerstats rawstats",
        "filegen rawstats file raw type day nolink",
        `server 127.0.0.1 port ${upstream4.port} iburst minpoll 3 maxpoll 3`,
        `server ::1 port ${upstream6.port} iburst minpoll 3 maxpoll 3`,
        "",
      ].join("\n");
    const started = Date.now() / 1000;
    const port = await freeUdpPort("127.0.0.1");
    try {
      await using server = await startNtpServer({
        config: config(stats),
        configFormat: "conf",
        listen: [`127.0.0.1:${port}`],
        clock: "soft",
      });
      await waitFor(
        "6 clock updates and 8 samples",
        async () =>
          (await lines(`${stats}/loopstats`)).length >= 6 &&
          (await lines(`${stats}/peerstats`)).length >= 8,
      );
      assert.match(server.stderr, /writing statistics loopstats, peerstats, rawstats to /);

      // The base name is a hard link to today's file.
      const base = await Deno.lstat(`${stats}/loopstats`);
      const dated = [...Deno.readDirSync(stats)].map((e) => e.name)
        .filter((name) => /^loopstats\.\d{8}$/.test(name))
        .map((name) => Deno.lstatSync(`${stats}/${name}`));
      assert.ok(dated.some((file) => file.ino === base.ino && file.nlink === 2));
      await assert.rejects(Deno.lstat(`${stats}/raw`), Deno.errors.NotFound, "nolink");

      const now = Date.now() / 1000;
      for (const line of await datedLines(stats, "loopstats")) {
        const record = parseLoopStats(line);
        assert.ok(record !== null, line);
        assert.ok(record.unixSeconds >= started - 1 && record.unixSeconds <= now + 1, line);
        assert.equal(record.pollLog2, 3, line);
        assert.ok(Math.abs(record.offsetSeconds) < 0.05, line);
      }
      const peers = (await datedLines(stats, "peerstats")).map((line) => {
        const record = parsePeerStats(line);
        assert.ok(record !== null, line);
        return record;
      });
      assert.deepEqual([...new Set(peers.map((p) => p.address))].sort(), ["127.0.0.1", "::1"]);
      for (const peer of peers) {
        const status = decodePeerStatus(peer.statusWord);
        assert.ok(status.configured && status.reachable, peer.statusWord.toString(16));
        assert.ok(peer.delaySeconds > 0 && peer.delaySeconds < 0.05);
      }
      const raw = await datedLines(stats, "raw");
      assert.ok(raw.length >= peers.length, `${raw.length} rawstats, ${peers.length} peerstats`);
      for (const line of raw) assert.equal(line.split(" ").length, 20, line);
      // Upstreams that answer every request: no request lost, no reply refused.
      const clean = raw.filter((line) => line.endsWith(" 0 0 0")).length;
      assert.ok(clean >= raw.length * 0.8, `${clean} of ${raw.length} rawstats lines end "0 0 0"`);
      assert.ok(server.running, server.describe());
      assert.ok(await udpAnswers({ host: "127.0.0.1", port }, { waitMs: 500 }));

      // NTPsec's own plotter reads the directory (it needs no daemon).
      const out = `${dir}/ntpviz`;
      const output = await new Deno.Command("/usr/bin/python3", {
        args: [NTPVIZ, "-d", stats, "-o", out, "-p", "1", "-g"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const viz = { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
      assert.equal(viz.code, 0, viz.stderr);
      assert.doesNotMatch(viz.stderr, /no loopstats to graph|no peerstats to graph/);
      const index = await Deno.readTextFile(`${out}/index.html`);
      assert.match(index, /Local Clock Time\/Frequency Offsets/);
      assert.match(index, /127\.0\.0\.1/);
      for (const png of ["local-offset.png", "peer-offsets.png", "local-jitter.png"]) {
        assert.ok((await Deno.stat(`${out}/${png}`)).size > 5000, png);
      }
      const summary = await Deno.readTextFile(`${out}/summary.csv`);
      assert.match(summary, /Local Clock Time Offset/);

      // SIGHUP: the sets move to the other directory, nothing else restarts.
      const before = (await lines(`${stats}/loopstats`)).length;
      await Deno.writeTextFile(server.configFile, config(moved));
      Deno.kill(server.pid, "SIGHUP");
      await waitFor(
        "the reload",
        () => Promise.resolve(/reloaded: statistics/.test(server.stderr)),
      );
      assert.doesNotMatch(server.stderr, /NOT applied until a restart/);
      await waitFor(
        "lines in the new directory",
        async () => (await lines(`${moved}/loopstats`)).length >= 2,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.ok(
        (await lines(`${stats}/loopstats`)).length <= before + 1,
        "the old directory gets no more lines",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a daemon started without statistics writes them once SIGHUP names them",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using upstream = await startFakeNtpServer({ behaviour: "ok" });
    const dir = await Deno.makeTempDir({ prefix: "ntpt-stats-late-" });
    const server = `server 127.0.0.1 port ${upstream.port} iburst minpoll 3 maxpoll 3`;
    const port = await freeUdpPort("127.0.0.1");
    try {
      await using daemon = await startNtpServer({
        config: `${server}\n`,
        configFormat: "conf",
        listen: [`127.0.0.1:${port}`],
        clock: "soft",
      });
      await Deno.writeTextFile(
        daemon.configFile,
        [`statsdir ${dir}`, "statistics loopstats peerstats", server, ""].join("\n"),
      );
      Deno.kill(daemon.pid, "SIGHUP");
      await waitFor(
        "the reload",
        () => Promise.resolve(/reloaded: statistics loopstats, peerstats/.test(daemon.stderr)),
      );
      await waitFor("peerstats lines", async () => (await lines(`${dir}/peerstats`)).length >= 2);
      for (const line of await lines(`${dir}/peerstats`)) {
        assert.equal(parsePeerStats(line)?.address, "127.0.0.1", line);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a statsdir the daemon cannot write is logged once and serving goes on; the lines come once it can",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using upstream = await startFakeNtpServer({ behaviour: "ok" });
    const dir = await Deno.makeTempDir({ prefix: "ntpt-stats-" });
    // A regular file where the directory should be: ENOTDIR for every open (root bypasses modes).
    const stats = `${dir}/stats`;
    await Deno.writeTextFile(stats, "not a directory\n");
    const port = await freeUdpPort("127.0.0.1");
    try {
      await using server = await startNtpServer({
        config: [
          `statsdir ${stats}`,
          "statistics loopstats peerstats",
          `server 127.0.0.1 port ${upstream.port} iburst minpoll 3 maxpoll 3`,
          "",
        ].join("\n"),
        configFormat: "conf",
        listen: [`127.0.0.1:${port}`],
        clock: "soft",
      });
      await waitFor(
        "both sets to report the problem",
        () => Promise.resolve((server.stderr.match(/cannot write /g) ?? []).length >= 2),
      );
      await new Promise((resolve) => setTimeout(resolve, 3000));
      // Once per set, however many lines were dropped meanwhile.
      assert.equal((server.stderr.match(/cannot write /g) ?? []).length, 2, server.stderr);
      assert.match(server.stderr, /\[WRN\].*cannot write .*loopstats\.\d{8}: .*serving goes on/);
      assert.ok(await udpAnswers({ host: "127.0.0.1", port }, { waitMs: 500 }));
      assert.ok(server.running);
      await Deno.remove(stats);
      await Deno.mkdir(stats);
      await waitFor(
        "lines once the directory exists",
        async () => (await lines(`${stats}/peerstats`)).length >= 1,
      );
      assert.match(server.stderr, /writing statistics again/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a full disk (a 64 KiB tmpfs in a mount namespace) is reported once, its lines dropped and counted, and writing resumes when space is freed, whole lines only",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "ntpt-stats-full-" });
    const writer = decodeURIComponent(
      new URL("../support/stats_full_disk_writer.ts", import.meta.url).pathname,
    );
    try {
      // The mount lives only in the namespace of this one command, and ends with it; the writer
      // runs without CAP_SYS_TIME, as every process the tests start.
      const output = await new Deno.Command("unshare", {
        args: [
          "--mount",
          "--propagation",
          "private",
          "sh",
          "-c",
          `mount -t tmpfs -o size=64k ntpt-full "$1" && exec setpriv --bounding-set=-sys_time -- "$2" run --allow-read --allow-write "$3" "$1"`,
          "sh",
          dir,
          Deno.execPath(),
          writer,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, stderr);
      const result = JSON.parse(new TextDecoder().decode(output.stdout)) as {
        problems: string[];
        recoveries: string[];
        full: { linesWritten: number; linesDropped: number };
        final: { linesWritten: number; linesDropped: number };
        after: number;
        lines: number;
        whole: number;
        endsWithNewline: boolean;
        tail: boolean;
      };
      assert.equal(result.problems.length, 1, result.problems.join("\n"));
      assert.match(
        result.problems[0]!,
        /cannot write .*loopstats\.20261207: No space left on device/,
      );
      // 20 flushes refused after the disk filled (lines of one append may go in two writes).
      assert.ok(result.full.linesDropped >= 19 * 20, JSON.stringify(result.full));
      assert.ok(result.full.linesWritten > 100, JSON.stringify(result.full));
      assert.equal(result.recoveries.length, 1);
      assert.match(result.recoveries[0]!, /writing statistics again/);
      assert.equal(result.final.linesWritten, result.full.linesWritten + 5);
      // The write the disk cut short left at most one torn line, ended before the new ones.
      assert.ok(result.endsWithNewline && result.tail, JSON.stringify(result));
      assert.ok(result.lines - result.whole <= 1, JSON.stringify(result));
      assert.ok(result.whole >= result.final.linesWritten, JSON.stringify(result));
      // The tmpfs is gone with the namespace: the directory is empty again here.
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
