// Gathers what `ntp doctor` judges: the config, the listen ports and their holders, CAP_SYS_TIME, rival daemons, upstream answers, firewall listings and the daemon's status.
import { ntsFileDiagnostics } from "./nts_file_checks.ts";
import {
  type Diagnostic,
  inspectConfigFile,
  type NtpConfig,
  parseConfigText,
} from "../config/mod.ts";
import type { ConfigFacts } from "../core/doctor/config_check.ts";
import type { DoctorFacts } from "../core/doctor/diagnose.ts";
import type { ListenPortFacts } from "../core/doctor/listen_port_check.ts";
import { ownersConflictingWith } from "../core/doctor/port_owner_parsing.ts";
import type { DaemonStatusFacts, ReadinessFacts } from "../core/doctor/readiness_checks.ts";
import { type RivalProcess, rivalProcessNames } from "../core/doctor/rival_daemons_check.ts";
import type { UpstreamAnswer, UpstreamFacts } from "../core/doctor/upstream_check.ts";
import { startNtsQuery } from "./nts_query_session.ts";
import type { PublicNtsFacts } from "../core/doctor/readiness_checks.ts";
import type { LeapFileFacts } from "../core/doctor/leap_file_check.ts";
import type { LeapSmearFacts } from "../core/doctor/leap_smear_check.ts";
import type { NtsCryptoFacts } from "../core/doctor/nts_crypto_check.ts";
import { parseUnitSandbox, type UnitSandboxFacts } from "../core/doctor/unit_sandbox_check.ts";
import { readUnitFiles } from "../io/systemd_unit_files.ts";
import { formatHostPort, ipBytes } from "../config/addresses.ts";
import { readLeapSecondsFile } from "../core/leap/leap_seconds_file.ts";
import { DEFAULT_LEAP_FILE } from "../config/default_paths.ts";
import { loadLater } from "../io/load_later.ts";
import { ControlOpcode } from "../core/control/control_message.ts";
import { parseVariableList, payloadText } from "../core/control/variable_list.ts";
import { KISS_CODES } from "../core/packet/kiss_code.ts";
import { formatRefid } from "../core/packet/refid.ts";
import { Capability, hasCapability } from "../io/capabilities.ts";
import { openControlClient } from "../io/control_client.ts";
import { readFirewallListings } from "../io/firewall_probe.ts";
import { findUdpPortOwners } from "../io/port_owners.ts";
import { listProcesses, ownNetworkNamespace } from "../io/process_table.ts";
import { openQueryClient } from "../io/query_client.ts";
import { resolveServerName } from "../io/resolve_name.ts";
import { probeUdpBind } from "../io/udp_bind_probe.ts";
import { buildExchangeRequest } from "../core/client/exchange.ts";
import { evaluateReply, type SampleResult } from "./query_command.ts";
import { collectStatus, renderStatusJson } from "./status_command.ts";

/** A host and port to ask (IPv6 without brackets). */
export interface DoctorTarget {
  readonly host: string;
  readonly port: number;
}

/** What the doctor runs with. */
export interface DoctorOptions {
  /** The config file, or null to try the default paths. */
  readonly configPath: string | null;
  /** The daemon to read over mode 6; null = the config's first listen address (loopback for a wildcard). */
  readonly server: DoctorTarget | null;
  /** This server's public address to query, or null to skip that check. */
  readonly publicTarget: DoctorTarget | null;
  /** Seconds to wait for each NTP or mode 6 answer. */
  readonly timeoutSeconds: number;
}

/** Config files tried, in order, when no --config is given (those `ntp serve` tries). */
export const doctorConfigPaths: readonly string[] = ["/etc/ntp/ntp.toml", "/etc/ntp.conf"];

/** Addresses of a pool asked at most (one request each). */
const maxPoolAddresses = 4;

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function readConfig(
  configPath: string | null,
): Promise<{ facts: ConfigFacts; config: NtpConfig }> {
  const defaults = () => parseConfigText("", { fileName: "<defaults>", format: "toml" });
  let path = configPath;
  if (path === null) {
    for (const candidate of doctorConfigPaths) {
      if (await fileExists(candidate)) {
        path = candidate;
        break;
      }
    }
  }
  if (path === null) {
    return {
      facts: {
        path: null,
        searched: doctorConfigPaths,
        errors: [],
        warnings: [],
        upstreamCount: 0,
      },
      config: defaults(),
    };
  }
  const result = await inspectConfigFile(path);
  // The NTS certificate and key too: expired or mismatched fails, expiring within 14 days warns.
  const diagnostics = [...result.diagnostics, ...await ntsFileDiagnostics(path, result)];
  const text = (d: Diagnostic) => `line ${d.line}: ${d.message}`;
  const errors = diagnostics.filter((d) => d.severity === "error").map(text);
  const warnings = diagnostics.filter((d) => d.severity !== "error").map(text);
  const config = result.config ?? defaults();
  return {
    facts: {
      path,
      searched: doctorConfigPaths,
      errors,
      warnings,
      upstreamCount: result.config === null
        ? 0
        : result.config.servers.length + result.config.pools.length,
    },
    config,
  };
}

/** The loopback address of a wildcard listen address, else the address itself. */
function localTarget(address: { readonly hostname: string; readonly port: number }): DoctorTarget {
  const host = address.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : address.hostname === "::"
    ? "::1"
    : address.hostname;
  return { host, port: address.port };
}

/** The `version` system variable mode 6 answers at `target`, or null (no answer, not NTP). */
async function controlVersion(
  target: DoctorTarget,
  timeoutSeconds: number,
): Promise<string | null> {
  try {
    await using client = await openControlClient(target, {
      timeoutMs: Math.min(1000, timeoutSeconds * 1000),
      retries: 0,
    });
    const reply = await client.request({ opcode: ControlOpcode.readVariables, data: "version" });
    const item = parseVariableList(payloadText(reply.data)).find((v) => v.name === "version");
    return item?.value?.replace(/^"(.*)"$/, "$1") ?? null;
  } catch {
    return null;
  }
}

async function listenFacts(config: NtpConfig, timeoutSeconds: number): Promise<ListenPortFacts[]> {
  const facts: ListenPortFacts[] = [];
  for (const address of config.listen) {
    if (address.port === 0) continue;
    const bind = await probeUdpBind(address);
    if (bind.kind !== "inUse") {
      facts.push({
        hostname: address.hostname,
        port: address.port,
        bind,
        controlVersion: null,
        owners: [],
      });
      continue;
    }
    const [version, owners] = await Promise.all([
      controlVersion(localTarget(address), timeoutSeconds),
      findUdpPortOwners(address.port),
    ]);
    const conflicting = ownersConflictingWith(owners.owners, address);
    facts.push({
      hostname: address.hostname,
      port: address.port,
      bind,
      controlVersion: version,
      owners: conflicting.length > 0 ? conflicting : owners.owners,
    });
  }
  return facts;
}

function rivalFacts(): RivalProcess[] {
  const ownNamespace = ownNetworkNamespace();
  return listProcesses({ names: rivalProcessNames })
    .filter((p) => p.pid !== Deno.pid)
    .map((p) => ({
      pid: p.pid,
      name: p.name,
      args: p.args,
      sameNetworkNamespace: p.networkNamespace === null || ownNamespace === null
        ? null
        : p.networkNamespace === ownNamespace,
      holdsSysTime: p.holdsSysTime,
    }));
}

function answerOf(sample: SampleResult, timeoutSeconds: number): UpstreamAnswer {
  switch (sample.kind) {
    case "ok":
      return {
        kind: "ok",
        stratum: sample.packet.stratum,
        refid: formatRefid(sample.packet.referenceId, sample.packet.stratum),
        offsetSeconds: sample.offsetSeconds,
        delaySeconds: sample.delaySeconds,
      };
    case "noAnswer":
      return { kind: "noAnswer", timeoutSeconds };
    case "kissOfDeath":
      return { kind: "kissOfDeath", code: sample.code, meaning: KISS_CODES[sample.code] ?? null };
    case "unsynchronised":
      return { kind: "unsynchronised", leap: sample.packet.leap, stratum: sample.packet.stratum };
    case "invalid":
      return { kind: "invalid", reason: sample.reason };
  }
}

/**
 * Sends one mode 3 request to `target` and judges the reply as `ntp query` does (origin
 * checked, KoD and unsynchronised recognised). Never throws.
 */
export async function queryOnce(
  target: DoctorTarget,
  options: { readonly timeoutSeconds: number },
): Promise<UpstreamAnswer> {
  let client;
  try {
    client = await openQueryClient(target);
  } catch (error) {
    return { kind: "invalid", reason: (error as Error).message };
  }
  try {
    const request = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
    const exchange = await client.exchange(request, { timeoutMs: options.timeoutSeconds * 1000 });
    return answerOf(evaluateReply({ request, ...exchange }), options.timeoutSeconds);
  } finally {
    await client.close();
  }
}

/** NTS-KE with `host`, then one authenticated exchange, judged as `ntp query --nts` does. */
async function ntsQueryOnce(
  host: string,
  port: number,
  nts: { readonly caFile: string | null; readonly kePort: number },
  timeoutSeconds: number,
): Promise<UpstreamAnswer> {
  const started = await startNtsQuery({ host, timeoutSeconds: Math.max(timeoutSeconds, 3) }, {
    caFile: nts.caFile,
    port: nts.kePort,
  });
  if (!started.ok) return { kind: "ntsKeyExchange", reason: started.message, kePort: nts.kePort };
  const query = started.query;
  let client;
  try {
    client = await openQueryClient({ host: query.ntpServer, port: query.ntpPort ?? port });
  } catch (error) {
    return { kind: "invalid", reason: (error as Error).message };
  }
  try {
    const header = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
    const wrapped = query.wrap(header);
    if (wrapped === null) return { kind: "invalid", reason: "NTS-KE gave no cookie" };
    let refusal: string | null = null;
    const exchange = await client.exchange(wrapped.bytes, {
      timeoutMs: timeoutSeconds * 1000,
      accept: (reply) => {
        const refused = wrapped.check(reply);
        if (refused !== null && refused !== "NTS NAK") {
          refusal = refused;
          return false;
        }
        return true;
      },
    });
    if (exchange.reply === null && refusal !== null) {
      return { kind: "invalid", reason: `NTS: ${refusal}` };
    }
    const answer = answerOf(evaluateReply({ request: wrapped.bytes, ...exchange }), timeoutSeconds);
    return answer.kind === "ok" ? { ...answer, nts: true } : answer;
  } finally {
    await client.close();
  }
}

async function upstreamFacts(config: NtpConfig, timeoutSeconds: number): Promise<UpstreamFacts[]> {
  const entries = [
    ...config.servers.map((u) => ({ upstream: u, pool: false })),
    ...config.pools.map((u) => ({ upstream: u, pool: true })),
  ];
  return await Promise.all(entries.map(async ({ upstream, pool }): Promise<UpstreamFacts> => {
    const resolved = await resolveServerName(upstream.host, {
      family: upstream.family,
      timeoutMs: 3000,
    });
    const base = { name: upstream.host, port: upstream.port, pool };
    if (!resolved.ok) return { ...base, resolved: { ok: false, message: resolved.message } };
    const addresses = resolved.addresses.slice(0, pool ? maxPoolAddresses : 1);
    if (upstream.nts !== null) {
      // NTS: the key exchange with the name as configured (the certificate must carry it),
      // then one authenticated request where the server says.
      return {
        ...base,
        resolved: {
          ok: true,
          answers: [{
            address: addresses[0]?.hostname ?? upstream.host,
            answer: await ntsQueryOnce(upstream.host, upstream.port, upstream.nts, timeoutSeconds),
          }],
        },
      };
    }
    const answers = await Promise.all(addresses.map(async (address) => ({
      address: address.hostname,
      answer: await queryOnce({ host: address.hostname, port: upstream.port }, { timeoutSeconds }),
    })));
    return { ...base, resolved: { ok: true, answers } };
  }));
}

function numberField(record: Record<string, unknown>, name: string): number | null {
  const value = record[name];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function stringField(record: Record<string, unknown>, name: string): string | null {
  const value = record[name];
  return typeof value === "string" ? value : null;
}

function recordField(record: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = record[name];
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

/** The readiness facts from `ntp status --json`'s object (the same numbers it prints). */
export function daemonStatusFactsOf(json: Record<string, unknown>): DaemonStatusFacts {
  const system = recordField(json, "system");
  const variables = recordField(system, "variables");
  const peerText = stringField(variables, "peer");
  const version = stringField(variables, "version");
  return {
    server: stringField(json, "server") ?? "?",
    synchronised: json.synchronised === true,
    stratum: numberField(system, "stratum"),
    refid: stringField(system, "refid"),
    systemPeerAssociationId: peerText === null ? null : Number(peerText),
    offsetSeconds: numberField(system, "offsetSeconds"),
    pollSeconds: numberField(system, "pollSeconds"),
    version: version?.replace(/^"(.*)"$/, "$1") ?? null,
  };
}

async function daemonFacts(
  target: DoctorTarget,
  timeoutSeconds: number,
): Promise<ReadinessFacts["daemon"]> {
  const server = target.host.includes(":")
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
  try {
    const snapshot = await collectStatus(target, { timeoutSeconds });
    return { ok: true, status: daemonStatusFactsOf(renderStatusJson(snapshot)) };
  } catch (error) {
    return { ok: false, server, message: (error as Error).message };
  }
}

/**
 * Gathers every fact the checks need. Reads only: binds each listen port for an instant, sends
 * one request to each upstream (a pool: up to four addresses), one to the public address if
 * given, mode 6 reads to the daemon, and runs read-only listing commands (ss, nft, ufw,
 * firewall-cmd, iptables).
 */
export async function gatherDoctorFacts(options: DoctorOptions): Promise<DoctorFacts> {
  const { facts: configFacts, config } = await readConfig(options.configPath);
  const timeoutSeconds = options.timeoutSeconds;
  const firstListen = config.listen.find((a) => a.port !== 0) ?? config.listen[0];
  const daemonTarget = options.server ??
    (firstListen === undefined ? { host: "127.0.0.1", port: 123 } : localTarget(firstListen));
  const ports = [...new Set(config.listen.map((a) => a.port).filter((p) => p !== 0))];
  const [listen, upstreams, listings, daemon, publicAnswer, publicNts] = await Promise.all([
    listenFacts(config, timeoutSeconds),
    upstreamFacts(config, timeoutSeconds),
    readFirewallListings(),
    daemonFacts(daemonTarget, timeoutSeconds),
    options.publicTarget === null
      ? Promise.resolve(null)
      : queryOnce(options.publicTarget, { timeoutSeconds }),
    options.publicTarget === null || !config.nts.enable ? Promise.resolve(null) : publicNtsFacts(
      options.publicTarget.host,
      config.nts.listen[0]?.port ?? 4460,
      timeoutSeconds,
    ),
  ]);
  const publicTarget = options.publicTarget;
  const leapFile = await leapFileFacts(config.leapFile);
  const leapSmear = leapSmearFacts(config);
  const unitSandbox = await unitSandboxFacts(config);
  const ntsCrypto = await ntsCryptoFacts(config);
  const maxPolls = [...config.servers, ...config.pools].map((u) => u.maxPollLog2);
  return {
    config: configFacts,
    listen,
    capability: { holdsSysTime: hasCapability(Capability.sysTime), clock: config.serve.clock },
    rivals: rivalFacts(),
    upstreams,
    leapFile,
    leapSmear,
    unitSandbox,
    ntsCrypto,
    firewall: { ports: ports.length > 0 ? ports : [123], listings },
    readiness: {
      daemon,
      maxPollLog2: maxPolls.length > 0 ? Math.max(...maxPolls) : null,
      public: publicTarget === null || publicAnswer === null ? null : {
        target: publicTarget.host.includes(":")
          ? `[${publicTarget.host}]:${publicTarget.port}`
          : `${publicTarget.host}:${publicTarget.port}`,
        answer: publicAnswer,
      },
      publicNts,
    },
  };
}

/**
 * The installed ntp.service's sandbox and the files the config has the daemon write (driftfile,
 * logfile, statsdir when statistics are on, the NTS cookie key file when NTS is on); null when no unit
 * is installed. `root` prefixes the unit search path (tests).
 *
 * @example
 * ```ts
 * import { parseConfigText } from "../config/mod.ts";
 * const config = parseConfigText("driftfile /var/lib/ntp/ntp.drift\n", { fileName: "ntp.conf" });
 * await unitSandboxFacts(config, "/tmp/no-such-root"); // null: no unit installed there
 * ```
 */
export async function unitSandboxFacts(
  config: NtpConfig,
  root = "",
): Promise<UnitSandboxFacts | null> {
  const unit = await readUnitFiles("ntp.service", root);
  if (unit === null) return null;
  const writes: { setting: string; path: string; directory: boolean }[] = [];
  if (config.driftFile !== null) {
    writes.push({ setting: "driftfile", path: config.driftFile, directory: false });
  }
  if (config.logFile !== null) {
    writes.push({ setting: "logfile", path: config.logFile, directory: false });
  }
  if (config.statsDir !== null && config.statistics.length > 0) {
    writes.push({ setting: "statsdir", path: config.statsDir, directory: true });
  }
  if (config.nts.enable && config.nts.cookieKeysFile !== null) {
    // The cookie keys (rotated and saved by the daemon), not the TLS key it only reads.
    writes.push({
      setting: "nts cookie_keys",
      path: config.nts.cookieKeysFile,
      directory: false,
    });
  }
  return { files: unit.paths, sandbox: parseUnitSandbox(unit.texts), writes };
}

/** NTS's AES-SIV back end on this machine, when the config serves or uses NTS; else null. */
async function ntsCryptoFacts(config: NtpConfig): Promise<NtsCryptoFacts | null> {
  const usesNts = config.nts.enable ||
    [...config.servers, ...config.pools].some((u) => u.nts !== null);
  if (!usesNts) return null;
  const aesSiv = await loadLater<typeof import("../io/aes_siv.ts")>(
    new URL("../io/aes_siv.ts", import.meta.url),
  );
  return aesSiv.aesSivChoice();
}

/** The smearing listen addresses and this machine's interface addresses; null when off. */
function leapSmearFacts(config: NtpConfig): LeapSmearFacts | null {
  const smear = config.leapSmear;
  if (smear.intervalSeconds === 0) return null;
  const listeners = (smear.listen ?? config.listen).map((address) => ({
    text: formatHostPort(address.hostname, address.port),
    bytes: ipBytes(address.hostname),
  }));
  let hostAddresses: { text: string; bytes: Uint8Array }[] | null = null;
  try {
    hostAddresses = Deno.networkInterfaces().flatMap((entry) => {
      const text = entry.address.replace(/%.*$/, "");
      try {
        return [{ text, bytes: ipBytes(text) }];
      } catch {
        return [];
      }
    });
  } catch {
    // No --allow-sys: a wildcard smearing listener is reported as unknown (WARN).
  }
  return { intervalSeconds: smear.intervalSeconds, listeners, hostAddresses };
}

/** The configured leap-seconds file, else tzdata's if present, read and checked; null for none. */
async function leapFileFacts(configured: string | null): Promise<LeapFileFacts | null> {
  const path = configured ?? DEFAULT_LEAP_FILE;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (configured === null && error instanceof Deno.errors.NotFound) return null;
    return {
      path,
      configured: configured !== null,
      reading: { ok: false, unreadable: (error as Error).message },
      nowUnixSeconds: Date.now() / 1000,
    };
  }
  return {
    path,
    configured: configured !== null,
    reading: readLeapSecondsFile(text),
    nowUnixSeconds: Date.now() / 1000,
  };
}

/** NTS-KE with `host` on `kePort` as a client elsewhere would run it (the system's trust store). */
async function publicNtsFacts(
  host: string,
  kePort: number,
  timeoutSeconds: number,
): Promise<PublicNtsFacts> {
  const target = `${host.includes(":") ? `[${host}]` : host}:${kePort}`;
  const keClient = await loadLater<typeof import("../io/nts_ke_client.ts")>(
    new URL("../io/nts_ke_client.ts", import.meta.url),
  );
  try {
    const ke = await keClient.runNtsKeyExchange({
      host,
      port: kePort,
      caFile: null,
      timeoutMs: Math.max(timeoutSeconds, 3) * 1000,
    });
    return { target, kePort, outcome: { kind: "ok", cookies: ke.cookies.length } };
  } catch (error) {
    const reason = (error as Error).message;
    const unreachable = /cannot connect|timed out/.test(reason);
    return { target, kePort, outcome: { kind: unreachable ? "unreachable" : "refused", reason } };
  }
}
