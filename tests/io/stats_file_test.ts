// Tests of a statistics file set on a real file system: daily files and the base-name link, ntpd's handling of an old base file, torn lines, a missing directory, a bounded queue (a full disk: tests/ops/statistics_test.ts).
import assert from "node:assert/strict";
import { StatsFile, type StatsFileOptions } from "../../src/io/stats_file.ts";
import { timeBudgetScale } from "../support/time_budget.ts";

const MIDNIGHT = 1_796_601_600; // 2026-12-07T00:00:00Z

function setOf(
  directory: string,
  extra: Partial<StatsFileOptions> = {},
): { file: StatsFile; problems: string[]; recoveries: string[] } {
  const problems: string[] = [];
  const recoveries: string[] = [];
  const file = new StatsFile({
    directory,
    fileName: "loopstats",
    generation: "day",
    link: true,
    context: () => ({ pid: 4242, uptimeSeconds: 0 }),
    onProblem: (message) => problems.push(message),
    onRecovered: (message) => recoveries.push(message),
    ...extra,
  });
  return { file, problems, recoveries };
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-stats-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("lines go to one file per UTC day and the base name links to the current one", async () => {
  await withDir(async (dir) => {
    const { file, problems } = setOf(dir);
    file.append("a", MIDNIGHT - 2);
    file.append("b", MIDNIGHT - 1);
    await file.flush();
    assert.equal(await Deno.readTextFile(`${dir}/loopstats`), "a\nb\n");
    file.append("c", MIDNIGHT);
    file.append("d", MIDNIGHT + 86_399);
    await file.close();
    assert.equal(await Deno.readTextFile(`${dir}/loopstats.20261206`), "a\nb\n");
    assert.equal(await Deno.readTextFile(`${dir}/loopstats.20261207`), "c\nd\n");
    const base = await Deno.lstat(`${dir}/loopstats`);
    const today = await Deno.lstat(`${dir}/loopstats.20261207`);
    assert.equal(base.ino, today.ino, "a hard link to today's file");
    assert.equal(today.nlink, 2);
    assert.equal((await Deno.lstat(`${dir}/loopstats.20261206`)).nlink, 1);
    assert.equal(today.mode! & 0o777, 0o644);
    assert.deepEqual(problems, []);
    assert.deepEqual(file.counters, { linesWritten: 4, linesDropped: 0 });
  });
});

Deno.test("an old plain base file is kept aside as NAME.PIDCn; nolink and type none write no link", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/loopstats`, "old\n");
    const { file } = setOf(dir);
    file.append("new", MIDNIGHT);
    await file.close();
    assert.equal(await Deno.readTextFile(`${dir}/loopstats.4242C0`), "old\n");
    assert.equal(await Deno.readTextFile(`${dir}/loopstats`), "new\n");

    const plain = setOf(dir, { fileName: "raw", link: false });
    plain.file.append("x", MIDNIGHT);
    await plain.file.close();
    assert.equal(await Deno.readTextFile(`${dir}/raw.20261207`), "x\n");
    await assert.rejects(Deno.lstat(`${dir}/raw`), Deno.errors.NotFound);

    const none = setOf(dir, { fileName: "sys", generation: "none" });
    none.file.append("y", MIDNIGHT);
    none.file.append("z", MIDNIGHT + 86_400 * 40);
    await none.file.close();
    assert.equal(await Deno.readTextFile(`${dir}/sys`), "y\nz\n");
  });
});

Deno.test("a file whose last line was torn (kill -9 mid-write) gets a newline before new lines", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/loopstats.20261207`,
      "61381 1.000 0.0001 1.0 0.0 0.0 6\n61381 2.0",
    );
    const { file } = setOf(dir);
    file.append("61381 3.000 0.000100000 1.000000 0.000000000 0.000000 6", MIDNIGHT + 3);
    await file.close();
    const lines = (await Deno.readTextFile(`${dir}/loopstats.20261207`)).split("\n");
    assert.deepEqual(lines, [
      "61381 1.000 0.0001 1.0 0.0 0.0 6",
      "61381 2.0",
      "61381 3.000 0.000100000 1.000000 0.000000000 0.000000 6",
      "",
    ]);
  });
});

Deno.test("a missing directory is reported once; lines are written once it exists", async () => {
  await withDir(async (dir) => {
    const missing = `${dir}/not-yet`;
    const { file, problems, recoveries } = setOf(missing);
    file.append("one", MIDNIGHT);
    file.append("two", MIDNIGHT + 1);
    await file.flush();
    file.append("three", MIDNIGHT + 2);
    await file.flush();
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /not-yet\/loopstats\.20261207/);
    await Deno.mkdir(missing);
    file.append("four", MIDNIGHT + 3);
    await file.close();
    assert.equal(await Deno.readTextFile(`${missing}/loopstats`), "four\n");
    assert.equal(recoveries.length, 1);
    assert.equal(file.counters.linesDropped, 3);
  });
});

Deno.test("append() never blocks: past the queue bound lines are dropped and counted, once reported", async () => {
  await withDir(async (dir) => {
    const { file, problems } = setOf(dir, { maxQueuedBytes: 100 });
    const started = performance.now();
    for (let i = 0; i < 1000; i++) file.append(`${i}`.padStart(9, "0"), MIDNIGHT);
    const appendMs = performance.now() - started;
    await file.close();
    const written = (await Deno.readTextFile(`${dir}/loopstats`)).split("\n").length - 1;
    // The first line leaves the queue at once (its write starts), so 11 of 9+1 bytes fit.
    assert.equal(written, 11);
    assert.deepEqual(file.counters, { linesWritten: 11, linesDropped: 989 });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /not keeping up/);
    const budgetMs = 200 * timeBudgetScale();
    assert.ok(appendMs < budgetMs, `1000 appends took ${appendMs} ms (budget ${budgetMs})`);
  });
});
