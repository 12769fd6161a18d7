// readStatsLines(): the NAME.* files modified within the window (gzipped ones too), the bare NAME only without dated files, a typed error for a missing directory.
import assert from "node:assert/strict";
import { readStatsLines, StatsReadError } from "../../src/io/stats_reader.ts";

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** 2026-12-07T00:00:00Z. */
const day = Date.UTC(2026, 11, 7) / 1000;

Deno.test("readStatsLines() reads the dated files modified since the window's start, .gz included, in name order", async () => {
  await using dir = await tempDir();
  const write = async (name: string, text: string | Uint8Array, modifiedUnixSeconds: number) => {
    const path = `${dir.path}/${name}`;
    if (typeof text === "string") await Deno.writeTextFile(path, text);
    else await Deno.writeFile(path, text);
    await Deno.utime(path, modifiedUnixSeconds, modifiedUnixSeconds);
  };
  await write("loopstats.20261204", "old 1\n", day - 3 * 86_400);
  await write("loopstats.20261205.gz", await gzip("gz 1\ngz 2\n"), day - 86_400);
  await write("loopstats.20261206", "six 1\n\nsix 2", day);
  await write("loopstats", "six 1\nsix 2\n", day); // the hard link's name: not read beside dated files
  await write("peerstats.20261206", "peer\n", day);
  await write("loopstatsX", "no dot\n", day);
  await Deno.mkdir(`${dir.path}/loopstats.d`);
  assert.deepEqual(
    await readStatsLines(dir.path, "loopstats", { fromUnixSeconds: day - 2 * 86_400 }),
    ["gz 1", "gz 2", "six 1", "six 2"],
  );
  assert.deepEqual(
    await readStatsLines(dir.path, "loopstats", { fromUnixSeconds: day - 10 * 86_400 }),
    ["old 1", "gz 1", "gz 2", "six 1", "six 2"],
  );
  assert.deepEqual(await readStatsLines(dir.path, "loopstats", { fromUnixSeconds: day + 1 }), []);
  // A window that ends before a day file's date does not read it, however recent its mtime.
  assert.deepEqual(
    await readStatsLines(dir.path, "loopstats", {
      fromUnixSeconds: day - 10 * 86_400,
      toUnixSeconds: Date.UTC(2026, 11, 5, 12) / 1000,
    }),
    ["old 1", "gz 1", "gz 2"],
  );
  assert.deepEqual(await readStatsLines(dir.path, "rawstats", { fromUnixSeconds: 0 }), []);
});

Deno.test("readStatsLines() reads the bare name when the set has no dated files (filegen type none)", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/loop`, "a\nb\n");
  assert.deepEqual(await readStatsLines(dir.path, "loop", { fromUnixSeconds: 0 }), ["a", "b"]);
});

Deno.test("readStatsLines() throws StatsReadError naming a missing directory, a file, or a damaged .gz", async () => {
  await using dir = await tempDir();
  const missing = `${dir.path}/nope`;
  await assert.rejects(
    readStatsLines(missing, "loopstats", { fromUnixSeconds: 0 }),
    (error: unknown) =>
      error instanceof StatsReadError && error.path === missing &&
      error.message === `statistics directory ${missing} does not exist`,
  );
  await Deno.writeTextFile(`${dir.path}/file`, "");
  await assert.rejects(
    readStatsLines(`${dir.path}/file`, "loopstats", { fromUnixSeconds: 0 }),
    (error: unknown) => error instanceof StatsReadError && /is not a directory/.test(error.message),
  );
  await Deno.writeTextFile(`${dir.path}/loopstats.20261207.gz`, "not gzip at all");
  await assert.rejects(
    readStatsLines(dir.path, "loopstats", { fromUnixSeconds: 0 }),
    (error: unknown) =>
      error instanceof StatsReadError &&
      error.message.startsWith(`cannot read ${dir.path}/loopstats.20261207.gz:`),
  );
});

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "ntp-stats-reader-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}
