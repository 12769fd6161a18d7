// Writes an NtpConfig as TOML, only the keys that differ from the schema's defaults.
import { formatHostPort } from "./addresses.ts";
import type { NtpConfig, RestrictConfig, StatsFileConfig, UpstreamConfig } from "./ntp_config.ts";
import type { SectionSpec, TomlDefault } from "./schema.ts";
import { configSchema, defaultListen, fieldSpec, ntpPort, sectionSpec } from "./schema.ts";
import { tomlValue } from "./toml_text.ts";

function defaultOf(section: string, key: string): unknown {
  const spec = sectionSpec(section);
  return spec === undefined ? undefined : fieldSpec(spec, key)?.default;
}

function simpleLines(section: SectionSpec, values: object): string[] {
  const lines: string[] = [];
  for (const field of section.fields) {
    if (field.field === undefined) continue;
    const value = (values as Record<string, unknown>)[field.field];
    if (value === null || value === undefined || value === field.default) continue;
    lines.push(`${field.key} = ${tomlValue(value)}`);
  }
  return lines;
}

function upstreamLines(name: string, upstream: UpstreamConfig): string[] {
  const lines = [`[[${name}]]`, `address = ${tomlValue(upstream.host)}`];
  if (upstream.port !== ntpPort) lines.push(`port = ${upstream.port}`);
  const isName = !/^[0-9.]+$/.test(upstream.host) && !upstream.host.includes(":");
  if (isName && upstream.family !== null) lines.push(`ipv${upstream.family} = true`);
  for (const flag of ["iburst", "burst", "prefer", "noselect"] as const) {
    if (upstream[flag]) lines.push(`${flag} = true`);
  }
  const numbers = [
    ["minpoll", upstream.minPollLog2],
    ["maxpoll", upstream.maxPollLog2],
    ["version", upstream.version],
  ] as const;
  for (const [key, value] of numbers) {
    if (value !== defaultOf(name, key)) lines.push(`${key} = ${value}`);
  }
  if (upstream.nts !== null) {
    lines.push("nts = true");
    if (upstream.nts.caFile !== null) lines.push(`nts_ca = ${tomlValue(upstream.nts.caFile)}`);
    if (upstream.nts.keServer !== null) {
      lines.push(`nts_ke_server = ${tomlValue(upstream.nts.keServer)}`);
    }
    if (upstream.nts.kePort !== defaultOf(name, "nts_ke_port")) {
      lines.push(`nts_ke_port = ${upstream.nts.kePort}`);
    }
    if (!upstream.nts.verifyCertificate) lines.push("nts_noval = true");
  }
  return lines;
}

/**
 * The `[[server]]` (or `[[pool]]`) table of one upstream as lines, options at their defaults
 * left out.
 *
 * @example
 * ```ts
 * const upstream = { host: "a.example", port: 123, family: null, iburst: true, burst: false,
 *   prefer: false, noselect: false, minPollLog2: 6, maxPollLog2: 10, version: 4, nts: null } as const;
 * upstreamTableLines("server", upstream).join("\n"); // '[[server]]\naddress = "a.example"\niburst = true'
 * ```
 */
export function upstreamTableLines(name: "server" | "pool", upstream: UpstreamConfig): string[] {
  return upstreamLines(name, upstream);
}

function restrictLines(rule: RestrictConfig): string[] {
  const lines = ["[[restrict]]"];
  if (rule.kind === "default") {
    lines.push(`address = "default"`);
    if (rule.family !== null) lines.push(`ipv${rule.family} = true`);
  } else {
    const full = rule.prefixLength === (rule.family === 4 ? 32 : 128);
    const address = full ? rule.network : `${rule.network}/${rule.prefixLength}`;
    lines.push(`address = ${tomlValue(address)}`);
  }
  if (rule.flags.length > 0) lines.push(`flags = ${tomlValue(rule.flags)}`);
  return lines;
}

/** The [[filegen]] table of a statistics set named or split otherwise than by default; none else. */
function filegenLines(set: StatsFileConfig): string[] {
  const lines: string[] = [];
  if (set.fileName !== set.kind) lines.push(`file = ${tomlValue(set.fileName)}`);
  if (set.generation !== "day") lines.push(`type = ${tomlValue(set.generation)}`);
  if (!set.link) lines.push("link = false");
  return lines.length === 0 ? [] : ["[[filegen]]", `name = ${tomlValue(set.kind)}`, ...lines];
}

/**
 * Writes a config as TOML that loads back to the same config. Keys at their defaults are left
 * out, so an all-default config is the empty string.
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "./ntp_config.ts";
 * declare const config: NtpConfig;
 * const text = configToToml(config);
 * // parseConfigText(text, { fileName: "x.toml" }) deep-equals config
 * ```
 */
export function configToToml(config: NtpConfig): string {
  const blocks: string[][] = [];
  const [root] = configSchema;
  const top = root ? simpleLines(root, config) : [];
  const listen = config.listen.map((address) => formatHostPort(address.hostname, address.port));
  if (listen.join(" ") !== defaultListen.join(" ")) top.push(`listen = ${tomlValue(listen)}`);
  if (config.statistics.length > 0) {
    top.push(`statistics = ${tomlValue(config.statistics.map((set) => set.kind))}`);
  }
  if (top.length > 0) blocks.push(top);
  for (const upstream of config.servers) blocks.push(upstreamLines("server", upstream));
  for (const upstream of config.pools) blocks.push(upstreamLines("pool", upstream));
  for (const rule of config.restrict) blocks.push(restrictLines(rule));
  for (const set of config.statistics) {
    const lines = filegenLines(set);
    if (lines.length > 0) blocks.push(lines);
  }
  for (const name of ["tos", "tinker", "discard", "serve"] as const) {
    const section = sectionSpec(name);
    const lines = section ? simpleLines(section, config[name]) : [];
    if (lines.length > 0) blocks.push([`[${name}]`, ...lines]);
  }
  const pick = sectionSpec("pick");
  const pickLines = pick ? simpleLines(pick, config.pick) : [];
  if (pickLines.length > 0) blocks.push(["[pick]", ...pickLines]);
  const metrics = config.metrics.listen;
  if (metrics !== null) {
    blocks.push([
      "[metrics]",
      `listen = ${tomlValue(formatHostPort(metrics.hostname, metrics.port))}`,
    ]);
  }
  const ntsLines = ntsTomlLines(config.nts);
  if (ntsLines.length > 0) blocks.push(["[nts]", ...ntsLines]);
  const smear = config.leapSmear;
  if (smear.intervalSeconds > 0) {
    const lines = ["[leapsmear]", `interval = ${smear.intervalSeconds}`];
    if (smear.listen !== null) {
      const addresses = smear.listen.map((a) => formatHostPort(a.hostname, a.port));
      lines.push(`listen = ${tomlValue(addresses)}`);
    }
    blocks.push(lines);
  }
  return blocks.map((block) => `${block.join("\n")}\n`).join("\n");
}

const aeadNames: Readonly<Record<number, string>> = { 15: "AES_SIV_CMAC_256" };

/** The [nts] keys that differ from their defaults. */
function ntsTomlLines(nts: NtpConfig["nts"]): string[] {
  const spec = sectionSpec("nts");
  const lines: string[] = [];
  const add = (key: string, value: TomlDefault) => {
    const field = spec?.fields.find((f) => f.key === key);
    if (field !== undefined && JSON.stringify(field.default) === JSON.stringify(value)) return;
    if (value !== null) lines.push(`${key} = ${tomlValue(value)}`);
  };
  add("enable", nts.enable);
  add("cert", nts.certificateFile);
  add("key", nts.keyFile);
  add("cookie_keys", nts.cookieKeysFile);
  add("listen", nts.listen.map((address) => formatHostPort(address.hostname, address.port)));
  add("rotate", nts.rotateSeconds);
  add("keep", nts.keepKeys);
  add("aead", nts.aeadIds.map((id) => aeadNames[id] ?? String(id)));
  add("max_connections", nts.maxConnections);
  add("timeout", nts.timeoutSeconds);
  add("per_source_rate", nts.perSourceRate);
  add("per_source_burst", nts.perSourceBurst);
  return lines;
}
