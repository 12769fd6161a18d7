// `ntp plot`: draws the loopstats and peerstats of the statistics directory over a time window as an SVG document (system offset, frequency, upstream offsets and delays).
import { ConfigError, loadConfigFile, type NtpConfig } from "../config/mod.ts";
import { DEFAULT_CONFIG_PATHS } from "../config/default_paths.ts";
import { utcMinuteText } from "../core/stats/plot_axes.ts";
import {
  type LoopStatsRecord,
  parseLoopStats,
  parsePeerStats,
  type PeerStatsRecord,
} from "../core/stats/stats_lines.ts";
import { renderStatsPlotSvg } from "../core/stats/stats_plot.ts";
import { readStatsLines, StatsReadError } from "../io/stats_reader.ts";
import { UsageError } from "./errors.ts";
import { flagHelp, parseFlags, valueFlag } from "./flag_spec.ts";

/** The longest window drawn: ten years, in hours. */
const maxHours = 87_600;

const plotFlags = {
  config: valueFlag(
    ["--config"],
    "FILE",
    "read statsdir and the file names from this config\n(default: /etc/ntp/ntp.toml, then /etc/ntp.conf, unless --statsdir is given)",
    (text) => text,
  ),
  statsdir: valueFlag(
    ["--statsdir"],
    "DIR",
    "the statistics directory (default: the config's statsdir)",
    (text) => text,
  ),
  hours: valueFlag(
    ["--hours"],
    "N",
    "how far back from --end to draw (default 24)",
    (text, flag) => hoursFlag(flag, text),
  ),
  end: valueFlag(
    ["--end"],
    "ISO8601|now",
    "the end of the window, e.g. 2026-12-07T12:00Z (UTC unless a zone\nis given; default now)",
    (text, flag) => endFlag(flag, text),
  ),
  output: valueFlag(
    ["--output", "-o"],
    "FILE",
    "write the SVG to FILE (default: standard output)",
    (text) => text,
  ),
};

/** Help text of `ntp plot`. */
export const plotUsage =
  `usage: ntp plot [--config FILE] [--statsdir DIR] [--hours N] [--end ISO8601|now] [-o FILE]

${flagHelp(plotFlags)}

Draws the statistics files the daemon writes into statsdir (statistics loopstats peerstats)
as one SVG image: the system offset and frequency (loopstats), and each upstream's offset
and delay (peerstats). Reads every NAME.* file modified within the window (.gz too), as
NTPsec's ntpviz does; the file names follow the config's filegen lines. With no data in the
window the image still comes out, its panels saying "no data", and a warning names the
directory and the window.
Exit status: 0 drawn; 1 no statistics directory, a bad config, an unreadable directory or
an unwritable output; 2 bad flags.`;

/** The options `ntp plot` runs with. */
export interface PlotOptions {
  readonly configPath: string | null;
  readonly statsDir: string | null;
  readonly hours: number;
  /** The end of the window, Unix seconds, or null for now. */
  readonly endUnixSeconds: number | null;
  /** Null: standard output. */
  readonly outputPath: string | null;
}

function hoursFlag(flag: string, text: string): number {
  const hours = Number(text);
  if (text.trim() === "" || !Number.isFinite(hours) || hours <= 0 || hours > maxHours) {
    throw new UsageError(`${flag}: '${text}' is not a number of hours in (0, ${maxHours}]`);
  }
  return hours;
}

function endFlag(flag: string, text: string): number | null {
  if (text === "now") return null;
  // A date and time without a zone is UTC (Date.parse would take it as local time).
  const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
  const milliseconds = /^\d{4}-\d{2}-\d{2}/.test(text)
    ? Date.parse(zoneless ? `${text.replace(" ", "T")}Z` : text)
    : Number.NaN;
  if (!Number.isFinite(milliseconds)) {
    throw new UsageError(
      `${flag}: '${text}' is not an ISO 8601 time (like 2026-12-07T12:00Z) or 'now'`,
    );
  }
  return milliseconds / 1000;
}

/**
 * Parses `ntp plot` flags.
 *
 * @throws {UsageError} On an unknown flag, a missing value, a bad number of hours or a bad time.
 * @example
 * ```ts
 * parsePlotArgs(["--statsdir", "/var/log/ntpstats", "--hours", "6"]).hours; // 6
 * ```
 */
export function parsePlotArgs(args: readonly string[]): PlotOptions {
  const { values } = parseFlags("plot", plotFlags, args);
  return {
    configPath: values.config ?? null,
    statsDir: values.statsdir ?? null,
    hours: values.hours ?? 24,
    endUnixSeconds: values.end ?? null,
    outputPath: values.output ?? null,
  };
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The config to read: --config, else (without --statsdir) the first default file that exists. */
async function configPathOf(options: PlotOptions): Promise<string | null> {
  if (options.configPath !== null) return options.configPath;
  if (options.statsDir !== null) return null;
  for (const path of DEFAULT_CONFIG_PATHS) {
    if (await fileExists(path)) return path;
  }
  return null;
}

/** Where the daemon writes the config's statistics: its statsdir (none: it writes nothing). */
function statsDirOf(config: NtpConfig | null): string | null {
  return config?.statsDir ?? null;
}

/** The base name of a statistics file set: the config's filegen `file`, else the kind itself. */
function baseNameOf(config: NtpConfig | null, kind: "loopstats" | "peerstats"): string {
  return config?.statistics.find((entry) => entry.kind === kind)?.fileName ?? kind;
}

const encoder = new TextEncoder();

/**
 * Runs `ntp plot ARGS...`: writes the SVG and returns the exit code (0 drawn, also without data;
 * 1 no statistics directory, a bad config, an unreadable directory or an unwritable output).
 *
 * @throws {UsageError} On bad flags (the CLI prints usage and exits 2).
 */
export async function runPlotCommand(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(plotUsage);
    return 0;
  }
  const options = parsePlotArgs(args);
  const configPath = await configPathOf(options);
  let config: NtpConfig | null = null;
  if (configPath !== null) {
    try {
      config = await loadConfigFile(configPath, { checkPaths: false });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`ntp plot: cannot use the config ${configPath}:\n${error.message}`);
      return 1;
    }
  }
  const statsDir = options.statsDir ?? statsDirOf(config);
  if (statsDir === null) {
    const where = configPath === null
      ? `no config found (${DEFAULT_CONFIG_PATHS.join(", ")}; --config FILE names another)`
      : `${configPath} sets no statsdir`;
    console.error(
      `ntp plot: no statistics directory: ${where}. Pass --statsdir DIR, or set statsdir in ` +
        `the config (TOML: statsdir = "/var/log/ntp"; ntp.conf: statsdir /var/log/ntp/).`,
    );
    return 1;
  }
  const toUnixSeconds = options.endUnixSeconds ?? Date.now() / 1000;
  const fromUnixSeconds = toUnixSeconds - options.hours * 3600;
  const inWindow = (record: { readonly unixSeconds: number }) =>
    record.unixSeconds >= fromUnixSeconds && record.unixSeconds <= toUnixSeconds;
  const loopName = baseNameOf(config, "loopstats");
  const peerName = baseNameOf(config, "peerstats");
  let loopStats: LoopStatsRecord[];
  let peerStats: PeerStatsRecord[];
  try {
    const window = { fromUnixSeconds, toUnixSeconds };
    loopStats = (await readStatsLines(statsDir, loopName, window)).map(parseLoopStats)
      .filter((record): record is LoopStatsRecord => record !== null && inWindow(record));
    peerStats = (await readStatsLines(statsDir, peerName, window)).map(parsePeerStats)
      .filter((record): record is PeerStatsRecord => record !== null && inWindow(record));
  } catch (error) {
    if (!(error instanceof StatsReadError)) throw error;
    console.error(`ntp plot: ${error.message}`);
    return 1;
  }
  const window = `${utcMinuteText(fromUnixSeconds)} to ${utcMinuteText(toUnixSeconds)} UTC`;
  if (loopStats.length === 0 && peerStats.length === 0) {
    console.error(
      `ntp plot: warning: no ${loopName} or ${peerName} lines in ${statsDir} from ${window}; ` +
        `the plot says "no data" (is statistics loopstats peerstats set, and the daemon running?)`,
    );
  } else if (loopStats.length === 0 || peerStats.length === 0) {
    console.error(
      `ntp plot: warning: no ${loopStats.length === 0 ? loopName : peerName} lines in ` +
        `${statsDir} from ${window}`,
    );
  }
  const svg = renderStatsPlotSvg({
    loopStats,
    peerStats,
    fromUnixSeconds,
    toUnixSeconds,
    caption:
      `${statsDir}: ${loopStats.length} ${loopName} and ${peerStats.length} ${peerName} lines`,
  });
  if (options.outputPath === null) {
    const bytes = encoder.encode(svg);
    try {
      let written = 0;
      while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
    } catch (error) {
      // `ntp plot | head`: the reader went away; nothing more to say.
      if (error instanceof Deno.errors.BrokenPipe) return 0;
      throw error;
    }
  } else {
    try {
      await Deno.writeTextFile(options.outputPath, svg);
    } catch (error) {
      console.error(`ntp plot: cannot write ${options.outputPath}: ${(error as Error).message}`);
      return 1;
    }
  }
  return 0;
}
