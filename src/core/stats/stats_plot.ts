// The statistics plot of `ntp plot`: loopstats and peerstats records over a time window as one SVG document (system offset, frequency, upstream offsets, upstream delays).
//
// Written by hand (no library): four panels stacked, each a frame with nice value ticks, UTC time
// ticks, a title and its traces as polylines, broken where the samples stop for a while. The
// same records and window always give the same text.
import type { LoopStatsRecord, PeerStatsRecord } from "./stats_lines.ts";
import {
  clampValue,
  niceTicks,
  type SecondsUnit,
  secondsUnitFor,
  timeTicks,
  utcMinuteText,
} from "./plot_axes.ts";

/** What to draw. */
export interface StatsPlotInput {
  readonly loopStats: readonly LoopStatsRecord[];
  readonly peerStats: readonly PeerStatsRecord[];
  /** The window, Unix seconds; records outside it are left out. */
  readonly fromUnixSeconds: number;
  readonly toUnixSeconds: number;
  /** A line under the document title (where the data came from); escaped. */
  readonly caption?: string;
}

/** The panels, top to bottom. */
export const STATS_PLOT_PANEL_IDS = [
  "system-offset",
  "frequency",
  "upstream-offset",
  "upstream-delay",
] as const;

/** One of {@link STATS_PLOT_PANEL_IDS}. */
export type StatsPlotPanelId = (typeof STATS_PLOT_PANEL_IDS)[number];

/** Where a panel's plot frame lies in the document, pixels (its lines run along these edges). */
export interface PlotFrame {
  readonly id: StatsPlotPanelId;
  readonly leftPx: number;
  readonly topPx: number;
  readonly rightPx: number;
  readonly bottomPx: number;
}

/** Size of the document, pixels. */
export const STATS_PLOT_WIDTH_PX = 1000;
/** Height of the document, pixels. */
export const STATS_PLOT_HEIGHT_PX = 1100;

const headerHeightPx = 50;
const panelHeightPx = 260;
const panelTitleOffsetPx = 16;
const frameOffsetPx = 26;
const frameHeightPx = 180;
const frameLeftPx = 90.5;
const frameRightPx = 830.5;
const legendLeftPx = 845;
const legendRowPx = 16;
const maxValueTicks = 7;
const maxTimeTicks = 9;
/** Room left between the data and the frame, as a fraction of the data's range. */
const valueRoom = 0.02;

/**
 * The plot frame of every panel.
 *
 * @example
 * ```ts
 * const offset = STATS_PLOT_FRAMES[0]!;
 * offset.id; // "system-offset"
 * offset.rightPx - offset.leftPx; // 740
 * ```
 */
export const STATS_PLOT_FRAMES: readonly PlotFrame[] = STATS_PLOT_PANEL_IDS.map((id, index) => {
  const topPx = headerHeightPx + index * panelHeightPx + frameOffsetPx + 0.5;
  return { id, leftPx: frameLeftPx, topPx, rightPx: frameRightPx, bottomPx: topPx + frameHeightPx };
});

/**
 * Trace colours: the system offset and frequency traces, then the upstreams' (by address in
 * sorted order, repeating after ten).
 *
 * @example
 * ```ts
 * STATS_PLOT_COLOURS.systemOffset; // "#1f77b4"
 * ```
 */
export const STATS_PLOT_COLOURS = {
  systemOffset: "#1f77b4",
  frequency: "#d62728",
  upstreams: [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
  ],
} as const;

/** One time-ordered series of a panel. */
interface Trace {
  /** Legend text (an upstream's address), or null for a panel with one trace. */
  readonly name: string | null;
  readonly colour: string;
  /** (Unix seconds, value in the panel's unit), ordered by time. */
  readonly points: readonly (readonly [number, number])[];
  /** Whether the samples before and after point i (i >= 1) are too far apart to join. */
  gapBefore(index: number): boolean;
}

interface Panel {
  readonly frame: PlotFrame;
  readonly title: string;
  readonly traces: readonly Trace[];
  /** Show a legend (upstream panels). */
  readonly legend: boolean;
}

/** A gap of at least this long always breaks a trace, seconds (more with long polls). */
const minimumGapSeconds = 600;
/** A gap longer than this many sampling intervals breaks a trace. */
const gapIntervals = 3;

/**
 * The SVG document (UTF-8 text) of the statistics in the window: system offset (loopstats, in
 * µs, ms or s as the data needs), frequency (ppm), and per upstream its offset and delay
 * (peerstats, one colour per address with a legend). A line is broken where its samples are
 * more than three sampling intervals (loopstats: poll intervals; peerstats: the upstream's usual
 * spacing) and more than ten minutes apart. A panel without samples in the window says "no
 * data". Non-finite values are left out; values beyond ±1e15 (in the panel's unit) are drawn at
 * that limit.
 *
 * @example
 * ```ts
 * import { parseLoopStats, parsePeerStats } from "./stats_lines.ts";
 * const loop = parseLoopStats("61381 2860.926 0.000079496 -21.201008 0.000010412 0.004 3")!;
 * const peer = parsePeerStats("61381 2860.926 127.0.0.1 b61a 0.0000794 0.00017 0.0000001 0.00000003")!;
 * const svg = renderStatsPlotSvg({
 *   loopStats: [loop],
 *   peerStats: [peer],
 *   fromUnixSeconds: loop.unixSeconds - 3600,
 *   toUnixSeconds: loop.unixSeconds + 60,
 * });
 * svg.startsWith("<?xml"); // true
 * ```
 */
export function renderStatsPlotSvg(input: StatsPlotInput): string {
  const from = input.fromUnixSeconds;
  const to = input.toUnixSeconds > from ? input.toUnixSeconds : from + 1;
  const inWindow = (t: number) => Number.isFinite(t) && t >= from && t <= to;
  const loop = sortedByTime(input.loopStats.filter((r) => inWindow(r.unixSeconds)));
  const peers = sortedByTime(input.peerStats.filter((r) => inWindow(r.unixSeconds)));
  const frames = STATS_PLOT_FRAMES;

  const loopGap = (records: readonly LoopStatsRecord[]) => (index: number) => {
    const gap = records[index]!.unixSeconds - records[index - 1]!.unixSeconds;
    return gap > Math.max(gapIntervals * 2 ** records[index]!.pollLog2, minimumGapSeconds);
  };
  const offsetUnit = secondsUnitFor(loop.map((r) => r.offsetSeconds));
  const loopTrace = (
    colour: string,
    value: (r: LoopStatsRecord) => number,
  ): Trace[] => {
    const kept = loop.filter((r) => Number.isFinite(value(r)));
    if (kept.length === 0) return [];
    return [{
      name: null,
      colour,
      points: kept.map((r) => [r.unixSeconds, clampValue(value(r))] as const),
      gapBefore: loopGap(kept),
    }];
  };

  const peerOffsetUnit = secondsUnitFor(peers.map((r) => r.offsetSeconds));
  const peerDelayUnit = secondsUnitFor(peers.map((r) => r.delaySeconds));
  const addresses = [...new Set(peers.map((r) => r.address))].sort();
  const peerTraces = (unit: SecondsUnit, value: (r: PeerStatsRecord) => number): Trace[] =>
    addresses.flatMap((address, index) => {
      const kept = peers.filter((r) => r.address === address && Number.isFinite(value(r)));
      if (kept.length === 0) return [];
      const threshold = Math.max(gapIntervals * usualSpacing(kept), minimumGapSeconds);
      return [{
        name: address,
        colour: STATS_PLOT_COLOURS.upstreams[index % STATS_PLOT_COLOURS.upstreams.length]!,
        points: kept.map((r) => [r.unixSeconds, clampValue(value(r) * unit.perSecond)] as const),
        gapBefore: (i: number) => kept[i]!.unixSeconds - kept[i - 1]!.unixSeconds > threshold,
      }];
    });

  const panels: Panel[] = [
    {
      frame: frames[0]!,
      title: `System offset, ${offsetUnit.name} (loopstats)`,
      traces: loopTrace(
        STATS_PLOT_COLOURS.systemOffset,
        (r) => r.offsetSeconds * offsetUnit.perSecond,
      ),
      legend: false,
    },
    {
      frame: frames[1]!,
      title: "Frequency, ppm (loopstats)",
      traces: loopTrace(STATS_PLOT_COLOURS.frequency, (r) => r.frequencyPpm),
      legend: false,
    },
    {
      frame: frames[2]!,
      title: `Upstream offset, ${peerOffsetUnit.name} (peerstats)`,
      traces: peerTraces(peerOffsetUnit, (r) => r.offsetSeconds),
      legend: true,
    },
    {
      frame: frames[3]!,
      title: `Upstream delay, ${peerDelayUnit.name} (peerstats)`,
      traces: peerTraces(peerDelayUnit, (r) => r.delaySeconds),
      legend: true,
    },
  ];

  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${STATS_PLOT_WIDTH_PX}" height="${STATS_PLOT_HEIGHT_PX}" ` +
    `viewBox="0 0 ${STATS_PLOT_WIDTH_PX} ${STATS_PLOT_HEIGHT_PX}" font-family="sans-serif">`,
    `<rect x="0" y="0" width="${STATS_PLOT_WIDTH_PX}" height="${STATS_PLOT_HEIGHT_PX}" fill="#ffffff"/>`,
    `<text x="${frameLeftPx}" y="24" font-size="16" font-weight="bold" fill="#000000">${
      escapeXml(`ntp statistics, ${utcMinuteText(from)} to ${utcMinuteText(to)} UTC`)
    }</text>`,
  ];
  if (input.caption !== undefined && input.caption !== "") {
    out.push(
      `<text x="${frameLeftPx}" y="42" font-size="11" fill="#444444">${
        escapeXml(input.caption)
      }</text>`,
    );
  }
  for (const panel of panels) out.push(...panelSvg(panel, from, to));
  out.push("</svg>", "");
  return out.join("\n");
}

/** The usual time between samples: the median spacing, seconds (0 for fewer than two). */
function usualSpacing(records: readonly { readonly unixSeconds: number }[]): number {
  const spacings: number[] = [];
  for (let i = 1; i < records.length; i++) {
    spacings.push(records[i]!.unixSeconds - records[i - 1]!.unixSeconds);
  }
  if (spacings.length === 0) return 0;
  spacings.sort((a, b) => a - b);
  return spacings[Math.floor(spacings.length / 2)]!;
}

function sortedByTime<T extends { readonly unixSeconds: number }>(records: readonly T[]): T[] {
  return records.map((record, index) => ({ record, index }))
    .sort((a, b) => a.record.unixSeconds - b.record.unixSeconds || a.index - b.index)
    .map((entry) => entry.record);
}

/** Pixel coordinates as written: one decimal, no "-0". */
function px(value: number): string {
  const text = value.toFixed(1);
  return text === "-0.0" ? "0.0" : text;
}

function panelSvg(panel: Panel, from: number, to: number): string[] {
  const { frame } = panel;
  const out: string[] = [`<g class="panel" id="panel-${frame.id}">`];
  const titleY = frame.topPx - 0.5 - frameOffsetPx + panelTitleOffsetPx;
  out.push(
    `<text class="panel-title" x="${frameLeftPx}" y="${px(titleY)}" font-size="13" ` +
      `font-weight="bold" fill="#000000">${escapeXml(panel.title)}</text>`,
  );
  const xOf = (t: number) =>
    frame.leftPx + (t - from) / (to - from) * (frame.rightPx - frame.leftPx);

  // Time axis: grid, tick marks, HH:MM labels, the date under new days.
  for (const tick of timeTicks(from, to, maxTimeTicks)) {
    const x = px(xOf(tick.unixSeconds));
    out.push(
      `<line class="grid" x1="${x}" y1="${px(frame.topPx)}" x2="${x}" y2="${
        px(frame.bottomPx)
      }" stroke="#e4e4e4" stroke-width="1"/>`,
      `<line class="tick" x1="${x}" y1="${px(frame.bottomPx)}" x2="${x}" y2="${
        px(frame.bottomPx + 5)
      }" stroke="#000000" stroke-width="1"/>`,
      `<text class="x-tick" x="${x}" y="${px(frame.bottomPx + 17)}" font-size="11" ` +
        `text-anchor="middle" fill="#000000">${escapeXml(tick.label)}</text>`,
    );
    if (tick.dateLabel !== null) {
      out.push(
        `<text class="x-date" x="${x}" y="${px(frame.bottomPx + 30)}" font-size="11" ` +
          `text-anchor="middle" fill="#444444">${escapeXml(tick.dateLabel)}</text>`,
      );
    }
  }

  const values = panel.traces.flatMap((trace) => trace.points.map((point) => point[1]));
  if (values.length === 0) {
    out.push(
      `<text class="no-data" x="${px((frame.leftPx + frame.rightPx) / 2)}" y="${
        px((frame.topPx + frame.bottomPx) / 2 + 5)
      }" font-size="14" text-anchor="middle" fill="#888888">no data</text>`,
    );
  } else {
    let low = values[0]!;
    let high = values[0]!;
    for (const value of values) {
      if (value < low) low = value;
      if (value > high) high = value;
    }
    // A little room above and below, so that extremes do not vanish into the frame's lines.
    const room = (high - low) * valueRoom;
    const ticks = niceTicks(low - room, high + room, maxValueTicks);
    const yOf = (value: number) =>
      frame.bottomPx -
      (value - ticks.low) / (ticks.high - ticks.low) * (frame.bottomPx - frame.topPx);
    ticks.values.forEach((value, index) => {
      const y = px(yOf(value));
      out.push(
        `<line class="grid" x1="${px(frame.leftPx)}" y1="${y}" x2="${
          px(frame.rightPx)
        }" y2="${y}" stroke="#e4e4e4" stroke-width="1"/>`,
        `<line class="tick" x1="${px(frame.leftPx - 5)}" y1="${y}" x2="${
          px(frame.leftPx)
        }" y2="${y}" stroke="#000000" stroke-width="1"/>`,
        `<text class="y-tick" x="${px(frame.leftPx - 8)}" y="${px(yOf(value) + 4)}" ` +
          `font-size="11" text-anchor="end" fill="#000000">${
            escapeXml(ticks.labels[index]!)
          }</text>`,
      );
    });
    for (const trace of panel.traces) {
      for (const segment of segmentsOf(trace)) {
        const points = thinned(segment.map(([t, v]) => [xOf(t), yOf(v)] as const));
        // A lone sample is drawn as a dot: a zero-length line with round caps.
        const drawn = points.length === 1 ? [points[0]!, points[0]!] : points;
        out.push(
          `<polyline class="trace"${
            trace.name === null ? "" : ` data-name="${escapeXml(trace.name)}"`
          } fill="none" stroke="${trace.colour}" stroke-width="1.5" stroke-linejoin="round" ` +
            `stroke-linecap="round" points="${
              drawn.map(([x, y]) => `${px(x)},${px(y)}`).join(" ")
            }"/>`,
        );
      }
    }
    if (panel.legend) out.push(...legendSvg(panel));
  }
  out.push(
    `<rect class="frame" x="${px(frame.leftPx)}" y="${px(frame.topPx)}" width="${
      px(frame.rightPx - frame.leftPx)
    }" height="${
      px(frame.bottomPx - frame.topPx)
    }" fill="none" stroke="#000000" stroke-width="1"/>`,
    "</g>",
  );
  return out;
}

/** The runs of a trace between gaps. */
function segmentsOf(trace: Trace): (readonly [number, number])[][] {
  const segments: (readonly [number, number])[][] = [];
  let current: (readonly [number, number])[] = [];
  trace.points.forEach((point, index) => {
    if (index > 0 && trace.gapBefore(index)) {
      segments.push(current);
      current = [];
    }
    current.push(point);
  });
  if (current.length > 0) segments.push(current);
  return segments;
}

/**
 * At most four points per pixel column (the first, lowest, highest and last, in their order):
 * the same drawing as every point, a smaller document for a day of 8 s polls.
 */
function thinned(points: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  const kept: (readonly [number, number])[] = [];
  let start = 0;
  while (start < points.length) {
    const column = Math.floor(points[start]![0]);
    let end = start;
    while (end + 1 < points.length && Math.floor(points[end + 1]![0]) === column) end++;
    let lowest = start;
    let highest = start;
    for (let i = start; i <= end; i++) {
      if (points[i]![1] > points[lowest]![1]) lowest = i; // larger y is lower on the page
      if (points[i]![1] < points[highest]![1]) highest = i;
    }
    for (const index of [...new Set([start, lowest, highest, end])].sort((a, b) => a - b)) {
      kept.push(points[index]!);
    }
    start = end + 1;
  }
  return kept;
}

function legendSvg(panel: Panel): string[] {
  const { frame } = panel;
  const named = panel.traces.filter((trace) => trace.name !== null);
  const rows = Math.floor((frame.bottomPx - frame.topPx) / legendRowPx);
  const shown = named.length > rows ? named.slice(0, rows - 1) : named;
  const out: string[] = [];
  shown.forEach((trace, index) => {
    const y = frame.topPx + 12 + index * legendRowPx;
    out.push(
      `<line class="legend" x1="${legendLeftPx}" y1="${px(y - 4)}" x2="${legendLeftPx + 18}" y2="${
        px(y - 4)
      }" stroke="${trace.colour}" stroke-width="2"/>`,
      `<text class="legend" x="${legendLeftPx + 24}" y="${px(y)}" font-size="11" fill="#000000">${
        escapeXml(shortened(trace.name!, 22))
      }</text>`,
    );
  });
  if (shown.length < named.length) {
    out.push(
      `<text class="legend" x="${legendLeftPx + 24}" y="${
        px(frame.topPx + 12 + shown.length * legendRowPx)
      }" font-size="11" fill="#444444">+${named.length - shown.length} more</text>`,
    );
  }
  return out;
}

function shortened(text: string, maxChars: number): string {
  const chars = [...text];
  return chars.length <= maxChars ? text : `${chars.slice(0, maxChars - 1).join("")}…`;
}

/**
 * Text made safe inside an XML element or a quoted attribute.
 *
 * @example
 * ```ts
 * escapeXml(`<a href="x">&'`); // "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => xmlEntities[c]!)
    // Characters XML 1.0 does not allow at all (control characters, lone surrogates).
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/gu, "\ufffd");
}

const xmlEntities: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};
