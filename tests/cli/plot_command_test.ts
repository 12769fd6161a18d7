// `ntp plot` end to end: a generated statistics directory drawn by the CLI, rendered by rsvg-convert and checked pixel by pixel; the config's statsdir and file names; errors and warnings users can act on.
import assert from "node:assert/strict";
import {
  formatLoopStats,
  formatPeerStats,
  type LoopStatsRecord,
  type PeerStatsRecord,
} from "../../src/core/stats/stats_lines.ts";
import { STATS_PLOT_COLOURS, STATS_PLOT_FRAMES } from "../../src/core/stats/stats_plot.ts";
import { ntpTaskFlags } from "../support/ntp_server_process.ts";
import { decodePng, pixelAt, type PngImage } from "../support/png_pixels.ts";
import { type CommandResult, runCommand } from "../support/processes.ts";

const repoRoot = new URL("../../", import.meta.url);
const rsvgConvert = "rsvg-convert";

/** Runs `ntp ARGS...` from source (main.ts, with the task's permission flags). */
async function runNtp(args: readonly string[]): Promise<CommandResult> {
  return await runCommand(
    [Deno.execPath(), "run", ...await ntpTaskFlags(), "main.ts", ...args],
    { cwd: repoRoot, env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" }, timeoutMs: 60_000 },
  );
}

/** Renders an SVG file to PNG with rsvg-convert (librsvg) and decodes it. */
async function render(svgPath: string): Promise<PngImage> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(rsvgConvert, {
      args: ["--format", "png", svgPath],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "rsvg-convert is missing: the plot test renders the SVG with librsvg; " +
          "install it with `apt-get install librsvg2-bin`",
      );
    }
    throw error;
  }
  assert.equal(output.code, 0, `rsvg-convert: ${new TextDecoder().decode(output.stderr)}`);
  return await decodePng(output.stdout);
}

/** The end of the fixture's window: 2026-12-07T12:00Z; the window is the 24 h before. */
const endUnixSeconds = Date.UTC(2026, 11, 7, 12) / 1000;
const fromUnixSeconds = endUnixSeconds - 86_400;
const hour = 3600;
/** Samples from 13:00 the day before to 11:00, but none in the hole from 02:00 to 04:00. */
const dataStart = fromUnixSeconds + hour;
const dataEnd = endUnixSeconds - hour;
const holeStart = Date.UTC(2026, 11, 7, 2) / 1000;
const holeEnd = Date.UTC(2026, 11, 7, 4) / 1000;
const upstreams = ["192.0.2.1", "198.51.100.7"];

function fixtureRecords(): { loop: LoopStatsRecord[]; peers: PeerStatsRecord[] } {
  const loop: LoopStatsRecord[] = [];
  const peers: PeerStatsRecord[] = [];
  // Some lines before the window too (in the same file): they must not be drawn.
  for (let t = dataStart - 3 * hour, i = 0; t <= dataEnd; t += 64, i++) {
    if (t >= holeStart && t < holeEnd) continue;
    if (t >= fromUnixSeconds && t < dataStart) continue;
    loop.push({
      unixSeconds: t,
      offsetSeconds: 30e-6 * Math.sin(i / 40),
      frequencyPpm: -12.3 + 0.1 * Math.cos(i / 200),
      jitterSeconds: 3e-6,
      wanderPpm: 0.003,
      pollLog2: 6,
    });
    upstreams.forEach((address, a) =>
      peers.push({
        unixSeconds: t + a,
        address,
        statusWord: 0x961a,
        offsetSeconds: (a + 1) * 50e-6 * Math.sin(i / 30),
        delaySeconds: 0.002 + a * 0.003 + 0.0002 * Math.cos(i / 10),
        dispersionSeconds: 0.001,
        jitterSeconds: 4e-5,
      })
    );
  }
  return { loop, peers };
}

function dayName(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10).replaceAll("-", "");
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Writes the fixture as the daemon does: NAME.YYYYMMDD per UTC day (yesterday's peerstats
 * gzipped, as logrotate leaves it), each file last modified at the end of its data; plus an old
 * file with lines in the window that is skipped for its age, as ntpviz does.
 */
async function writeStatsDir(
  dir: string,
  names: { loop: string; peer: string } = { loop: "loopstats", peer: "peerstats" },
): Promise<void> {
  const { loop, peers } = fixtureRecords();
  const byDay = new Map<string, { loop: string[]; peer: string[]; last: number }>();
  const entry = (t: number) => {
    const key = dayName(t);
    if (!byDay.has(key)) byDay.set(key, { loop: [], peer: [], last: t });
    const found = byDay.get(key)!;
    found.last = Math.max(found.last, t);
    return found;
  };
  for (const record of loop) entry(record.unixSeconds).loop.push(formatLoopStats(record));
  for (const record of peers) entry(record.unixSeconds).peer.push(formatPeerStats(record));
  for (const [day, files] of byDay) {
    const loopPath = `${dir}/${names.loop}.${day}`;
    await Deno.writeTextFile(loopPath, files.loop.join("\n") + "\n");
    const gzipped = day === dayName(fromUnixSeconds);
    const peerPath = `${dir}/${names.peer}.${day}${gzipped ? ".gz" : ""}`;
    const peerText = files.peer.join("\n") + "\n";
    if (gzipped) await Deno.writeFile(peerPath, await gzip(peerText));
    else await Deno.writeTextFile(peerPath, peerText);
    for (const path of [loopPath, peerPath]) await Deno.utime(path, files.last, files.last);
  }
  // Modified long before the window: not read (its line would be a spike at 20:00).
  const stale = `${dir}/${names.loop}.20261101`;
  await Deno.writeTextFile(
    stale,
    formatLoopStats({
      unixSeconds: fromUnixSeconds + 8 * hour,
      offsetSeconds: 0.5,
      frequencyPpm: 400,
      jitterSeconds: 0,
      wanderPpm: 0,
      pollLog2: 6,
    }) + "\n",
  );
  await Deno.utime(stale, fromUnixSeconds - 30 * 86_400, fromUnixSeconds - 30 * 86_400);
}

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "ntp-plot-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

const windowArgs = ["--end", "2026-12-07T12:00Z", "--hours", "24"];

type Rgb = readonly [number, number, number];

function rgbOf(hex: string): Rgb {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;
}

/**
 * Whether the pixel is `colour` drawn over white, at least 35% covered (anti-aliased line edges
 * are blends): the best blend factor explains every channel within 30.
 */
function near(image: PngImage, x: number, y: number, colour: Rgb): boolean {
  const pixel = pixelAt(image, x, y);
  const ink = colour.map((c) => 255 - c);
  const seen = [0, 1, 2].map((i) => 255 - pixel[i]!);
  const cover = seen.reduce((sum, s, i) => sum + s * ink[i]!, 0) /
    ink.reduce((sum, k) => sum + k * k, 0);
  return cover >= 0.35 && seen.every((s, i) => Math.abs(s - cover * ink[i]!) <= 30);
}

function isDark(image: PngImage, x: number, y: number): boolean {
  const [r, g, b] = pixelAt(image, x, y);
  return r + g + b < 200;
}

/** The columns inside a frame (x pixel indexes) where the colour shows in some row of it. */
function columnsWith(image: PngImage, frameIndex: number, colour: Rgb): Set<number> {
  const frame = STATS_PLOT_FRAMES[frameIndex]!;
  const columns = new Set<number>();
  for (let x = Math.ceil(frame.leftPx) + 1; x < Math.floor(frame.rightPx) - 1; x++) {
    for (let y = Math.ceil(frame.topPx) + 1; y < Math.floor(frame.bottomPx) - 1; y++) {
      if (near(image, x, y, colour)) {
        columns.add(x);
        break;
      }
    }
  }
  return columns;
}

/** The pixel column of a time in the fixture's window. */
function columnOf(unixSeconds: number): number {
  const frame = STATS_PLOT_FRAMES[0]!;
  return frame.leftPx +
    (unixSeconds - fromUnixSeconds) / (endUnixSeconds - fromUnixSeconds) *
      (frame.rightPx - frame.leftPx);
}

Deno.test("ntp plot draws a statistics directory; rsvg-convert renders it: frames, and the traces where the data is", async () => {
  await using dir = await tempDir();
  const stats = `${dir.path}/stats`;
  await Deno.mkdir(stats);
  await writeStatsDir(stats);
  const svgPath = `${dir.path}/plot.svg`;
  const result = await runNtp(["plot", "--statsdir", stats, ...windowArgs, "-o", svgPath]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "", "no warning with data");
  assert.equal(result.stdout, "", "the SVG went to the file");
  const svg = await Deno.readTextFile(svgPath);
  const { loop, peers } = fixtureRecords();
  const inWindow = (r: { unixSeconds: number }) =>
    r.unixSeconds >= fromUnixSeconds && r.unixSeconds <= endUnixSeconds;
  assert.match(
    svg,
    new RegExp(
      `${stats}: ${loop.filter(inWindow).length} loopstats and ${
        peers.filter(inWindow).length
      } peerstats lines`,
    ),
    "every line in the window read (the gzipped day too), none from the stale file",
  );

  const image = await render(svgPath);
  assert.equal(image.width, 1000);
  assert.equal(image.height, 1100);
  let nonWhite = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const [r, g, b] = pixelAt(image, x, y);
      if (r + g + b < 3 * 245) nonWhite++;
    }
  }
  assert.ok(nonWhite > 20_000, `only ${nonWhite} non-white pixels`);
  assert.ok(
    pixelAt(image, 995, 5).every((value) => value === 255),
    "white background, not transparent",
  );

  // Every frame's four edges are dark lines.
  for (const frame of STATS_PLOT_FRAMES) {
    const [left, right] = [Math.floor(frame.leftPx), Math.floor(frame.rightPx)];
    const [top, bottom] = [Math.floor(frame.topPx), Math.floor(frame.bottomPx)];
    let dark = 0;
    let total = 0;
    for (let x = left + 2; x <= right - 2; x++) {
      total += 2;
      dark += (isDark(image, x, top) ? 1 : 0) + (isDark(image, x, bottom) ? 1 : 0);
    }
    for (let y = top + 2; y <= bottom - 2; y++) {
      total += 2;
      dark += (isDark(image, left, y) ? 1 : 0) + (isDark(image, right, y) ? 1 : 0);
    }
    assert.ok(dark >= total * 0.97, `${frame.id}: ${dark} of ${total} frame pixels dark`);
    // ... and just inside them it is not all dark (a frame, not a filled box).
    assert.ok(!isDark(image, left + 3, top + 3), `${frame.id}: inside the frame`);
  }

  // The system offset trace: its colour in the columns with data (13:00 to 11:00, less the hole:
  // 20 of 24 hours), none before the data starts nor in the hole.
  const blue = rgbOf(STATS_PLOT_COLOURS.systemOffset);
  const offsetColumns = columnsWith(image, 0, blue);
  const width = STATS_PLOT_FRAMES[0]!.rightPx - STATS_PLOT_FRAMES[0]!.leftPx;
  assert.ok(
    offsetColumns.size >= 0.75 * width && offsetColumns.size <= 0.88 * width,
    `system offset trace in ${offsetColumns.size} of ${width} columns`,
  );
  const inRange = (a: number, b: number) =>
    [...offsetColumns].filter((x) => x > columnOf(a) + 3 && x < columnOf(b) - 3);
  assert.deepEqual(inRange(fromUnixSeconds, dataStart), [], "nothing before the data starts");
  assert.deepEqual(inRange(holeStart, holeEnd), [], "the line is broken over the hole");
  assert.ok(
    inRange(dataStart, holeStart).length > 0.95 * (columnOf(holeStart) - columnOf(dataStart) - 6),
  );
  assert.ok(inRange(holeEnd, dataEnd).length > 0.95 * (columnOf(dataEnd) - columnOf(holeEnd) - 6));
  // The frequency trace is red and in its own panel; no blue there.
  const red = rgbOf(STATS_PLOT_COLOURS.frequency);
  assert.ok(columnsWith(image, 1, red).size >= 0.75 * width, "frequency trace");
  assert.equal(
    columnsWith(image, 1, blue).size,
    0,
    "no system offset trace in the frequency panel",
  );
  assert.equal(columnsWith(image, 0, red).size, 0, "no frequency trace in the offset panel");
  // One colour per upstream in both upstream panels.
  for (const panel of [2, 3]) {
    for (const colour of STATS_PLOT_COLOURS.upstreams.slice(0, 2)) {
      assert.ok(
        columnsWith(image, panel, rgbOf(colour)).size >= 0.75 * width,
        `${STATS_PLOT_FRAMES[panel]!.id}: ${colour}`,
      );
    }
  }
});

Deno.test("ntp plot reads statsdir and the filegen file names from --config, and writes to stdout without -o", async () => {
  await using dir = await tempDir();
  const stats = `${dir.path}/stats`;
  await Deno.mkdir(stats);
  await writeStatsDir(stats, { loop: "loop", peer: "peer" });
  const config = `${dir.path}/ntp.toml`;
  await Deno.writeTextFile(
    config,
    [
      `statsdir = "${stats}"`,
      'statistics = ["loopstats", "peerstats"]',
      "[[filegen]]",
      'name = "loopstats"',
      'file = "loop"',
      "[[filegen]]",
      'name = "peerstats"',
      'file = "peer"',
      "",
    ].join("\n"),
  );
  const result = await runNtp(["plot", "--config", config, ...windowArgs]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  assert.match(result.stdout, /^<\?xml /);
  assert.match(result.stdout, / [1-9]\d+ loop and [1-9]\d+ peer lines</);
  assert.equal((result.stdout.match(/>no data</g) ?? []).length, 0);
});

Deno.test("ntp plot without data in the window still writes the plot ('no data') and warns naming the directory and window", async () => {
  await using dir = await tempDir();
  const stats = `${dir.path}/stats`;
  await Deno.mkdir(stats);
  await writeStatsDir(stats);
  const svgPath = `${dir.path}/plot.svg`;
  const result = await runNtp([
    "plot",
    "--statsdir",
    stats,
    "--end",
    "2026-11-01T00:00",
    "--hours",
    "6",
    "-o",
    svgPath,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stderr.trim(),
    `ntp plot: warning: no loopstats or peerstats lines in ${stats} from 2026-10-31 18:00 to ` +
      `2026-11-01 00:00 UTC; the plot says "no data" (is statistics loopstats peerstats set, and ` +
      `the daemon running?)`,
  );
  const svg = await Deno.readTextFile(svgPath);
  assert.equal((svg.match(/>no data</g) ?? []).length, 4);
  const image = await render(svgPath);
  const frame = STATS_PLOT_FRAMES[0]!;
  assert.ok(
    isDark(image, Math.floor(frame.leftPx), Math.floor((frame.topPx + frame.bottomPx) / 2)),
  );
  assert.equal(columnsWith(image, 0, rgbOf(STATS_PLOT_COLOURS.systemOffset)).size, 0);

  // Only peerstats missing: a warning naming that set.
  const peerFiles = (await Array.fromAsync(Deno.readDir(stats)))
    .filter((entry) => entry.name.startsWith("peerstats"));
  for (const entry of peerFiles) await Deno.remove(`${stats}/${entry.name}`);
  const partial = await runNtp(["plot", "--statsdir", stats, ...windowArgs, "-o", svgPath]);
  assert.equal(partial.code, 0, partial.stderr);
  assert.match(
    partial.stderr,
    /^ntp plot: warning: no peerstats lines in .* from 2026-12-06 12:00 to 2026-12-07 12:00 UTC$/m,
  );
});

Deno.test("ntp plot exits 1 saying what to do: no statsdir anywhere, a missing directory", async () => {
  await using dir = await tempDir();
  const config = `${dir.path}/ntp.toml`;
  await Deno.writeTextFile(config, '[[server]]\naddress = "192.0.2.1"\n');
  const none = await runNtp(["plot", "--config", config]);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, "");
  assert.match(
    none.stderr,
    /no statistics directory: .*ntp\.toml sets no statsdir\. Pass --statsdir DIR, or set statsdir in the config/,
  );
  const missing = await runNtp(["plot", "--statsdir", `${dir.path}/nope`]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.trim(),
    `ntp plot: statistics directory ${dir.path}/nope does not exist`,
  );
  const bad = `${dir.path}/bad.toml`;
  await Deno.writeTextFile(bad, "statsdir = 5\n");
  const invalid = await runNtp(["plot", "--config", bad]);
  assert.equal(invalid.code, 1);
  assert.match(
    invalid.stderr,
    /^ntp plot: cannot use the config .*bad\.toml:\n.*bad\.toml:1:\d+: error: /,
  );
});

Deno.test("ntp plot: bad flags name the flag and exit 2; --help explains the flags", async () => {
  for (
    const [args, pattern] of [
      [["--hours", "x"], /--hours: 'x' is not a number of hours/],
      [["--hours", "0"], /--hours: '0' is not a number of hours/],
      [["--end", "yesterday"], /--end: 'yesterday' is not an ISO 8601 time/],
      [["--bogus"], /plot: unknown flag '--bogus'/],
      [["-o"], /-o needs a value/],
      [["extra"], /plot: unexpected argument 'extra'/],
    ] as const
  ) {
    const result = await runNtp(["plot", ...args]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, pattern, args.join(" "));
  }
  const help = await runNtp(["plot", "--help"]);
  assert.equal(help.code, 0);
  for (const flag of ["--config", "--statsdir", "--hours", "--end", "--output, -o"]) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const usage = await runNtp(["help"]);
  assert.match(usage.stdout, /^ {2}plot \[--config FILE\] \[--statsdir DIR\] \[--hours N\]/m);
});
