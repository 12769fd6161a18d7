// The statistics plot's SVG: four panels with frames, nice ticks and UTC time labels, one polyline per trace run (broken at gaps), escaped text, "no data", and (fast-check) finite coordinates inside the frames for any records.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  renderStatsPlotSvg,
  STATS_PLOT_FRAMES,
  STATS_PLOT_PANEL_IDS,
  type StatsPlotInput,
} from "../../../src/core/stats/stats_plot.ts";
import type { LoopStatsRecord, PeerStatsRecord } from "../../../src/core/stats/stats_lines.ts";
import { propertyRuns } from "../../support/property_runs.ts";

/** 2026-12-06T12:00:00Z. */
const from = Date.UTC(2026, 11, 6, 12) / 1000;
const hour = 3600;

function loopRecords(
  startUnixSeconds: number,
  count: number,
  stepSeconds: number,
  offsetSeconds: (i: number) => number = (i) => 40e-6 * Math.sin(i / 20),
): LoopStatsRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    unixSeconds: startUnixSeconds + i * stepSeconds,
    offsetSeconds: offsetSeconds(i),
    frequencyPpm: -12.3 + 0.05 * Math.cos(i / 50),
    jitterSeconds: 2e-6,
    wanderPpm: 0.004,
    pollLog2: Math.round(Math.log2(stepSeconds)),
  }));
}

function peerRecords(
  addresses: readonly string[],
  startUnixSeconds: number,
  count: number,
  stepSeconds: number,
): PeerStatsRecord[] {
  return Array.from({ length: count }, (_, i) =>
    addresses.map((address, a) => ({
      unixSeconds: startUnixSeconds + i * stepSeconds + a,
      address,
      statusWord: 0x961a,
      offsetSeconds: (a + 1) * 1e-4 * Math.sin(i / 30),
      delaySeconds: 0.002 * (a + 1) + 1e-4 * Math.cos(i / 10),
      dispersionSeconds: 0.001,
      jitterSeconds: 5e-5,
    }))).flat();
}

const addresses = ["192.0.2.1", "198.51.100.7", "2001:db8::123"];

function input(overrides: Partial<StatsPlotInput> = {}): StatsPlotInput {
  return {
    loopStats: loopRecords(from + 600, 600, 64),
    peerStats: peerRecords(addresses, from + 600, 600, 64),
    fromUnixSeconds: from,
    toUnixSeconds: from + 12 * hour,
    ...overrides,
  };
}

/** The inside of each panel's <g>, by panel id, in document order. */
function panels(svg: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of svg.matchAll(/<g class="panel" id="panel-([a-z-]+)">([\s\S]*?)<\/g>/g)) {
    found.set(match[1]!, match[2]!);
  }
  return found;
}

function polylines(panel: string): { name: string | null; points: [number, number][] }[] {
  return [
    ...panel.matchAll(/<polyline class="trace"(?: data-name="([^"]*)")?[^>]*points="([^"]*)"/g),
  ]
    .map((match) => ({
      name: match[1] ?? null,
      points: match[2]!.split(" ").map((pair) => pair.split(",").map(Number) as [number, number]),
    }));
}

function texts(panel: string, className: string): string[] {
  return [...panel.matchAll(new RegExp(`<text class="${className}"[^>]*>([^<]*)</text>`, "g"))]
    .map((match) => match[1]!);
}

/** Whether `step` is 1, 2 or 5 times a power of ten. */
function isNiceStep(step: number): boolean {
  const exponent = Math.floor(Math.log10(step));
  const mantissa = step / 10 ** exponent;
  return [1, 2, 5, 10].some((nice) => Math.abs(mantissa - nice) < 1e-6);
}

Deno.test("the plot is one SVG document: fixed size, viewBox, white background, sans-serif, four panels in order with frame and title", () => {
  const svg = renderStatsPlotSvg(input());
  assert.match(
    svg,
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /,
  );
  assert.match(
    svg,
    /<svg [^>]*width="1000" height="1100" viewBox="0 0 1000 1100" font-family="sans-serif">/,
  );
  assert.match(svg, /<svg [^>]*>\n<rect x="0" y="0" width="1000" height="1100" fill="#ffffff"\/>/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  const byId = panels(svg);
  assert.deepEqual([...byId.keys()], [...STATS_PLOT_PANEL_IDS]);
  const titles = [...byId.values()].map((panel) => texts(panel, "panel-title")[0]);
  assert.deepEqual(titles, [
    "System offset, µs (loopstats)",
    "Frequency, ppm (loopstats)",
    "Upstream offset, µs (peerstats)",
    "Upstream delay, ms (peerstats)",
  ]);
  STATS_PLOT_FRAMES.forEach((frame, index) => {
    const panel = [...byId.values()][index]!;
    assert.match(
      panel,
      new RegExp(
        `<rect class="frame" x="${frame.leftPx.toFixed(1)}" y="${frame.topPx.toFixed(1)}" width="${
          (frame.rightPx - frame.leftPx).toFixed(1)
        }" height="${(frame.bottomPx - frame.topPx).toFixed(1)}"`,
      ),
      frame.id,
    );
  });
  // Frames do not overlap and stay inside the page.
  for (let i = 1; i < STATS_PLOT_FRAMES.length; i++) {
    assert.ok(STATS_PLOT_FRAMES[i]!.topPx > STATS_PLOT_FRAMES[i - 1]!.bottomPx + 30);
  }
  assert.ok(STATS_PLOT_FRAMES.at(-1)!.bottomPx + 30 < 1100);
});

Deno.test("one polyline per trace: system offset and frequency one each, the upstream panels one per address with a legend", () => {
  const byId = panels(renderStatsPlotSvg(input()));
  assert.equal(polylines(byId.get("system-offset")!).length, 1);
  assert.equal(polylines(byId.get("frequency")!).length, 1);
  for (const id of ["upstream-offset", "upstream-delay"]) {
    const lines = polylines(byId.get(id)!);
    assert.deepEqual(lines.map((line) => line.name), addresses, id);
    const colours = [...byId.get(id)!.matchAll(/<polyline [^>]*stroke="(#[0-9a-f]{6})"/g)]
      .map((m) => m[1]);
    assert.equal(new Set(colours).size, 3, `${id}: a colour per upstream`);
    assert.deepEqual(texts(byId.get(id)!, "legend"), addresses, `${id} legend`);
  }
  assert.equal(texts(byId.get("system-offset")!, "legend").length, 0);
});

Deno.test("value ticks are nice numbers (1, 2, 5 x 10^n apart), evenly spaced, and span the data", () => {
  const cases: [string, (i: number) => number][] = [
    ["tens of µs", (i) => 40e-6 * Math.sin(i / 20)],
    ["ms", (i) => 0.0123 + 0.0031 * Math.sin(i / 7)],
    ["constant", () => 5e-6],
    ["seconds", (i) => -2.5 + i / 100],
  ];
  for (const [name, offset] of cases) {
    const svg = renderStatsPlotSvg(input({ loopStats: loopRecords(from + 60, 300, 64, offset) }));
    const panel = panels(svg).get("system-offset")!;
    const labels = texts(panel, "y-tick").map(Number);
    assert.ok(labels.length >= 2 && labels.length <= 7, `${name}: ${labels}`);
    const step = Number((labels[1]! - labels[0]!).toPrecision(6));
    assert.ok(step > 0 && isNiceStep(step), `${name}: step ${step} of ${labels}`);
    labels.forEach((label, index) => {
      assert.ok(Math.abs(label - (labels[0]! + index * step)) < step * 1e-6, `${name}: ${labels}`);
      assert.ok(Math.abs(label / step - Math.round(label / step)) < 1e-6, `${name}: ${label}`);
    });
    // The tick marks are evenly spaced on the page too, and the trace lies between the end ticks.
    const ys = [...panel.matchAll(/<text class="y-tick" x="[^"]*" y="([^"]*)"/g)].map((m) =>
      Number(m[1])
    );
    const gaps = ys.slice(1).map((y, i) => ys[i]! - y);
    assert.ok(gaps.every((gap) => Math.abs(gap - gaps[0]!) <= 0.11), `${name}: ${ys}`);
    const traceYs = polylines(panel).flatMap((line) => line.points.map(([, y]) => y));
    assert.ok(Math.min(...traceYs) >= ys.at(-1)! - 4 - 0.1, name);
    assert.ok(Math.max(...traceYs) <= ys[0]! - 4 + 0.1, name);
  }
  const units = (offset: (i: number) => number) =>
    texts(
      panels(renderStatsPlotSvg(input({ loopStats: loopRecords(from + 60, 300, 64, offset) })))
        .get("system-offset")!,
      "panel-title",
    )[0];
  assert.equal(units(() => 5e-6), "System offset, µs (loopstats)");
  assert.equal(units((i) => i * 1e-5), "System offset, ms (loopstats)");
  assert.equal(units((i) => i * 1e-2), "System offset, s (loopstats)");
});

Deno.test("time ticks are round UTC times labelled HH:MM, with the date when the window spans days", () => {
  const within = panels(renderStatsPlotSvg(input()));
  const labels = texts(within.get("system-offset")!, "x-tick");
  assert.deepEqual(labels, ["12:00", "14:00", "16:00", "18:00", "20:00", "22:00", "00:00"]);
  assert.deepEqual(texts(within.get("system-offset")!, "x-date"), ["2026-12-06", "2026-12-07"]);
  const oneDay = panels(renderStatsPlotSvg(input({ toUnixSeconds: from + 6 * hour })));
  assert.deepEqual(texts(oneDay.get("frequency")!, "x-tick"), [
    "12:00",
    "13:00",
    "14:00",
    "15:00",
    "16:00",
    "17:00",
    "18:00",
  ]);
  assert.deepEqual(texts(oneDay.get("frequency")!, "x-date"), [], "no date within one UTC day");
  const short = panels(renderStatsPlotSvg(input({ toUnixSeconds: from + 20 })));
  assert.equal(texts(short.get("frequency")!, "x-tick")[1], "12:00:05");
});

Deno.test("a gap of more than three polls and ten minutes breaks the line; shorter ones do not", () => {
  const before = loopRecords(from + 600, 100, 64);
  const after = (gapSeconds: number) =>
    loopRecords(before.at(-1)!.unixSeconds + gapSeconds, 100, 64);
  const runs = (gapSeconds: number) =>
    polylines(
      panels(renderStatsPlotSvg(input({ loopStats: [...before, ...after(gapSeconds)] })))
        .get("system-offset")!,
    ).length;
  assert.equal(runs(64), 1);
  assert.equal(runs(500), 1, "8 min at 64 s polls: under ten minutes");
  assert.equal(runs(2 * hour), 2, "two hours");
  // At 1024 s polls, 17 min between samples is normal; 51 min is three polls.
  const slow = loopRecords(from, 30, 1024);
  const slowRuns = (records: LoopStatsRecord[]) =>
    polylines(panels(renderStatsPlotSvg(input({ loopStats: records }))).get("frequency")!).length;
  assert.equal(slowRuns(slow), 1);
  assert.equal(slowRuns([...slow, ...loopRecords(slow.at(-1)!.unixSeconds + 4000, 5, 1024)]), 2);
  // Peerstats: by the upstream's usual spacing; only the upstream with the gap is broken.
  const peers = peerRecords(addresses, from + 600, 200, 64).filter((r) =>
    !(r.address === addresses[1] && r.unixSeconds > from + 2 * hour &&
      r.unixSeconds < from + 3 * hour)
  );
  const lines = polylines(
    panels(renderStatsPlotSvg(input({ peerStats: peers }))).get(
      "upstream-delay",
    )!,
  );
  assert.deepEqual(lines.map((line) => line.name), [
    addresses[0],
    addresses[1],
    addresses[1],
    addresses[2],
  ]);
  // The two runs of the broken trace end and start around the hole.
  const [first, second] = lines.filter((line) => line.name === addresses[1]);
  const x = (t: number) => STATS_PLOT_FRAMES[0]!.leftPx + (t - from) / (12 * hour) * 740;
  assert.ok(first!.points.at(-1)![0] <= x(from + 2 * hour) + 0.1);
  assert.ok(second!.points[0]![0] >= x(from + 3 * hour) - 0.1);
});

Deno.test("a panel without samples in the window says 'no data' and is still drawn", () => {
  const empty = renderStatsPlotSvg(input({ loopStats: [], peerStats: [] }));
  const byId = panels(empty);
  assert.equal(byId.size, 4);
  for (const [id, panel] of byId) {
    assert.deepEqual(texts(panel, "no-data"), ["no data"], id);
    assert.equal(polylines(panel).length, 0, id);
    assert.match(panel, /<rect class="frame" /, id);
    assert.equal(texts(panel, "x-tick").length, 7, `${id}: the time axis is still drawn`);
  }
  // Records outside the window count as none.
  const outside = renderStatsPlotSvg(input({
    loopStats: loopRecords(from - 2 * hour, 50, 64),
    peerStats: peerRecords(addresses, from + 13 * hour, 50, 64),
  }));
  assert.equal((outside.match(/>no data</g) ?? []).length, 4);
  const onlyLoop = panels(renderStatsPlotSvg(input({ peerStats: [] })));
  assert.deepEqual(
    [...onlyLoop.entries()].filter(([, panel]) => panel.includes(">no data<")).map(([id]) => id),
    ["upstream-offset", "upstream-delay"],
  );
});

Deno.test("text going into the SVG is escaped: addresses and the caption", () => {
  const nasty = `<script>alert("x")</script>&'`;
  const svg = renderStatsPlotSvg(input({
    peerStats: peerRecords([nasty, "192.0.2.1"], from + 600, 50, 64),
    caption: `/var/log/<ntp>&"stats"`,
  }));
  assert.ok(!svg.includes("<script"), "no raw tag");
  assert.doesNotMatch(svg, /&(?!(amp|lt|gt|quot|apos);)/, "every & starts an entity");
  assert.match(svg, /data-name="&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&apos;"/);
  assert.match(svg, />\/var\/log\/&lt;ntp&gt;&amp;&quot;stats&quot;</);
  // Every tag's attributes are quoted name="value" pairs (no value broke out of its quotes).
  const tags = svg.match(/<[^?/!][^>]*>/g) ?? [];
  for (const tag of tags) {
    assert.match(tag, /^<[a-z]+(\s+[a-zA-Z0-9:-]+="[^"<>]*")*\s*\/?>$/, tag);
  }
  assert.ok(!svg.includes("\u0000"));
  const control = renderStatsPlotSvg(input({
    peerStats: peerRecords(["a\u0001b"], from + 600, 5, 64),
  }));
  assert.ok(!control.includes("\u0001"), "characters XML forbids are replaced");
});

Deno.test("the same records give the same document, in whatever order they come", () => {
  const base = input();
  const shuffled: StatsPlotInput = {
    ...base,
    loopStats: [...base.loopStats].reverse(),
    peerStats: [...base.peerStats].sort((a, b) => a.address < b.address ? 1 : -1),
  };
  assert.equal(renderStatsPlotSvg(base), renderStatsPlotSvg(base));
  assert.equal(renderStatsPlotSvg(shuffled), renderStatsPlotSvg(base));
});

Deno.test("a day of 8 s polls keeps at most four points per pixel column", () => {
  const dense = loopRecords(from, 5400, 8);
  const line = polylines(
    panels(renderStatsPlotSvg(input({ loopStats: dense })))
      .get("system-offset")!,
  )[0]!;
  assert.ok(line.points.length <= 4 * 741, `${line.points.length} points`);
  assert.ok(line.points.length > 740, "still every column");
  const perColumn = new Map<number, number>();
  for (const [x] of line.points) {
    perColumn.set(Math.floor(x), (perColumn.get(Math.floor(x)) ?? 0) + 1);
  }
  assert.ok(Math.max(...perColumn.values()) <= 4);
});

const anyNumber = fc.oneof(
  fc.double(),
  fc.double({ min: -1e-3, max: 1e-3, noNaN: true }),
  fc.constantFrom(0, -0, 1e-300, -1e308, 1e308, Number.MAX_VALUE, Number.MIN_VALUE),
);
const anyTime = fc.oneof(
  fc.double({ min: from - hour, max: from + 13 * hour, noNaN: true }),
  fc.constantFrom(from, from + 12 * hour, Number.NaN, Number.POSITIVE_INFINITY),
);
const loopArbitrary: fc.Arbitrary<LoopStatsRecord> = fc.record({
  unixSeconds: anyTime,
  offsetSeconds: anyNumber,
  frequencyPpm: anyNumber,
  jitterSeconds: anyNumber,
  wanderPpm: anyNumber,
  pollLog2: fc.oneof(fc.integer({ min: -10, max: 40 }), fc.constant(Number.NaN)),
});
const peerArbitrary: fc.Arbitrary<PeerStatsRecord> = fc.record({
  unixSeconds: anyTime,
  address: fc.constantFrom("192.0.2.1", "2001:db8::1", "10.0.0.1", "<&>"),
  statusWord: fc.integer({ min: 0, max: 0xffff }),
  offsetSeconds: anyNumber,
  delaySeconds: anyNumber,
  dispersionSeconds: anyNumber,
  jitterSeconds: anyNumber,
});

Deno.test("property: any records give finite coordinates, every trace point inside its panel's frame", () => {
  fc.assert(
    fc.property(
      fc.array(loopArbitrary, { maxLength: 60 }),
      fc.array(peerArbitrary, { maxLength: 60 }),
      fc.double({ min: 60, max: 40 * 86_400, noNaN: true }),
      (loopStats, peerStats, spanSeconds) => {
        const svg = renderStatsPlotSvg({
          loopStats,
          peerStats,
          fromUnixSeconds: from,
          toUnixSeconds: from + spanSeconds,
        });
        for (const match of svg.matchAll(/ (?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g)) {
          assert.ok(Number.isFinite(Number(match[1])), match[0]);
        }
        const byId = panels(svg);
        assert.equal(byId.size, 4);
        STATS_PLOT_FRAMES.forEach((frame) => {
          for (const line of polylines(byId.get(frame.id)!)) {
            for (const [x, y] of line.points) {
              assert.ok(Number.isFinite(x) && Number.isFinite(y), `${frame.id}: ${x},${y}`);
              assert.ok(
                x >= frame.leftPx - 0.051 && x <= frame.rightPx + 0.051,
                `${frame.id} x ${x}`,
              );
              assert.ok(
                y >= frame.topPx - 0.051 && y <= frame.bottomPx + 0.051,
                `${frame.id} y ${y}`,
              );
            }
          }
        });
        assert.doesNotMatch(svg, /NaN|Infinity/);
      },
    ),
    // Under qemu-user (the ARM stage) fewer runs of the same seed.
    { seed: 20261207, numRuns: propertyRuns(300, 100) },
  );
});
