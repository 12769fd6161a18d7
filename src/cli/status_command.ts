// `ntp status`: reads a daemon over mode 6 and prints the `ntpq -np` billboard, the ntpstat lines and the traffic counters.
import { parseHostPort } from "../config/addresses.ts";
import { ControlOpcode } from "../core/control/control_message.ts";
import { formatBillboard, type PeerReading } from "../core/control/ntpq_billboard.ts";
import { ntpstatReport } from "../core/control/ntpstat_report.ts";
import { decodePeerStatus, decodeSystemStatus } from "../core/control/status_words.ts";
import { tallyCharacter } from "../core/discipline/select_sources.ts";
import { secondsUnitFor } from "../core/stats/plot_axes.ts";
import { sparkline } from "../core/stats/sparkline.ts";
import {
  parseVariableList,
  payloadText,
  type VariableItem,
} from "../core/control/variable_list.ts";
import {
  type ControlClient,
  ControlResolveError,
  ControlServerError,
  ControlTimeoutError,
  openControlClient,
} from "../io/control_client.ts";
import { UsageError } from "./errors.ts";
import {
  flagHelp,
  optionalValueFlag,
  parseFlags,
  secondsFlag,
  switchFlag,
  valueFlag,
} from "./flag_spec.ts";

const statusFlags = {
  server: valueFlag(
    ["--server"],
    "HOST[:PORT]",
    "the daemon to ask (default localhost:123; IPv6 as [::1]:123)",
    (text) => text,
  ),
  json: switchFlag(["--json"], "print one JSON object instead of text"),
  watch: optionalValueFlag(
    ["--watch"],
    "SECONDS",
    "redraw every SECONDS (default 2) until Ctrl-C, with the offset and\nfrequency of the last 60 readings as sparklines",
    { accept: /^\d+(\.\d+)?$/, whenBare: 2 },
    (text, flag) => secondsFlag(flag, text, 86400),
  ),
  timeout: valueFlag(
    ["--timeout"],
    "SECONDS",
    "wait this long for each answer, then retry once (default 1)",
    (text, flag) => secondsFlag(flag, text, 86400),
  ),
};

/** Help text of `ntp status`. */
export const statusUsage =
  `usage: ntp status [--server HOST[:PORT]] [--json] [--watch [SECONDS]] [--timeout SECONDS]

${flagHelp(statusFlags)}

Prints the association billboard exactly as 'ntpq -np' does, the 'ntpstat' lines, and the
server's packet counters. Works with any daemon that answers NTP mode 6 (ntpd, ntpsec, ntp).
Exit status as ntpstat: 0 synchronised, 1 not synchronised, 2 daemon not reachable or bad flags.`;

/** The ss_* counters read for the traffic line, in the order shown. */
const counterNames = [
  "ss_uptime",
  "ss_received",
  "ss_thisver",
  "ss_oldver",
  "ss_processed",
  "ss_kodsent",
  "ss_limited",
  "ss_restricted",
  "ss_badformat",
  "ss_badauth",
  "ss_declined",
  "ss_numctlreq",
] as const;

/** The nts_* counters read for the NTS line (ntpsec's names; asked apart: ntpd refuses them). */
const ntsCounterNames = [
  "nts_server_send",
  "nts_server_recv_bad",
  "nts_cookie_make",
  "nts_cookie_decode_error",
  "nts_ke_serves_good",
  "nts_ke_serves_bad",
] as const;

/** The options `ntp status` runs with. */
export interface StatusOptions {
  readonly host: string;
  readonly port: number;
  readonly json: boolean;
  /** Redraw interval in seconds, or null for a single report. */
  readonly watchSeconds: number | null;
  readonly timeoutSeconds: number;
}

/** Everything read from the daemon for one report. */
export interface StatusSnapshot {
  /** "HOST:PORT" as asked. */
  readonly server: string;
  /** The system status word of the association-0 READVAR answer. */
  readonly systemStatus: number;
  /** The raw text of that answer (ntpstat reads its first 468 bytes). */
  readonly systemPayload: string;
  readonly systemVariables: readonly VariableItem[];
  /** Every association READSTAT listed, in association id order (as ntpq lists them). */
  readonly peers: readonly (PeerReading & { readonly associationId: number })[];
  /** The ss_* counters, or null when the daemon does not know them all. */
  readonly counters: Readonly<Record<string, number>> | null;
  /** ntpsec's nts_* counters, or null when the daemon does not know them (ntpd). */
  readonly ntsCounters?: Readonly<Record<string, number>> | null;
  /** Local time of the reading, Unix seconds (ntpq's "when" is measured against it). */
  readonly takenAtUnixSeconds: number;
}

/**
 * Parses `ntp status` flags.
 *
 * @throws {UsageError} On an unknown flag, a bad address or a bad number.
 */
export function parseStatusArgs(args: readonly string[]): StatusOptions {
  const { values } = parseFlags("status", statusFlags, args);
  const server = values.server ?? "localhost";
  const json = values.json;
  const watchSeconds = values.watch ?? null;
  const timeoutSeconds = values.timeout ?? 1;
  const parsed = parseHostPort(server, { allowPortZero: false });
  if (!parsed.ok) throw new UsageError(`--server: ${parsed.message}`);
  return {
    host: parsed.value.host,
    port: parsed.value.port ?? 123,
    json,
    watchSeconds,
    timeoutSeconds,
  };
}

/**
 * Reads one snapshot over mode 6: READSTAT for the associations, READVAR (all variables) for
 * each, READVAR for the system, and READVAR for the ss_* counters (null when the daemon
 * rejects one of the names).
 *
 * @throws {ControlTimeoutError} When the daemon does not answer.
 * @throws {ControlResolveError} When the host does not resolve.
 */
export async function collectStatus(
  target: { readonly host: string; readonly port: number },
  options: { readonly timeoutSeconds: number },
): Promise<StatusSnapshot> {
  await using client = await openControlClient(target, {
    timeoutMs: options.timeoutSeconds * 1000,
  });
  const list = await client.request({ opcode: ControlOpcode.readStatus });
  const associations: number[] = [];
  for (let offset = 0; offset + 4 <= list.data.length; offset += 4) {
    associations.push((list.data[offset]! << 8) | list.data[offset + 1]!);
  }
  associations.sort((a, b) => a - b);
  const peers: (PeerReading & { associationId: number })[] = [];
  for (const associationId of associations) {
    const reply = await readVariablesOrNull(client, associationId);
    if (reply === null) continue;
    peers.push({
      associationId,
      status: reply.status,
      variables: parseVariableList(payloadText(reply.data)),
    });
  }
  const system = await client.request({ opcode: ControlOpcode.readVariables });
  const systemPayload = payloadText(system.data);
  const readNumbers = async (names: readonly string[]): Promise<Record<string, number> | null> => {
    try {
      const reply = await client.request({
        opcode: ControlOpcode.readVariables,
        data: names.join(","),
      });
      const numbers: Record<string, number> = {};
      for (const item of parseVariableList(payloadText(reply.data))) {
        const value = Number(item.value);
        if (item.value !== null && Number.isFinite(value)) numbers[item.name] = value;
      }
      return numbers;
    } catch (error) {
      if (!(error instanceof ControlServerError)) throw error;
      return null;
    }
  };
  const counters = await readNumbers(counterNames);
  const ntsCounters = await readNumbers(ntsCounterNames);
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  return {
    server: `${host}:${target.port}`,
    systemStatus: system.status,
    systemPayload,
    systemVariables: parseVariableList(systemPayload),
    peers,
    counters,
    ntsCounters,
    takenAtUnixSeconds: Date.now() / 1000,
  };
}

async function readVariablesOrNull(
  client: ControlClient,
  associationId: number,
): Promise<{ status: number; data: Uint8Array } | null> {
  try {
    return await client.request({ opcode: ControlOpcode.readVariables, associationId });
  } catch (error) {
    // The association went away between READSTAT and READVAR.
    if (error instanceof ControlServerError) return null;
    throw error;
  }
}

/**
 * The traffic numbers of a snapshot: dropped = rate limited + restricted + malformed + declined;
 * current/older version = time requests of version 4 / 1..3 that passed the access rules
 * (ntpq sysstats' "current version" and "older version", not part of the other sums).
 */
export function trafficOf(counters: Readonly<Record<string, number>>): {
  receivedPackets: number;
  servedPackets: number;
  droppedPackets: number;
  kodSentPackets: number;
  controlRequests: number;
  currentVersionPackets: number;
  olderVersionPackets: number;
  uptimeSeconds: number;
} {
  const n = (name: string) => counters[name] ?? 0;
  return {
    receivedPackets: n("ss_received"),
    servedPackets: n("ss_processed"),
    droppedPackets: n("ss_limited") + n("ss_restricted") + n("ss_badformat") + n("ss_badauth") +
      n("ss_declined"),
    kodSentPackets: n("ss_kodsent"),
    controlRequests: n("ss_numctlreq"),
    currentVersionPackets: n("ss_thisver"),
    olderVersionPackets: n("ss_oldver"),
    uptimeSeconds: n("ss_uptime"),
  };
}

/**
 * The text report: the `ntpq -np` billboard (or "No association IDs returned"), a blank line,
 * the ntpstat lines, a blank line and the traffic line.
 *
 * @example
 * ```ts
 * const target = { host: "localhost", port: 123 };
 * console.log(renderStatusText(await collectStatus(target, { timeoutSeconds: 1 })));
 * ```
 */
export function renderStatusText(snapshot: StatusSnapshot): string {
  const lines: string[] = [];
  if (snapshot.peers.length === 0) {
    lines.push("No association IDs returned");
  } else {
    lines.push(...formatBillboard(snapshot.peers, snapshot.takenAtUnixSeconds));
    lines.push(...ntsUpstreamLines(snapshot.peers));
  }
  lines.push("", ...ntpstatReport(snapshot.systemStatus, snapshot.systemPayload).lines);
  const leap = leapLines(snapshot);
  if (leap.length > 0) lines.push("", ...leap);
  if (snapshot.counters !== null) {
    const t = trafficOf(snapshot.counters);
    lines.push(
      "",
      `traffic: received ${t.receivedPackets}, served ${t.servedPackets}, dropped ${t.droppedPackets}, ` +
        `KoD sent ${t.kodSentPackets}, control requests ${t.controlRequests} (up ${t.uptimeSeconds} s)`,
    );
  }
  const nts = snapshot.ntsCounters ?? null;
  if (nts !== null && Object.values(nts).some((value) => value > 0)) {
    const n = (name: string) => nts[name] ?? 0;
    lines.push(
      `NTS: authenticated replies ${n("nts_server_send")}, bad requests ${
        n("nts_server_recv_bad")
      } ` +
        `(NAKs ${n("nts_cookie_decode_error")}), cookies made ${n("nts_cookie_make")}, ` +
        `NTS-KE good ${n("nts_ke_serves_good")}, bad ${n("nts_ke_serves_bad")}`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * The leap second announced (LI 1 or 2 in the system status word), and what the leap-seconds file
 * says (ntpd's tai and expire variables), when the server has one.
 */
function leapLines(snapshot: StatusSnapshot): string[] {
  const lines: string[] = [];
  const leap = decodeSystemStatus(snapshot.systemStatus).leap;
  if (leap === 1 || leap === 2) {
    lines.push(
      `leap second announced: one ${
        leap === 1 ? "inserted" : "deleted"
      } at the end of this UTC day`,
    );
  }
  const v = variablesRecord(snapshot.systemVariables);
  const tai = numberOf(v, "tai");
  const expire = v["expire"]?.trim();
  if (tai !== null && expire !== undefined && /^\d{12}$/.test(expire)) {
    const when = `${expire.slice(0, 4)}-${expire.slice(4, 6)}-${expire.slice(6, 8)}`;
    const expired = Date.parse(`${when}T00:00:00Z`) <= snapshot.takenAtUnixSeconds * 1000;
    lines.push(
      `leap-seconds file: TAI-UTC ${tai} s, ${expired ? "EXPIRED on" : "valid until"} ${when}`,
    );
  }
  return lines;
}

/**
 * One line per NTS upstream: its session (ready, key exchange, failed), cookies held, replies
 * authenticated and dropped, and what is wrong, if anything.
 */
function ntsUpstreamLines(peers: StatusSnapshot["peers"]): string[] {
  const lines: string[] = [];
  for (const peer of peers) {
    const v = variablesRecord(peer.variables);
    const phase = unquote(v["nts"]);
    if (phase === null) continue;
    const problem = unquote(v["ntsproblem"]);
    const n = (name: string) => numberOf(v, name) ?? 0;
    lines.push(
      `NTS ${v["srcadr"] ?? "?"}: ${phase}${problem ? ` (${problem})` : ""}; KE ${
        unquote(v["ntske"]) ?? "?"
      }, ${n("ntscookies")} cookies, ${n("ntsauth")} authenticated, ${n("ntsdrop")} dropped, ` +
        `${n("ntsnak")} NAKs, key exchanges ${n("ntskeruns")} (${n("ntskefail")} failed)`,
    );
  }
  return lines;
}

function unquote(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  return text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

function variablesRecord(items: readonly VariableItem[]): Record<string, string | null> {
  const record: Record<string, string | null> = {};
  for (const item of items) record[item.name] = item.value;
  return record;
}

/** A numeric variable (ntpq's int(x, 0) or float), or null. */
function numberOf(variables: Record<string, string | null>, name: string): number | null {
  const text = variables[name]?.trim();
  if (text === undefined || text === "") return null;
  const value = /^[-+]?0[xX][0-9a-fA-F]+$/.test(text) ? Number.parseInt(text, 16) : Number(text);
  return Number.isFinite(value) ? value : null;
}

/** A variable sent in ms, as seconds. */
function secondsOf(variables: Record<string, string | null>, name: string): number | null {
  const ms = numberOf(variables, name);
  return ms === null ? null : ms / 1000;
}

/**
 * The JSON report: `synchronised` and `exitCode` (as ntpstat), `system` (status word fields,
 * the main values in seconds, all raw variables), `peers` (per association: tally, remote,
 * refid, stratum, reach, poll, delay/offset/jitter in seconds, its billboard row, raw
 * variables), `billboard` rows, `ntpstat` lines and `traffic` counters (null if unknown).
 */
export function renderStatusJson(snapshot: StatusSnapshot): Record<string, unknown> {
  const report = ntpstatReport(snapshot.systemStatus, snapshot.systemPayload);
  const billboard = formatBillboard(snapshot.peers, snapshot.takenAtUnixSeconds).slice(2);
  const system = decodeSystemStatus(snapshot.systemStatus);
  const systemVariables = variablesRecord(snapshot.systemVariables);
  const tc = numberOf(systemVariables, "tc");
  return {
    server: snapshot.server,
    synchronised: report.exitCode === 0,
    exitCode: report.exitCode,
    system: {
      status: snapshot.systemStatus,
      leap: system.leap,
      clockSource: system.clockSource,
      eventCount: system.eventCount,
      eventCode: system.eventCode,
      stratum: numberOf(systemVariables, "stratum"),
      refid: systemVariables.refid ?? null,
      rootDelaySeconds: secondsOf(systemVariables, "rootdelay"),
      rootDispersionSeconds: secondsOf(systemVariables, "rootdisp"),
      pollSeconds: tc === null ? null : 2 ** tc,
      offsetSeconds: secondsOf(systemVariables, "offset"),
      frequencyPpm: numberOf(systemVariables, "frequency"),
      variables: systemVariables,
    },
    peers: snapshot.peers.map((peer) => {
      const variables = variablesRecord(peer.variables);
      const selection = decodePeerStatus(peer.status).selection;
      const hpoll = numberOf(variables, "hpoll");
      const ppoll = numberOf(variables, "ppoll");
      return {
        associationId: peer.associationId,
        status: peer.status,
        selection,
        tally: tallyCharacter(selection),
        remote: variables.srcadr ?? null,
        refid: variables.refid ?? null,
        stratum: numberOf(variables, "stratum"),
        reach: numberOf(variables, "reach"),
        pollSeconds: hpoll === null || ppoll === null ? null : 2 ** Math.min(hpoll, ppoll),
        delaySeconds: secondsOf(variables, "delay"),
        offsetSeconds: secondsOf(variables, "offset"),
        jitterSeconds: secondsOf(variables, "jitter"),
        billboard: formatBillboard([peer], snapshot.takenAtUnixSeconds)[2] ?? null,
        variables,
      };
    }),
    billboard,
    ntpstat: report.lines,
    traffic: snapshot.counters === null ? null : trafficOf(snapshot.counters),
    nts: snapshot.ntsCounters ?? null,
  };
}

interface Rendered {
  readonly text: string;
  readonly exitCode: number;
  /** The system offset (seconds) and frequency (ppm) read; NaN when the daemon did not say. */
  readonly offsetSeconds: number;
  readonly frequencyPpm: number;
}

/** Readings of the system offset and frequency kept by `--watch` for its history lines. */
export const WATCH_HISTORY_SAMPLES = 60;

/**
 * The history lines of `ntp status --watch`: the system offset and the frequency over the last
 * readings as sparklines (oldest left) with their range; NaN marks a reading without a value
 * (a blank). No lines before the first value.
 *
 * @example
 * ```ts
 * watchHistoryLines([-12.3e-6, 0, 45.6e-6], [-12.5, -12.4, -12.3]);
 * // ["offset     ▁▂█ -12.3 µs .. 45.6 µs (last 3 samples)",
 * //  "frequency  ▁▅█ -12.500 ppm .. -12.300 ppm (last 3 samples)"]
 * ```
 */
export function watchHistoryLines(
  offsetsSeconds: readonly number[],
  frequenciesPpm: readonly number[],
): string[] {
  const lines: string[] = [];
  const offsets = offsetsSeconds.filter(Number.isFinite);
  if (offsets.length > 0) {
    const unit = secondsUnitFor(offsets);
    const decimals = unit.perSecond === 1e6 ? 1 : unit.perSecond === 1e3 ? 3 : 6;
    const text = (seconds: number) =>
      `${(seconds * unit.perSecond).toFixed(decimals)} ${unit.name}`;
    lines.push(
      `offset     ${sparkline(offsetsSeconds, offsetsSeconds.length)} ${
        text(Math.min(...offsets))
      } .. ${text(Math.max(...offsets))} (last ${offsetsSeconds.length} samples)`,
    );
  }
  const frequencies = frequenciesPpm.filter(Number.isFinite);
  if (frequencies.length > 0) {
    lines.push(
      `frequency  ${sparkline(frequenciesPpm, frequenciesPpm.length)} ${
        Math.min(...frequencies).toFixed(3)
      } ppm .. ${Math.max(...frequencies).toFixed(3)} ppm (last ${frequenciesPpm.length} samples)`,
    );
  }
  return lines;
}

async function renderOnce(options: StatusOptions): Promise<Rendered> {
  const server = `${
    options.host.includes(":") ? `[${options.host}]` : options.host
  }:${options.port}`;
  try {
    const snapshot = await collectStatus(options, { timeoutSeconds: options.timeoutSeconds });
    const exitCode = ntpstatReport(snapshot.systemStatus, snapshot.systemPayload).exitCode;
    const text = options.json
      ? JSON.stringify(renderStatusJson(snapshot)) + "\n"
      : renderStatusText(snapshot);
    const variables = variablesRecord(snapshot.systemVariables);
    return {
      text,
      exitCode,
      offsetSeconds: secondsOf(variables, "offset") ?? Number.NaN,
      frequencyPpm: numberOf(variables, "frequency") ?? Number.NaN,
    };
  } catch (error) {
    if (
      !(error instanceof ControlTimeoutError || error instanceof ControlResolveError ||
        error instanceof ControlServerError)
    ) {
      throw error;
    }
    const message = error instanceof ControlTimeoutError
      ? `cannot reach the NTP daemon at ${server}: no answer to mode 6 (is it running, and does restrict allow queries from here?)`
      : `cannot read the NTP daemon at ${server}: ${error.message}`;
    const text = options.json
      ? JSON.stringify({ server, synchronised: false, exitCode: 2, error: message }) + "\n"
      : `${message}\n`;
    return { text, exitCode: 2, offsetSeconds: Number.NaN, frequencyPpm: Number.NaN };
  }
}

const encoder = new TextEncoder();

function write(text: string, stream: typeof Deno.stdout | typeof Deno.stderr): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

/**
 * Runs `ntp status ARGS...` and returns the exit code: 0 synchronised, 1 not synchronised,
 * 2 daemon not reachable (as ntpstat). With --watch it redraws until SIGINT/SIGTERM (clearing
 * the screen when stdout is a terminal), adds the offset and frequency history of the last
 * readings as sparklines ({@link watchHistoryLines}), and returns the last code.
 *
 * @throws {UsageError} On bad flags (the CLI prints usage and exits 2).
 */
export async function runStatusCommand(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(statusUsage);
    return 0;
  }
  const options = parseStatusArgs(args);
  if (options.watchSeconds === null) {
    const { text, exitCode } = await renderOnce(options);
    write(text, exitCode === 2 && !options.json ? Deno.stderr : Deno.stdout);
    return exitCode;
  }
  return await watch(options, options.watchSeconds);
}

async function watch(options: StatusOptions, intervalSeconds: number): Promise<number> {
  const tty = Deno.stdout.isTerminal();
  const server = `${
    options.host.includes(":") ? `[${options.host}]` : options.host
  }:${options.port}`;
  const abort = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handler = () => abort.abort();
  for (const signal of signals) Deno.addSignalListener(signal, handler);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      abort.signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        abort.signal.removeEventListener("abort", done);
        resolve();
      }
    });
  let exitCode = 2;
  // The last readings, oldest first, for the history lines under the report.
  const offsetsSeconds: number[] = [];
  const frequenciesPpm: number[] = [];
  try {
    while (!abort.signal.aborted) {
      const rendered = await renderOnce(options);
      exitCode = rendered.exitCode;
      if (abort.signal.aborted) break;
      offsetsSeconds.push(rendered.offsetSeconds);
      frequenciesPpm.push(rendered.frequencyPpm);
      if (offsetsSeconds.length > WATCH_HISTORY_SAMPLES) {
        offsetsSeconds.shift();
        frequenciesPpm.shift();
      }
      const history = options.json ? [] : watchHistoryLines(offsetsSeconds, frequenciesPpm);
      const heading = options.json
        ? ""
        : `ntp status ${server}, every ${intervalSeconds} s, ${
          new Date().toISOString().replace(/\.\d+Z$/, "Z")
        }\n\n`;
      const separator = tty || options.json ? "" : "\n";
      const historyText = history.length === 0 ? "" : `\n${history.join("\n")}\n`;
      write(
        (tty ? "\x1b[H\x1b[2J" : "") + heading + rendered.text + historyText + separator,
        Deno.stdout,
      );
      await sleep(intervalSeconds * 1000);
    }
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, handler);
  }
  return exitCode;
}
