// Turns a raw TOML-shaped document (from TOML or ntp.conf) into an NtpConfig, driven by the schema.
import type { RestrictFlag } from "../core/server/types.ts";
import { parseHostPort, parseMask, parseNetwork } from "./addresses.ts";
import { checkValue, describeValue, isTable } from "./check_values.ts";
import { crossCheck } from "./cross_checks.ts";
import type { Reporter, ReportOptions } from "./reporter.ts";
import type { Diagnostic, SourcePosition } from "./diagnostics.ts";
import { hasErrors } from "./diagnostics.ts";
import type {
  DiscardConfig,
  LeapSmearConfig,
  ListenAddress,
  MetricsConfig,
  NtpConfig,
  NtsConfig,
  PickConfig,
  RestrictConfig,
  ServeConfig,
  StatsFileConfig,
  TinkerConfig,
  TosConfig,
  UpstreamConfig,
} from "./ntp_config.ts";
import type { SectionSpec } from "./schema.ts";
import { fieldSpec, ntpPort, sectionNames, sectionSpec, unsupportedReason } from "./schema.ts";
import { closestWord } from "./suggest.ts";
import { STATS_KINDS, type StatsKind, UNSUPPORTED_STATS_KINDS } from "../core/stats/stats_lines.ts";
import type { GenerationType } from "../core/stats/file_generation.ts";

/** Where the raw document came from: positions and names of key paths for messages. */
export interface ConfigSource {
  /** The file name shown in diagnostics. */
  readonly fileName: string;
  /** Position of a key path such as `server[2].minpoll` (or of its nearest written ancestor). */
  position(path: string): SourcePosition;
  /** How messages name a key path: the path itself for TOML, the directive and option for ntp.conf. */
  label(path: string): string;
}

/** The outcome of resolving: a config when there were no errors, and every diagnostic. */
export interface ResolveResult {
  readonly config: NtpConfig | null;
  readonly diagnostics: readonly Diagnostic[];
}

function makeReporter(source: ConfigSource, diagnostics: Diagnostic[]): Reporter {
  const report =
    (severity: Diagnostic["severity"]) =>
    (path: string, message: string, options: ReportOptions = {}): void => {
      const { line, column } = source.position(path);
      const text = options.bare ? message : `${source.label(path)}: ${message}`;
      diagnostics.push({ severity, file: source.fileName, line, column, message: text });
    };
  return {
    error: report("error"),
    warning: report("warning"),
    lineOf: (path) => source.position(path).line,
  };
}

/** Where a table is being read: its key path and the reporter. */
interface Scope {
  readonly path: string;
  readonly reporter: Reporter;
}

const join = (base: string, key: string): string => base === "" ? key : `${base}.${key}`;

/** Reads the keys of one table: unknown and unsupported keys reported, values checked, defaults filled. */
function readTable(
  table: Record<string, unknown>,
  scope: Scope & { readonly section: SectionSpec },
): Map<string, unknown> {
  const { section, path, reporter } = scope;
  const values = new Map<string, unknown>();
  const known = section.fields.map((field) => field.key);
  for (const key of Object.keys(table)) {
    const keyPath = join(path, key);
    const spec = fieldSpec(section, key);
    if (spec === undefined) {
      if (section.shape === "root" && sectionNames.includes(key)) continue;
      const unsupported = unsupportedReason(section.name, key);
      if (unsupported !== undefined) {
        reporter.error(keyPath, unsupported);
        continue;
      }
      const candidates = section.shape === "root" ? [...known, ...sectionNames] : known;
      const suggestion = closestWord(key, candidates);
      reporter.error(
        keyPath,
        suggestion !== undefined
          ? `unknown key; did you mean "${suggestion}"?`
          : `unknown key; allowed keys: ${candidates.join(", ")}`,
      );
      continue;
    }
    const checked = checkValue(spec, table[key]);
    if (checked.ok) {
      values.set(key, checked.value);
    } else {
      for (const problem of checked.problems) {
        const at = problem.element === undefined ? keyPath : `${keyPath}[${problem.element}]`;
        reporter.error(at, problem.message);
      }
    }
  }
  for (const spec of section.fields) {
    if (Object.hasOwn(table, spec.key)) continue;
    if (spec.required) reporter.error(path, `missing required key "${spec.key}"`);
    else values.set(spec.key, spec.default);
  }
  return values;
}

const numberOf = (values: Map<string, unknown>, key: string): number | undefined => {
  const value = values.get(key);
  return typeof value === "number" ? value : undefined;
};
const stringOf = (values: Map<string, unknown>, key: string): string | undefined => {
  const value = values.get(key);
  return typeof value === "string" ? value : undefined;
};
const flagOf = (values: Map<string, unknown>, key: string): boolean => values.get(key) === true;

/** Builds a one-to-one section ([tos], [tinker], ...) from its checked values via the `field` names. */
function buildSimple<T>(section: SectionSpec, values: Map<string, unknown>): T {
  const entries = section.fields
    .filter((field) => field.field !== undefined)
    .map((field) => [field.field, values.get(field.key) ?? field.default]);
  return Object.fromEntries(entries) as T;
}

function buildListen(values: Map<string, unknown>, reporter: Reporter): ListenAddress[] {
  const list = values.get("listen");
  if (!Array.isArray(list)) return [];
  if (list.length === 0) {
    reporter.error("listen", "got an empty list, expected at least one address");
  }
  const result: ListenAddress[] = [];
  const seen = new Map<string, number>();
  list.forEach((text: unknown, index) => {
    const path = `listen[${index}]`;
    if (typeof text !== "string") return;
    const parsed = parseHostPort(text, { allowPortZero: true });
    if (!parsed.ok) return reporter.error(path, parsed.message);
    const { host, port, literalFamily } = parsed.value;
    if (literalFamily === null) {
      return reporter.error(
        path,
        `"${text}" is a host name; listen addresses must be IP addresses such as 0.0.0.0 or [::]`,
      );
    }
    const address = { hostname: host, port: port ?? ntpPort, family: literalFamily };
    const key = `${address.hostname} ${address.port}`;
    const first = seen.get(key);
    if (first !== undefined && address.port !== 0) {
      return reporter.error(path, `"${text}" is listed twice (also listen[${first}])`);
    }
    seen.set(key, index);
    result.push(address);
  });
  return result;
}

/** `[leapsmear]`: the interval, and which of `listen` smear (each must be one of them). */
function buildLeapSmear(
  values: Map<string, unknown>,
  listen: readonly ListenAddress[],
  reporter: Reporter,
): LeapSmearConfig {
  const interval = values.get("interval");
  const intervalSeconds = typeof interval === "number" ? interval : 0;
  const texts = values.get("listen");
  if (!Array.isArray(texts) || texts.length === 0) {
    return { intervalSeconds, listen: intervalSeconds > 0 ? null : [] };
  }
  if (intervalSeconds === 0) {
    reporter.error("leapsmear.listen", "set leapsmear.interval too (seconds, e.g. 7200)");
    return { intervalSeconds, listen: [] };
  }
  const chosen: ListenAddress[] = [];
  texts.forEach((text: unknown, index) => {
    const path = `leapsmear.listen[${index}]`;
    if (typeof text !== "string") return;
    const parsed = parseHostPort(text, { allowPortZero: true });
    if (!parsed.ok) return reporter.error(path, parsed.message);
    const port = parsed.value.port ?? ntpPort;
    const found = listen.find((address) =>
      address.port === port && address.hostname === parsed.value.host
    );
    if (found === undefined) {
      return reporter.error(path, `"${text}" is not one of the listen addresses`);
    }
    chosen.push(found);
  });
  return { intervalSeconds, listen: chosen };
}

function buildMetrics(values: Map<string, unknown>, reporter: Reporter): MetricsConfig {
  const text = stringOf(values, "listen");
  if (text === undefined) return { listen: null };
  const path = "metrics.listen";
  const parsed = parseHostPort(text, { allowPortZero: true });
  if (!parsed.ok) {
    reporter.error(path, parsed.message);
    return { listen: null };
  }
  const { host, port, literalFamily } = parsed.value;
  if (literalFamily === null) {
    reporter.error(
      path,
      `"${text}" is a host name; give an IP address and port such as "127.0.0.1:9123"`,
    );
    return { listen: null };
  }
  if (port === null) {
    const example = literalFamily === 6 ? `[${host}]:9123` : `${host}:9123`;
    reporter.error(path, `"${text}" has no port; give one, e.g. "${example}"`);
    return { listen: null };
  }
  return { listen: { hostname: host, port, family: literalFamily } };
}

const aeadIdOf: Readonly<Record<string, number>> = { AES_SIV_CMAC_256: 15 };

function buildNts(values: Map<string, unknown>, reporter: Reporter): NtsConfig {
  const spec = section("nts");
  const field = (key: string): unknown =>
    values.get(key) ?? spec.fields.find((f) => f.key === key)?.default;
  const enable = field("enable") === true;
  const certificateFile = (field("cert") as string | null | undefined) ?? null;
  const keyFile = (field("key") as string | null | undefined) ?? null;
  if (enable && certificateFile === null) {
    reporter.error("nts.cert", "NTS needs a certificate chain: set nts.cert");
  }
  if (enable && keyFile === null) {
    reporter.error("nts.key", "NTS needs the certificate's key: set nts.key");
  }
  const listenTexts = (field("listen") as readonly string[] | undefined) ?? [];
  if (listenTexts.length === 0) {
    reporter.error("nts.listen", "got an empty list, expected at least one address");
  }
  const listen: ListenAddress[] = [];
  listenTexts.forEach((text, index) => {
    const path = `nts.listen[${index}]`;
    const parsed = parseHostPort(text, { allowPortZero: true });
    if (!parsed.ok) return reporter.error(path, parsed.message);
    const { host, port, literalFamily } = parsed.value;
    if (literalFamily === null) {
      return reporter.error(
        path,
        `"${text}" is a host name; give an IP address such as [::] or 0.0.0.0`,
      );
    }
    listen.push({ hostname: host, port: port ?? NTS_KE_PORT, family: literalFamily });
  });
  const aeads = (field("aead") as readonly string[] | undefined) ?? [];
  if (aeads.length === 0) {
    reporter.error("nts.aead", "got an empty list, expected at least one AEAD");
  }
  return {
    enable,
    certificateFile,
    keyFile,
    cookieKeysFile: (field("cookie_keys") as string | null | undefined) ?? null,
    listen,
    rotateSeconds: field("rotate") as number,
    keepKeys: field("keep") as number,
    aeadIds: aeads.map((name) => aeadIdOf[name] ?? 15),
    maxConnections: field("max_connections") as number,
    timeoutSeconds: field("timeout") as number,
    perSourceRate: field("per_source_rate") as number,
    perSourceBurst: field("per_source_burst") as number,
  };
}

/** The NTS-KE port when a listen address has none. */
const NTS_KE_PORT = 4460;

function buildUpstream(values: Map<string, unknown>, scope: Scope): UpstreamConfig | null {
  const { path, reporter } = scope;
  const address = stringOf(values, "address");
  const minPollLog2 = numberOf(values, "minpoll");
  const maxPollLog2 = numberOf(values, "maxpoll");
  const portKey = numberOf(values, "port");
  const version = numberOf(values, "version");
  const ipv4 = flagOf(values, "ipv4");
  const ipv6 = flagOf(values, "ipv6");
  let valid = true;
  const problem = (at: string, message: string): void => {
    reporter.error(at, message);
    valid = false;
  };
  if (ipv4 && ipv6) {
    problem(join(path, "ipv6"), "ipv4 and ipv6 exclude each other (ntp.conf -4 / -6)");
  }
  if (minPollLog2 !== undefined && maxPollLog2 !== undefined && minPollLog2 > maxPollLog2) {
    problem(
      join(path, "minpoll"),
      `minpoll ${minPollLog2} is greater than maxpoll ${maxPollLog2}; expected minpoll <= maxpoll`,
    );
  }
  if (address === undefined) return null;
  const addressPath = join(path, "address");
  const parsed = parseHostPort(address, { allowPortZero: false });
  if (!parsed.ok) {
    problem(addressPath, parsed.message);
    return null;
  }
  const { host, literalFamily } = parsed.value;
  let port = portKey ?? ntpPort;
  const nts = flagOf(values, "nts");
  const ntsCa = stringOf(values, "nts_ca") ?? null;
  let kePort = numberOf(values, "nts_ke_port") ?? NTS_KE_PORT;
  if (!nts && ntsCa !== null) {
    problem(join(path, "nts_ca"), "nts_ca needs nts = true (ntp.conf: the nts option)");
  }
  if (!nts && kePort !== NTS_KE_PORT) {
    problem(join(path, "nts_ke_port"), "nts_ke_port needs nts = true (ntp.conf: the nts option)");
  }
  const noval = flagOf(values, "nts_noval");
  if (!nts && noval) {
    problem(join(path, "nts_noval"), "nts_noval needs nts = true (ntp.conf: the nts option)");
  }
  if (nts && noval) {
    reporter.warning(
      join(path, "nts_noval"),
      "the NTS-KE server's certificate is NOT checked: anyone on the path can pose as it " +
        "(for tests only)",
    );
  }
  let keServer: string | null = null;
  const keServerText = stringOf(values, "nts_ke_server");
  if (keServerText !== undefined) {
    const keServerPath = join(path, "nts_ke_server");
    const parsedKe = parseHostPort(keServerText, { allowPortZero: false });
    if (!nts) problem(keServerPath, "nts_ke_server needs nts = true (ntp.conf: the nts option)");
    else if (!parsedKe.ok) problem(keServerPath, parsedKe.message);
    else {
      keServer = parsedKe.value.host;
      if (parsedKe.value.port !== null) {
        if (kePort !== NTS_KE_PORT && kePort !== parsedKe.value.port) {
          problem(
            join(path, "nts_ke_port"),
            `nts_ke_port ${kePort} contradicts the port in nts_ke_server "${keServerText}"; ` +
              "give the port once",
          );
        }
        kePort = parsedKe.value.port;
      }
    }
  }
  if (nts && parsed.value.port !== null && keServerText === undefined) {
    // NTPsec's reading of `server HOST:PORT nts`: the port is the NTS-KE server's.
    if (kePort !== NTS_KE_PORT && kePort !== parsed.value.port) {
      problem(
        join(path, "nts_ke_port"),
        `nts_ke_port ${kePort} contradicts the port in address "${address}" (with nts, that is ` +
          "the NTS-KE port); give the port once",
      );
    }
    kePort = parsed.value.port;
  } else if (parsed.value.port !== null) {
    if (portKey !== undefined && portKey !== ntpPort && portKey !== parsed.value.port) {
      problem(
        join(path, "port"),
        `port ${portKey} contradicts the port in address "${address}"; give the port once`,
      );
    }
    port = parsed.value.port;
  }
  if (literalFamily === 4 && host.startsWith("127.127.")) {
    problem(
      addressPath,
      `"${address}" is a reference clock address; reference clocks are not supported yet`,
    );
  }
  if (literalFamily !== null && (ipv4 || ipv6) && (ipv4 ? 4 : 6) !== literalFamily) {
    problem(
      join(path, ipv4 ? "ipv4" : "ipv6"),
      `${ipv4 ? "ipv4" : "ipv6"} = true but "${address}" is an IPv${literalFamily} address`,
    );
  }
  if (!valid || minPollLog2 === undefined || maxPollLog2 === undefined || version === undefined) {
    return null;
  }
  return {
    host,
    port,
    family: literalFamily ?? (ipv4 ? 4 : ipv6 ? 6 : null),
    iburst: flagOf(values, "iburst"),
    burst: flagOf(values, "burst"),
    prefer: flagOf(values, "prefer"),
    noselect: flagOf(values, "noselect"),
    minPollLog2,
    maxPollLog2,
    version,
    nts: nts ? { caFile: ntsCa, kePort, keServer, verifyCertificate: !noval } : null,
  };
}

function buildRestrict(values: Map<string, unknown>, scope: Scope): RestrictConfig | null {
  const { path, reporter } = scope;
  const address = stringOf(values, "address");
  const mask = stringOf(values, "mask");
  const ipv4 = flagOf(values, "ipv4");
  const ipv6 = flagOf(values, "ipv6");
  const flagsValue = values.get("flags");
  if (address === undefined || !Array.isArray(flagsValue)) return null;
  const flags = flagsValue as RestrictFlag[];
  if (ipv4 && ipv6) {
    reporter.error(join(path, "ipv6"), "ipv4 and ipv6 exclude each other (ntp.conf -4 / -6)");
    return null;
  }
  if (address === "default") {
    if (mask !== undefined) {
      reporter.error(join(path, "mask"), 'a mask cannot be combined with address = "default"');
      return null;
    }
    return { kind: "default", family: ipv4 ? 4 : ipv6 ? 6 : null, flags };
  }
  const addressPath = join(path, "address");
  const parsed = parseNetwork(address);
  if (!parsed.ok) {
    reporter.error(addressPath, parsed.message);
    return null;
  }
  let { family, network, prefixLength, hostBitsSet } = parsed.value;
  if ((ipv4 && family !== 4) || (ipv6 && family !== 6)) {
    reporter.error(
      join(path, ipv4 ? "ipv4" : "ipv6"),
      `${ipv4 ? "ipv4" : "ipv6"} = true but "${address}" is an IPv${family} address`,
    );
    return null;
  }
  if (mask !== undefined) {
    const maskPath = join(path, "mask");
    if (address.includes("/")) {
      reporter.error(maskPath, `give either a CIDR prefix in address or a mask, not both`);
      return null;
    }
    const maskParsed = parseMask(mask, family);
    if (!maskParsed.ok) {
      reporter.error(maskPath, maskParsed.message);
      return null;
    }
    const masked = parseNetwork(`${network}/${maskParsed.value}`);
    if (!masked.ok) return null;
    ({ family, network, prefixLength, hostBitsSet } = masked.value);
  }
  if (hostBitsSet) {
    reporter.warning(
      addressPath,
      `"${address}" has host bits set beyond the mask; the rule covers ${network}/${prefixLength}`,
    );
  }
  return { kind: "network", family, network, prefixLength, flags };
}

/** One `[[filegen]]` table as read: its index for messages, null where it had errors. */
interface FilegenEntry {
  readonly index: number;
  readonly kind: StatsKind;
  readonly fileName: string;
  readonly generation: GenerationType;
  readonly link: boolean;
  readonly enable: boolean | null;
}

function buildFilegen(values: Map<string, unknown>, scope: Scope): FilegenEntry | null {
  const { path, reporter } = scope;
  const index = Number(/\[(\d+)\]$/.exec(path)?.[1] ?? 0);
  const name = stringOf(values, "name");
  if (name === undefined) return null;
  if (!(STATS_KINDS as readonly string[]).includes(name)) {
    if (UNSUPPORTED_STATS_KINDS.includes(name) && values.get("enable") === false) {
      reporter.warning(
        `${path}.name`,
        `statistics file "${name}" is not supported yet; disabled anyway, nothing to do`,
      );
    } else if (UNSUPPORTED_STATS_KINDS.includes(name)) {
      reporter.error(`${path}.name`, `statistics file "${name}" is not supported yet`);
    } else {
      const suggestion = closestWord(name, STATS_KINDS);
      reporter.error(
        `${path}.name`,
        `unknown statistics file "${name}"` +
          (suggestion === undefined
            ? `; allowed: ${STATS_KINDS.join(", ")}`
            : `; did you mean "${suggestion}"?`),
      );
    }
    return null;
  }
  const fileName = stringOf(values, "file") ?? name;
  if (fileName.includes("/") || fileName === "." || fileName === "..") {
    reporter.error(
      `${path}.file`,
      `"${fileName}" is not a file name; give a name inside statsdir, without "/"`,
    );
    return null;
  }
  const enable = values.get("enable");
  return {
    index,
    kind: name as StatsKind,
    fileName,
    generation: (stringOf(values, "type") ?? "day") as GenerationType,
    link: values.get("link") !== false,
    enable: typeof enable === "boolean" ? enable : null,
  };
}

/**
 * The statistics sets to write: those `statistics` names, or a `[[filegen]]` enables, less those
 * a `[[filegen]]` disables; each named and split as its `[[filegen]]` says (default: NAME.YYYYMMDD
 * linked from NAME).
 */
function buildStatistics(
  named: readonly StatsKind[],
  filegens: readonly (FilegenEntry | null)[],
  statsDir: string | null,
  reporter: Reporter,
): StatsFileConfig[] {
  const byKind = new Map<StatsKind, FilegenEntry>();
  for (const entry of filegens) {
    if (entry === null) continue;
    const first = byKind.get(entry.kind);
    if (first !== undefined) {
      reporter.error(
        `filegen[${entry.index}].name`,
        `filegen ${entry.kind} is given twice; first at line ${
          reporter.lineOf(`filegen[${first.index}]`)
        }`,
      );
      continue;
    }
    byKind.set(entry.kind, entry);
  }
  const files: StatsFileConfig[] = [];
  const fileNames = new Map<string, StatsKind>();
  for (const kind of STATS_KINDS) {
    const entry = byKind.get(kind);
    const enabled = entry?.enable ?? named.includes(kind);
    if (!enabled) continue;
    const file: StatsFileConfig = {
      kind,
      fileName: entry?.fileName ?? kind,
      generation: entry?.generation ?? "day",
      link: entry?.link ?? true,
    };
    const clash = fileNames.get(file.fileName);
    if (clash !== undefined) {
      reporter.error(
        entry === undefined ? "statistics" : `filegen[${entry.index}].file`,
        `${kind} would be written to the files of ${clash} ("${file.fileName}"); give it ` +
          "another file name",
      );
      continue;
    }
    fileNames.set(file.fileName, kind);
    files.push(file);
  }
  if (files.length > 0 && statsDir === null) {
    reporter.warning(
      named.length > 0 ? "statistics" : `filegen[${byKind.get(files[0]!.kind)?.index ?? 0}]`,
      "no statsdir: no statistics file is written (ntpd writes to its compiled-in " +
        "directory); set statsdir, e.g. /var/log/ntp/, the systemd unit's LogsDirectory",
    );
  }
  if (files.length === 0 && statsDir !== null) {
    reporter.warning(
      "statsdir",
      "no statistics are enabled, so nothing is written there; add e.g. " +
        "`statistics loopstats peerstats`",
    );
  }
  if (files.some((file) => file.kind === "clockstats")) {
    reporter.warning(
      named.includes("clockstats")
        ? `statistics[${named.indexOf("clockstats")}]`
        : `filegen[${byKind.get("clockstats")?.index ?? 0}]`,
      "clockstats records reference clocks, which are not supported yet: nothing is written",
    );
  }
  return files;
}

/** Reads an array of tables section, reporting a wrong shape. */
function entriesOf(document: Record<string, unknown>, scope: Scope): Record<string, unknown>[] {
  const { path: name, reporter } = scope;
  const value = document[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isTable)) {
    reporter.error(name, `got ${describeValue(value)}, expected [[${name}]] tables`);
    return [];
  }
  return value;
}

function tableOf(document: Record<string, unknown>, scope: Scope): Record<string, unknown> {
  const { path: name, reporter } = scope;
  const value = document[name];
  if (value === undefined) return {};
  if (!isTable(value)) {
    reporter.error(name, `got ${describeValue(value)}, expected a [${name}] table`);
    return {};
  }
  return value;
}

function section(name: string): SectionSpec {
  const spec = sectionSpec(name);
  if (spec === undefined) throw new Error(`internal: no schema section "${name}"`);
  return spec;
}

/**
 * Resolves a raw document against the schema: reports unknown, unsupported and invalid keys,
 * applies defaults, parses addresses and runs the cross-entry checks. The config is null when
 * any error was found.
 *
 * @example
 * ```ts
 * import { parse } from "smol-toml";
 * import { tomlSource } from "./parse_config.ts";
 * const text = '[[server]]\naddress = "a.example"\n';
 * const { config, diagnostics } = resolveConfig(parse(text), tomlSource("ntp.toml", text));
 * ```
 */
export function resolveConfig(
  document: Record<string, unknown>,
  source: ConfigSource,
): ResolveResult {
  const diagnostics: Diagnostic[] = [];
  const reporter = makeReporter(source, diagnostics);

  const root = readTable(document, { section: section(""), path: "", reporter });
  const listen = buildListen(root, reporter);

  const entries = <T>(
    name: string,
    build: (values: Map<string, unknown>, scope: Scope) => T,
  ): T[] =>
    entriesOf(document, { path: name, reporter }).map((table, index) => {
      const scope = { path: `${name}[${index}]`, reporter };
      return build(readTable(table, { ...scope, section: section(name) }), scope);
    });
  const servers = entries("server", buildUpstream);
  const pools = entries("pool", buildUpstream);
  const restrict = entries("restrict", buildRestrict);

  const simple = <T>(name: string): T => {
    const scope = { path: name, reporter, section: section(name) };
    return buildSimple<T>(section(name), readTable(tableOf(document, scope), scope));
  };
  const tos = simple<TosConfig>("tos");
  const tinker = simple<TinkerConfig>("tinker");
  const discard = simple<DiscardConfig>("discard");
  const serve = simple<ServeConfig>("serve");
  const pick = simple<PickConfig>("pick");
  const metricsScope = { path: "metrics", reporter, section: section("metrics") };
  const metrics = buildMetrics(
    readTable(tableOf(document, metricsScope), metricsScope),
    reporter,
  );
  const ntsScope = { path: "nts", reporter, section: section("nts") };
  const nts = buildNts(readTable(tableOf(document, ntsScope), ntsScope), reporter);
  const smearScope = { path: "leapsmear", reporter, section: section("leapsmear") };
  const leapSmear = buildLeapSmear(
    readTable(tableOf(document, smearScope), smearScope),
    listen,
    reporter,
  );
  if (leapSmear.intervalSeconds > 0 && nts.enable) {
    reporter.error(
      "leapsmear.interval",
      "leap smearing is not available with the NTS server yet (NTS replies are authenticated " +
        "as written); serve NTS or smear, not both",
    );
  }

  const files = buildSimple<Pick<NtpConfig, "driftFile" | "logFile" | "leapFile" | "statsDir">>(
    section(""),
    root,
  );
  const statistics = buildStatistics(
    (root.get("statistics") as StatsKind[] | undefined) ?? [],
    entries("filegen", buildFilegen),
    files.statsDir,
    reporter,
  );
  crossCheck({
    servers,
    pools,
    restrict,
    tos,
    hasTosTable: document.tos !== undefined,
  }, reporter);

  if (hasErrors(diagnostics)) return { config: null, diagnostics };
  const present = <T>(list: (T | null)[]): T[] => list.filter((item): item is T => item !== null);
  const config: NtpConfig = {
    ...files,
    statistics,
    listen,
    leapSmear,
    servers: present(servers),
    pools: present(pools),
    restrict: present(restrict),
    tos,
    tinker,
    discard,
    serve,
    metrics,
    nts,
    pick,
  };
  return { config, diagnostics };
}
