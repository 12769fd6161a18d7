// Config text to NtpConfig: detects TOML or ntp.conf, parses, resolves; pure (no file system).
import { parse, TomlError } from "smol-toml";
import { isTable } from "./check_values.ts";
import type { Diagnostic } from "./diagnostics.ts";
import { ConfigError, hasErrors, sortDiagnostics } from "./diagnostics.ts";
import type { NtpConfig } from "./ntp_config.ts";
import type { NtpConfDocument } from "./ntp_conf_reader.ts";
import { readNtpConf } from "./ntp_conf_reader.ts";
import type { ConfigSource } from "./build_config.ts";
import { resolveConfig } from "./build_config.ts";
import { indexTomlPositions, positionOf } from "./toml_positions.ts";

/** The two config languages. */
export type ConfigFormat = "toml" | "ntp.conf";

/**
 * The format of a config file: by extension (.toml, .conf), else by content: TOML when the
 * first line that is not blank or a comment is a `[table]` header or has a `key =`.
 */
export function detectFormat(fileName: string, text: string): ConfigFormat {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".toml")) return "toml";
  if (lower.endsWith(".conf")) return "ntp.conf";
  for (const line of text.split(/\r?\n/)) {
    const code = line.trim();
    if (code === "" || code.startsWith("#")) continue;
    return /^\[|^[A-Za-z0-9_."'-]+\s*=/.test(code) ? "toml" : "ntp.conf";
  }
  return "toml";
}

/** The result of checking config text. */
export interface CheckResult {
  readonly format: ConfigFormat;
  /** The config, or null when there was an error. */
  readonly config: NtpConfig | null;
  /** Every problem, sorted by position. */
  readonly diagnostics: readonly Diagnostic[];
  /** Positions and labels of key paths; null after a TOML syntax error. */
  readonly source: ConfigSource | null;
  /** For ntp.conf: the reader's output, which `ntp config import` writes as TOML. */
  readonly ntpConf: NtpConfDocument | null;
}

/** Options of {@link checkConfigText}. */
export interface CheckTextOptions {
  /** Shown in diagnostics; also picks the format by extension. */
  readonly fileName: string;
  /** Overrides detection. */
  readonly format?: ConfigFormat;
}

/** A ConfigSource for TOML text: positions from the key index, labels are the key paths. */
export function tomlSource(fileName: string, text: string): ConfigSource {
  const index = indexTomlPositions(text);
  return { fileName, position: (path) => positionOf(index, path), label: (path) => path };
}

function checkToml(text: string, fileName: string): CheckResult {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const line = error instanceof TomlError ? error.line : 1;
    const column = error instanceof TomlError ? error.column : 1;
    const detail = error instanceof Error ? error.message : String(error);
    const message = detail.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ?? "";
    const diagnostic: Diagnostic = {
      severity: "error",
      file: fileName,
      line,
      column,
      message: `TOML syntax error: ${message}`,
    };
    return { format: "toml", config: null, diagnostics: [diagnostic], source: null, ntpConf: null };
  }
  const source = tomlSource(fileName, text);
  const resolved = resolveConfig(isTable(document) ? document : {}, source);
  return {
    format: "toml",
    config: resolved.config,
    diagnostics: sortDiagnostics(resolved.diagnostics),
    source,
    ntpConf: null,
  };
}

function checkNtpConf(text: string, fileName: string): CheckResult {
  const conf = readNtpConf(text, fileName);
  const resolved = resolveConfig(conf.document, conf.source);
  const diagnostics = sortDiagnostics([...conf.diagnostics, ...resolved.diagnostics]);
  return {
    format: "ntp.conf",
    config: hasErrors(diagnostics) ? null : resolved.config,
    diagnostics,
    source: conf.source,
    ntpConf: conf,
  };
}

/**
 * Checks config text without touching the file system: syntax, schema, addresses and
 * cross-entry rules. Never throws for any input text.
 *
 * @example
 * ```ts
 * const { config, diagnostics } = checkConfigText('[[server]]\naddress = "a.example"\n', {
 *   fileName: "ntp.toml",
 * });
 * ```
 */
export function checkConfigText(text: string, options: CheckTextOptions): CheckResult {
  const format = options.format ?? detectFormat(options.fileName, text);
  return format === "toml"
    ? checkToml(text, options.fileName)
    : checkNtpConf(text, options.fileName);
}

/**
 * Parses config text into an NtpConfig; throws ConfigError (with every diagnostic) when it has
 * errors. Warnings go to `onWarning` when given.
 */
export function parseConfigText(
  text: string,
  options: CheckTextOptions & { readonly onWarning?: (warning: Diagnostic) => void },
): NtpConfig {
  const result = checkConfigText(text, options);
  if (result.config === null || hasErrors(result.diagnostics)) {
    throw new ConfigError(result.diagnostics);
  }
  for (const diagnostic of result.diagnostics) options.onWarning?.(diagnostic);
  return result.config;
}
