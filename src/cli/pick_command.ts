// `ntp pick`: measures candidate upstreams, drops the bad ones, picks the nearest diverse few, prints them, and optionally writes them into a config.
import { basename, dirname, extname, join } from "node:path";
import { parseCandidateList } from "../config/candidate_list.ts";
import { formatDiagnostic, hasErrors } from "../config/diagnostics.ts";
import { inspectConfigFile } from "../config/load_config_file.ts";
import type { UpstreamConfig } from "../config/ntp_config.ts";
import { detectFormat } from "../config/parse_config.ts";
import { replaceServers } from "../config/replace_servers.ts";
import { fieldSpec, sectionSpec } from "../config/schema.ts";
import { type Candidate, candidateLabel } from "../core/pick/candidate.ts";
import { candidateFigures } from "../core/pick/candidate_figures.ts";
import { PICK_COUNT, pickUpstreams } from "../core/pick/pick_upstreams.ts";
import {
  DEFAULT_PROBE_SAMPLES,
  PROBE_SPACING_SECONDS,
  probeCandidates,
  type ProbeProgress,
} from "../io/candidate_probe.ts";
import { loadLater } from "../io/load_later.ts";
import { UsageError } from "./errors.ts";
import {
  flagHelp,
  type FlagSpec,
  parseFlags,
  switchFlag,
  valueFlag,
  wholeNumberFlag,
} from "./flag_spec.ts";
import { pickJson, pickSummary, pickTable, serverBlock } from "./pick_report.ts";

/** Where `ntp pick` looks for candidates without --from: the installed list, then the shipped one. */
export const defaultCandidatePaths: readonly string[] = [
  "/etc/ntp/candidates.txt",
  decodeURIComponent(new URL("../../conf/candidates.txt", import.meta.url).pathname),
];

const familyFlag: FlagSpec<4 | 6 | null> = {
  names: ["-4", "-6"],
  help: "use only IPv4, or only IPv6, addresses",
  arity: "none",
  initial: null,
  take: (current, _text, flag) => {
    const wanted = flag === "-4" ? 4 : 6;
    if (current !== null && current !== wanted) {
      throw new UsageError("-4 and -6 exclude each other");
    }
    return wanted;
  },
};

const pickFlags = {
  from: valueFlag(
    ["--from"],
    "FILE",
    "candidate servers: one HOST or HOST:PORT per line ([IPv6]:PORT), '#' starts\na comment (default /etc/ntp/candidates.txt, else the list shipped with ntp:\npublic stratum 1 servers)",
    (text) => text,
  ),
  count: valueFlag(
    ["--count"],
    "N",
    `how many servers to pick, ${PICK_COUNT.min} to ${PICK_COUNT.max} (default ${PICK_COUNT.default})`,
    (text, flag) => wholeNumberFlag(flag, text, PICK_COUNT),
  ),
  family: familyFlag,
  write: valueFlag(
    ["--write"],
    "CONFIG",
    "put the picked servers into CONFIG (TOML or ntp.conf) in place of its\n[[server]] tables / server lines, keeping everything else and its comments;\nwritten only when 'ntp config check' passes on the result",
    (text) => text,
  ),
  json: switchFlag(["--json"], "print one JSON object instead of the table"),
  nts: switchFlag(
    ["--nts"],
    "also try NTS-KE with every usable candidate (TLS, certificate checked):\nthose that pass rank first and are written with nts = true",
  ),
  ntsCa: valueFlag(
    ["--nts-ca"],
    "FILE",
    "with --nts: trust the CA certificates in FILE instead of the system's",
    (text) => text,
  ),
  ntsPort: valueFlag(
    ["--nts-port"],
    "PORT",
    "with --nts: the NTS-KE port to try (default 4460)",
    (text, flag) => wholeNumberFlag(flag, text, { min: 1, max: 65535 }),
  ),
};

/** Help text of `ntp pick`. */
export const pickUsage =
  `usage: ntp pick [--from FILE] [--count N] [-4|-6] [--write CONFIG] [--json] [--nts [--nts-ca FILE] [--nts-port PORT]]

${flagHelp(pickFlags)}

Asks every candidate at once, politely: ${DEFAULT_PROBE_SAMPLES} requests each, ${PROBE_SPACING_SECONDS} s apart (about ${
    DEFAULT_PROBE_SAMPLES * PROBE_SPACING_SECONDS
  } s in all).
Drops the unreachable, those that send a Kiss-o'-Death, the unsynchronised, and falsetickers
(whose offset disagrees with the majority); ranks the rest by delay, then jitter; picks the
nearest, preferring servers that follow different references (refids). Prints what it measured
and why each was kept or dropped, then a [[server]] block. Never changes the clock.
Exit status: 0 at least one server picked (and written); 1 none usable, or the list or CONFIG
could not be read, or the result failed the config check (CONFIG is left as it was); 2 bad flags.`;

/** The options `ntp pick` runs with. */
export interface PickCommandOptions {
  /** The candidate list; null = the first of {@link defaultCandidatePaths} that exists. */
  readonly from: string | null;
  readonly count: number;
  readonly family: 4 | 6 | null;
  readonly write: string | null;
  readonly json: boolean;
  /** --nts: prefer candidates whose NTS-KE succeeds (CA file or null for the system's, KE port). */
  readonly nts: { readonly caFile: string | null; readonly kePort: number } | null;
}

/**
 * Parses `ntp pick` arguments.
 *
 * @throws {UsageError} On an unknown flag, a missing value or a count outside 4..7.
 */
export function parsePickArgs(args: readonly string[]): PickCommandOptions {
  const { values } = parseFlags("pick", pickFlags, args);
  if (!values.nts && (values.ntsCa !== undefined || values.ntsPort !== undefined)) {
    throw new UsageError("pick: --nts-ca and --nts-port need --nts");
  }
  return {
    from: values.from ?? null,
    count: values.count ?? PICK_COUNT.default,
    family: values.family,
    write: values.write ?? null,
    json: values.json,
    nts: values.nts ? { caFile: values.ntsCa ?? null, kePort: values.ntsPort ?? 4460 } : null,
  };
}

/** A [[server]] entry for a picked candidate: iburst on, every other option at its default. */
export function pickedUpstream(
  candidate: Candidate,
  options: {
    family: 4 | 6 | null;
    /** NTS settings for a candidate whose NTS-KE succeeded; absent or null: plain NTP. */
    nts?: { readonly caFile: string | null; readonly kePort: number } | null;
  },
): UpstreamConfig {
  const spec = sectionSpec("server");
  const numberDefault = (key: string): number => {
    const value = spec === undefined ? undefined : fieldSpec(spec, key)?.default;
    if (typeof value !== "number") {
      throw new Error(`internal: no numeric default for server.${key}`);
    }
    return value;
  };
  const literal = /^[0-9.]+$/.test(candidate.host) ? 4 : candidate.host.includes(":") ? 6 : null;
  return {
    host: candidate.host,
    port: candidate.port,
    family: literal ?? options.family,
    iburst: true,
    burst: false,
    prefer: false,
    noselect: false,
    minPollLog2: numberDefault("minpoll"),
    maxPollLog2: numberDefault("maxpoll"),
    version: numberDefault("version"),
    nts: options.nts === undefined || options.nts === null
      ? null
      : { ...options.nts, keServer: null, verifyCertificate: true },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** How many NTS-KE attempts run at once, and how long each may take. */
const NTS_PROBE_PARALLEL = 8;
const NTS_PROBE_TIMEOUT_MS = 3000;

/**
 * The candidates whose NTS-KE succeeds (TLS 1.3, certificate checked against the name as listed,
 * cookies given); the others are reported on stderr with the reason.
 */
async function ntsCapable(
  candidates: readonly Candidate[],
  nts: { readonly caFile: string | null; readonly kePort: number },
): Promise<Set<Candidate>> {
  const keClient = await loadLater<typeof import("../io/nts_ke_client.ts")>(
    new URL("../io/nts_ke_client.ts", import.meta.url),
  );
  const passed = new Set<Candidate>();
  const queue = [...candidates];
  console.error(`ntp pick: trying NTS-KE (TCP ${nts.kePort}) with ${candidates.length} candidates`);
  const worker = async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      try {
        const ke = await keClient.runNtsKeyExchange({
          host: c.host,
          port: nts.kePort,
          caFile: nts.caFile,
          timeoutMs: NTS_PROBE_TIMEOUT_MS,
        });
        if (ke.cookies.length > 0) passed.add(c);
      } catch (error) {
        console.error(`ntp pick: ${candidateLabel(c)}: no NTS: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: NTS_PROBE_PARALLEL }, worker));
  return passed;
}

/** Shows probe progress on stderr: one rewritten line on a terminal, a line per round otherwise. */
function progressReporter(): { update(p: ProbeProgress): void; done(): void } {
  const terminal = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastRound = -1;
  let shown = false;
  const text = (p: ProbeProgress) =>
    p.resolved < p.candidates
      ? `resolving ${p.candidates} candidates: ${p.resolved} done`
      : `probing: ${p.sent}/${p.planned} requests sent, ${p.answered} answered`;
  return {
    update(p) {
      if (terminal) {
        Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text(p)}`));
        shown = true;
        return;
      }
      const perRound = Math.max(1, p.planned / DEFAULT_PROBE_SAMPLES);
      const round = p.resolved < p.candidates ? -1 : Math.floor(p.sent / perRound);
      if (round > lastRound && p.resolved === p.candidates) {
        lastRound = round;
        console.error(text(p));
      }
    },
    done() {
      if (terminal && shown) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    },
  };
}

/**
 * Writes `servers` into the config file `path` in place of its servers: the new text goes to a
 * temporary file beside it (same mode), is checked exactly as `ntp config check` checks, and
 * replaces the file only when it passes. Returns the problems found, [] on success.
 */
export async function writePickedServers(
  path: string,
  servers: readonly UpstreamConfig[],
  options: { readonly note: string },
): Promise<{ ok: boolean; messages: string[] }> {
  let text: string;
  let info: Deno.FileInfo;
  try {
    text = await Deno.readTextFile(path);
    info = await Deno.stat(path);
  } catch (error) {
    return { ok: false, messages: [`${path}: cannot read it: ${(error as Error).message}`] };
  }
  const format = detectFormat(path, text);
  const updated = replaceServers(text, servers, { format, note: options.note });
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16);
  const temp = join(dirname(path), `.${basename(path)}.pick-${random}${extname(path)}`);
  try {
    await Deno.writeTextFile(temp, updated, { mode: (info.mode ?? 0o644) & 0o7777 });
    await Deno.chmod(temp, (info.mode ?? 0o644) & 0o7777);
    if (info.uid !== null && info.gid !== null) {
      await Deno.chown(temp, info.uid, info.gid).catch(() => {});
    }
    const result = await inspectConfigFile(temp, { format });
    const messages = result.diagnostics.map((d) => formatDiagnostic({ ...d, file: path }));
    if (result.config === null || hasErrors(result.diagnostics)) {
      await Deno.remove(temp).catch(() => {});
      return {
        ok: false,
        messages: [...messages, `${path}: not written: the result fails 'ntp config check'`],
      };
    }
    await Deno.rename(temp, path);
    return { ok: true, messages };
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    return { ok: false, messages: [`${path}: cannot write it: ${(error as Error).message}`] };
  }
}

/**
 * Runs `ntp pick ARGS...`.
 *
 * @throws {UsageError} On bad flags (the CLI prints usage and exits 2).
 */
export async function runPickCommand(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(pickUsage);
    return 0;
  }
  const options = parsePickArgs(args);
  let from = options.from;
  if (from === null) {
    for (const path of defaultCandidatePaths) {
      if (await exists(path)) {
        from = path;
        break;
      }
    }
    if (from === null) {
      console.error(
        `ntp pick: no candidate list (${defaultCandidatePaths.join(", ")}); use --from FILE`,
      );
      return 1;
    }
  }
  let listText: string;
  try {
    listText = await Deno.readTextFile(from);
  } catch (error) {
    console.error(`ntp pick: cannot read ${from}: ${(error as Error).message}`);
    return 1;
  }
  const list = parseCandidateList(listText);
  for (const problem of list.problems) {
    console.error(`${from}:${problem.line}: warning: ${problem.message}; line skipped`);
  }
  if (list.candidates.length === 0) {
    console.error(`ntp pick: ${from} names no candidates`);
    return 1;
  }
  console.error(
    `ntp pick: ${list.candidates.length} candidates from ${from}; ${DEFAULT_PROBE_SAMPLES} requests each, ${PROBE_SPACING_SECONDS} s apart`,
  );
  const progress = progressReporter();
  const outcomes = await probeCandidates(list.candidates, {
    family: options.family,
    onProgress: (p) => progress.update(p),
  });
  progress.done();
  const figures = outcomes.map(candidateFigures);
  const ntsPassed = options.nts === null ? new Set<Candidate>() : await ntsCapable(
    figures.filter((f) => f.problem === null).map((f) => f.candidate),
    options.nts,
  );
  const result = pickUpstreams(figures, {
    count: options.count,
    ...(options.nts === null ? {} : {
      preferred: { test: (f) => ntsPassed.has(f.candidate), label: "NTS-KE ok" },
    }),
  });
  const upstreams = result.picked.map((f) =>
    pickedUpstream(f.candidate, {
      family: options.family,
      nts: ntsPassed.has(f.candidate) ? options.nts : null,
    })
  );
  if (options.json) {
    console.log(JSON.stringify(pickJson(result, upstreams)));
  } else {
    console.log(pickTable(result).join("\n"));
    console.log("");
    console.log(pickSummary(result, { count: options.count }));
    if (upstreams.length > 0) {
      console.log("");
      console.log(
        `# ${
          options.write === null
            ? "for ntp.toml, in place of its [[server]] tables:"
            : `written to ${options.write}:`
        }`,
      );
      console.log(serverBlock(upstreams));
    }
  }
  if (upstreams.length === 0) {
    console.error("ntp pick: no usable candidate");
    return 1;
  }
  if (upstreams.length < options.count) {
    console.error(
      `ntp pick: warning: only ${upstreams.length} usable of the ${options.count} wanted`,
    );
  }
  if (options.write !== null) {
    const written = await writePickedServers(options.write, upstreams, {
      note: ` on ${new Date().toISOString().slice(0, 10)} from ${from}`,
    });
    for (const message of written.messages) console.error(message);
    if (!written.ok) return 1;
    console.error(
      `ntp pick: wrote ${upstreams.length} servers to ${options.write} (config check passed)`,
    );
  }
  return 0;
}
