// Runs the real Debian NTP clients (ntpdig, ntpdate -q, chronyd -Q, check_ntp_time, our scapy probe) against HOST PORT [NETNS] and parses what they report.
import { AssertionError } from "node:assert/strict";
import { type CommandResult, runCommand } from "./processes.ts";

/** Debian's Python: it has the ntp and scapy modules (the pyenv python3 first on PATH has neither). */
export const debianPython = "/usr/bin/python3";

/** The server a client is pointed at. */
export interface ClientTarget {
  /** Address literal, e.g. "127.0.0.1" or "::1". */
  readonly host: string;
  readonly port: number;
  /** Run the client inside this network namespace. */
  readonly netns?: string;
}

/** What a client run reported, parsed from its output. */
export interface ClientResult {
  /** The client accepted the server's time (its own success criterion and exit code 0). */
  readonly ok: boolean;
  /** Server time minus local time, seconds (positive: the local clock is behind), when reported. */
  readonly offsetSeconds?: number;
  /** The server's stratum, when the client reports it. */
  readonly stratum?: number;
  /** Exit code of the client. */
  readonly code: number;
  /** Command line, stdout and stderr, for assertion messages. */
  readonly raw: string;
}

/** One sample of {@link scapyProbe}: the reply as dissected by scapy's NTPHeader. */
export interface ProbeSample {
  /** OK, KOD, UNSYNC, BAD (malformed or inconsistent) or NO-ANSWER. */
  readonly result: "OK" | "KOD" | "UNSYNC" | "BAD" | "NO-ANSWER";
  /** Every malformed layer or field the probe found; empty for a clean reply. */
  readonly problems: readonly string[];
  /** All other fields the probe printed (version, mode, stratum, origin, offset, kiss_code, ...). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** {@link ClientResult} plus every sample the scapy probe took. */
export interface ProbeResult extends ClientResult {
  readonly samples: readonly ProbeSample[];
}

/** Options for {@link scapyProbe}. */
export interface ProbeOptions {
  /** NTP version of the request (1..4, default 4); the reply must echo it. */
  readonly version?: number;
  /** Transmit timestamp to send, 16 hex digits, or "random" (like chronyd); default: the time of day. */
  readonly transmit?: string;
  /** Number of requests (default 3). */
  readonly count?: number;
  /** Seconds to wait for each reply (default 2). */
  readonly timeoutSeconds?: number;
}

const probeScript = supportFile("ntp_probe.py");
const portShim = supportFile("ntpport_shim.py");

/** Runs ntpsec's ntpdig (through our getaddrinfo port shim when the port is not 123). */
export async function ntpdig(target: ClientTarget): Promise<ClientResult> {
  const tool = target.port === 123
    ? ["ntpdig"]
    : [debianPython, portShim, String(target.port), "/usr/bin/ntpdig"];
  const result = await runCommand([...tool, "-t", "2", target.host], placement(target));
  return parseNtpdigOutput(result);
}

/** Runs `ntpdate -q` (ntpsec's wrapper around ntpdig; through a PATH shim when the port is not 123). */
export async function ntpdateQuery(target: ClientTarget): Promise<ClientResult> {
  const env = target.port === 123 ? {} : {
    NTP_PORT: String(target.port),
    PATH: `${await ntpdigShimDir()}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
  };
  const result = await runCommand(["ntpdate", "-q", target.host], { ...placement(target), env });
  return parseNtpdigOutput(result);
}

/** Runs chronyd as a one-shot, print-only client: `chronyd -Q -t 10 'server H port P iburst maxsamples 4'`. */
export async function chronydQuery(target: ClientTarget): Promise<ClientResult> {
  const result = await runCommand([
    "chronyd",
    "-Q",
    "-t",
    "10",
    `server ${target.host} port ${target.port} iburst maxsamples 4`,
  ], { ...placement(target), timeoutMs: 20_000 });
  return parseChronydOutput(result);
}

/** Runs the monitoring plugin `check_ntp_time -H HOST -p PORT -t 6`. */
export async function checkNtpTime(target: ClientTarget): Promise<ClientResult> {
  const result = await runCommand([
    "/usr/lib/nagios/plugins/check_ntp_time",
    "-H",
    target.host,
    "-p",
    String(target.port),
    "-t",
    "6",
  ], placement(target));
  return parseCheckNtpTimeOutput(result);
}

/**
 * Runs our scapy probe (tests/support/ntp_probe.py): mode 3 requests, replies dissected with scapy's
 * NTPHeader, every malformed layer or field reported. ok only when every sample is OK.
 */
export async function scapyProbe(
  target: ClientTarget,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const args = [
    debianPython,
    probeScript,
    "query",
    target.host,
    String(target.port),
    "--version",
    String(options.version ?? 4),
    "--count",
    String(options.count ?? 3),
    "--interval",
    "0.1",
    "--timeout",
    String(options.timeoutSeconds ?? 2),
  ];
  if (options.transmit !== undefined) args.push("--transmit", options.transmit);
  const result = await runCommand(args, placement(target));
  return parseProbeOutput(result);
}

/** Replies the probe saw to one raw datagram, as hex strings. */
export interface RawExchange {
  readonly answered: boolean;
  readonly repliesHex: readonly string[];
}

/** Sends one datagram (hex) with the probe (inside the target's netns) and collects replies for `waitSeconds`. */
export async function probeRaw(
  target: ClientTarget,
  datagramHex: string,
  options: { readonly waitSeconds?: number } = {},
): Promise<RawExchange> {
  const result = await runCommand([
    debianPython,
    probeScript,
    "raw",
    target.host,
    String(target.port),
    datagramHex,
    "--timeout",
    String(options.waitSeconds ?? 1),
  ], placement(target));
  const parsed = lastJsonLine(result);
  if (parsed === undefined) throw new Error(`probe raw failed\n${describe(result)}`);
  return {
    answered: parsed.answered === true,
    repliesHex: Array.isArray(parsed.replies) ? parsed.replies.map(String) : [],
  };
}

/** Counts of a {@link probeFlood} run. */
export interface FloodCounts {
  readonly sent: number;
  /** Ordinary mode 4 replies. */
  readonly ok: number;
  /** Kiss-o'-Death replies by kiss code, e.g. { RATE: 12 }. */
  readonly kod: Readonly<Record<string, number>>;
  readonly other: number;
}

/** Options for {@link probeFlood}. */
export interface FloodOptions {
  /** Requests to send. */
  readonly count: number;
  /** Seconds to wait for replies after the last request (default 1). */
  readonly waitSeconds?: number;
  /** Source address to send from (must exist in the namespace); the kernel's choice when absent. */
  readonly sourceAddress?: string;
}

/** Sends `count` mode 3 requests back to back from one socket (inside the target's netns) and counts the replies. */
export async function probeFlood(
  target: ClientTarget,
  options: FloodOptions,
): Promise<FloodCounts> {
  const result = await runCommand([
    debianPython,
    probeScript,
    "flood",
    target.host,
    String(target.port),
    "--count",
    String(options.count),
    "--timeout",
    String(options.waitSeconds ?? 1),
    ...(options.sourceAddress === undefined ? [] : ["--source", options.sourceAddress]),
  ], placement(target));
  const parsed = lastJsonLine(result);
  if (parsed === undefined) throw new Error(`probe flood failed\n${describe(result)}`);
  const kod: Record<string, number> = {};
  if (typeof parsed.kod === "object" && parsed.kod !== null) {
    for (const [code, n] of Object.entries(parsed.kod)) kod[code] = Number(n);
  }
  return {
    sent: Number(parsed.sent),
    ok: Number(parsed.ok),
    kod,
    other: Number(parsed.other),
  };
}

const ntpdigLine =
  /^\S+ \S+ \([+-]\d+\) ([+-]\d+\.\d+) \+\/- (\d+\.\d+) (\S+) s(\d+) (no-leap|add-leap|del-leap|unsync)\s*$/m;

/**
 * Parses ntpdig / ntpdate -q output: `<date> <time> (<tz>) <offset> +/- <distance> <host> s<stratum> <leap>`.
 * ok needs exit code 0, such a line, and a leap other than unsync.
 */
export function parseNtpdigOutput(result: CommandResult): ClientResult {
  const match = ntpdigLine.exec(result.stdout);
  const raw = describe(result);
  if (match === null) return { ok: false, code: result.code, raw };
  return {
    ok: result.code === 0 && match[5] !== "unsync",
    offsetSeconds: Number(match[1]),
    stratum: Number(match[4]),
    code: result.code,
    raw,
  };
}

/** Parses chronyd -Q stderr: `System clock wrong by X seconds (ignored)`; ok needs that line and exit code 0. */
export function parseChronydOutput(result: CommandResult): ClientResult {
  const match = /System clock wrong by ([-+]?\d+\.\d+) seconds/.exec(result.stderr);
  const raw = describe(result);
  if (match === null) return { ok: false, code: result.code, raw };
  return { ok: result.code === 0, offsetSeconds: Number(match[1]), code: result.code, raw };
}

/** Parses check_ntp_time: `NTP OK: Offset X secs|...`; ok needs exit code 0 (OK). */
export function parseCheckNtpTimeOutput(result: CommandResult): ClientResult {
  const match = /^NTP OK: Offset ([-+]?[\d.]+(?:e[-+]?\d+)?) secs/m.exec(result.stdout);
  const raw = describe(result);
  if (match === null) return { ok: false, code: result.code, raw };
  return { ok: result.code === 0, offsetSeconds: Number(match[1]), code: result.code, raw };
}

/** Parses the probe's JSON lines; ok needs every sample OK with no problems, and exit code 0. */
export function parseProbeOutput(result: CommandResult): ProbeResult {
  const samples: ProbeSample[] = [];
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const parsed = JSON.parse(line) as Record<string, unknown>;
    const { result: verdict, problems, ...fields } = parsed;
    samples.push({
      result: String(verdict) as ProbeSample["result"],
      problems: Array.isArray(problems) ? problems.map(String) : [],
      fields,
    });
  }
  const raw = describe(result);
  const last = samples.at(-1);
  const ok = result.code === 0 && samples.length > 0 &&
    samples.every((s) => s.result === "OK" && s.problems.length === 0);
  const base = { ok, code: result.code, raw, samples };
  if (last === undefined) return base;
  const offset = last.fields.offset;
  const stratum = last.fields.stratum;
  return {
    ...base,
    ...(typeof offset === "number" ? { offsetSeconds: offset } : {}),
    ...(typeof stratum === "number" ? { stratum } : {}),
  };
}

function lastJsonLine(result: CommandResult): Record<string, unknown> | undefined {
  const line = result.stdout.split("\n").filter((l) => l.startsWith("{")).at(-1);
  return line === undefined ? undefined : JSON.parse(line) as Record<string, unknown>;
}

function describe(result: CommandResult): string {
  return `$ ${result.argv.join(" ")}\n[exit ${result.code}${
    result.timedOut ? ", timed out" : ""
  }]\n--- stdout ---\n${result.stdout}--- stderr ---\n${result.stderr}`;
}

function placement(target: ClientTarget): { netns?: string } {
  return target.netns === undefined ? {} : { netns: target.netns };
}

/** Absolute path of a file next to this module. */
function supportFile(name: string): string {
  return decodeURIComponent(new URL(`./${name}`, import.meta.url).pathname);
}

let shimDir: Promise<string> | undefined;

/**
 * A temp directory holding an `ntpdig` that runs the real ntpdig through our port shim on $NTP_PORT
 * (ntpsec's ntpdate is a shell wrapper that runs `ntpdig` from PATH). Removed when the process exits.
 */
function ntpdigShimDir(): Promise<string> {
  shimDir ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "ntpt-shim-" });
    const script =
      `#!/bin/sh\nexec ${debianPython} ${portShim} "\${NTP_PORT:-123}" /usr/bin/ntpdig "$@"\n`;
    await Deno.writeTextFile(`${dir}/ntpdig`, script, { mode: 0o755 });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    });
    return dir;
  })();
  return shimDir;
}

/** The five time-query clients every server must satisfy. */
export const clientNames = [
  "ntpdig",
  "ntpdate -q",
  "chronyd -Q",
  "check_ntp_time",
  "scapy probe",
] as const;

/** One of {@link clientNames}. */
export type ClientName = (typeof clientNames)[number];

/** Options for {@link runEveryClient}. */
export interface RunEveryClientOptions {
  /** Run only these clients (default: all of {@link clientNames}). */
  readonly only?: readonly ClientName[];
  /**
   * Re-run a client (up to 3 runs in all) whose run succeeded with |offset| at or above this many
   * seconds, and keep the run with the smallest |offset|, as classic ntpdate kept the sample with the
   * shortest round trip: on a loaded 2-CPU machine one scheduling delay can skew a single sample
   * by milliseconds. A server whose offset is really above the limit still fails every run.
   */
  readonly retryOffsetAboveSeconds?: number;
}

/**
 * Runs every client against the target. chronyd -Q (which takes seconds of mostly idle waiting) runs
 * alongside the others; the others run one after another so they do not disturb each other's offsets.
 */
export async function runEveryClient(
  target: ClientTarget,
  options: RunEveryClientOptions = {},
): Promise<Map<ClientName, ClientResult>> {
  const wanted = new Set(options.only ?? clientNames);
  const limit = options.retryOffsetAboveSeconds ?? Infinity;
  const bestOf3 = async (run: () => Promise<ClientResult>): Promise<ClientResult> => {
    let best = await run();
    for (
      let attempt = 2;
      attempt <= 3 && best.ok && !(Math.abs(best.offsetSeconds ?? 0) < limit);
      attempt++
    ) {
      const next = await run();
      const nextBetter = next.ok &&
        Math.abs(next.offsetSeconds ?? Infinity) < Math.abs(best.offsetSeconds ?? Infinity);
      const raw = `${best.raw}\n(run ${attempt}: offset ${
        next.offsetSeconds ?? "n/a"
      }, ok=${next.ok})`;
      best = nextBetter ? { ...next, raw: `${raw}\n${next.raw}` } : { ...best, raw };
    }
    return best;
  };
  const results = new Map<ClientName, ClientResult>();
  const chrony = wanted.has("chronyd -Q") ? bestOf3(() => chronydQuery(target)) : undefined;
  const sequential: [ClientName, (t: ClientTarget) => Promise<ClientResult>][] = [
    ["ntpdig", ntpdig],
    ["ntpdate -q", ntpdateQuery],
    ["check_ntp_time", checkNtpTime],
    ["scapy probe", (t) => scapyProbe(t)],
  ];
  for (const [name, run] of sequential) {
    if (wanted.has(name)) results.set(name, await bestOf3(() => run(target)));
  }
  if (chrony !== undefined) results.set("chronyd -Q", await chrony);
  return results;
}

/** What {@link assertClientsAccept} requires of every client. */
export interface AcceptanceCriteria {
  /** Largest |offset| accepted, seconds (e.g. 0.001). */
  readonly maxAbsOffsetSeconds: number;
  /** The stratum each client that reports one must see. */
  readonly stratum?: number;
  /** Prefix for the failure message, e.g. "127.0.0.1:40123". */
  readonly label: string;
}

/**
 * Throws one AssertionError listing every client that did not accept the server, reported an
 * offset above the limit, or saw the wrong stratum; returns a one-line summary per client.
 */
export function assertClientsAccept(
  results: ReadonlyMap<ClientName, ClientResult>,
  criteria: AcceptanceCriteria,
): string[] {
  const failures: string[] = [];
  const summary: string[] = [];
  for (const [name, result] of results) {
    const offset = result.offsetSeconds;
    summary.push(
      `${criteria.label} ${name}: ok=${result.ok} offset=${offset ?? "n/a"} stratum=${
        result.stratum ?? "n/a"
      }`,
    );
    if (!result.ok) failures.push(`${name} did not accept the server\n${result.raw}`);
    else if (offset === undefined || Math.abs(offset) >= criteria.maxAbsOffsetSeconds) {
      failures.push(
        `${name} offset ${offset} s is not below ${criteria.maxAbsOffsetSeconds} s\n${result.raw}`,
      );
    } else if (
      criteria.stratum !== undefined && result.stratum !== undefined &&
      result.stratum !== criteria.stratum
    ) {
      failures.push(
        `${name} saw stratum ${result.stratum}, expected ${criteria.stratum}\n${result.raw}`,
      );
    }
  }
  if (failures.length > 0) {
    throw new AssertionError({ message: `${criteria.label}:\n${failures.join("\n\n")}` });
  }
  return summary;
}
