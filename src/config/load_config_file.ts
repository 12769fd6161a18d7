// Reads a config file and adds the checks that need the file system: directories of paths, file mode.
//
// The only file in src/config that touches Deno.*; everything else here is pure.
import type { Diagnostic } from "./diagnostics.ts";
import { ConfigError, hasErrors, sortDiagnostics } from "./diagnostics.ts";
import type { NtpConfig } from "./ntp_config.ts";
import type { CheckResult, ConfigFormat } from "./parse_config.ts";
import { checkConfigText } from "./parse_config.ts";

/** The file-system questions the checks ask; replaceable in tests. */
export interface FileProbe {
  /** True when `path` exists and is a directory. */
  isDirectory(path: string): Promise<boolean>;
  /** Permission bits of the file, or null when unknown. */
  mode(path: string): Promise<number | null>;
}

/** Answers FileProbe questions from the real file system. */
export const realFileProbe: FileProbe = {
  async isDirectory(path) {
    try {
      return (await Deno.stat(path)).isDirectory;
    } catch {
      return false;
    }
  },
  async mode(path) {
    try {
      return (await Deno.stat(path)).mode;
    } catch {
      return null;
    }
  },
};

/** Options of {@link inspectConfigFile} and {@link loadConfigFile}. */
export interface InspectOptions {
  /** Overrides detection by extension and content. */
  readonly format?: ConfigFormat;
  /**
   * Warn when the directories of driftfile, logfile, leapfile and statsdir do not exist
   * (default true).
   */
  readonly checkPaths?: boolean;
  /** File-system answers; the real file system by default. */
  readonly probe?: FileProbe;
}

/** A checked file: the text check's result plus the file-system checks, and the text itself. */
export interface InspectResult extends CheckResult {
  /** The file's text ("" when it could not be read). */
  readonly text: string;
}

async function fileSystemDiagnostics(
  path: string,
  result: CheckResult,
  options: InspectOptions,
): Promise<Diagnostic[]> {
  const probe = options.probe ?? realFileProbe;
  const diagnostics: Diagnostic[] = [];
  const mode = await probe.mode(path);
  if (mode !== null && (mode & 0o002) !== 0) {
    diagnostics.push({
      severity: "warning",
      file: path,
      line: 1,
      column: 1,
      message: `the file is writable by every user (mode ${
        (mode & 0o777).toString(8).padStart(4, "0")
      }), so anyone can change its servers and access rules; run chmod o-w on it`,
    });
  }
  const { config, source } = result;
  if (config === null || source === null || options.checkPaths === false) return diagnostics;
  const paths = [
    ["driftfile", config.driftFile, false],
    ["logfile", config.logFile, false],
    ["leapfile", config.leapFile, false],
    ["statsdir", config.statsDir, true],
  ] as const;
  for (const [key, value, isDirectory] of paths) {
    if (value === null) continue;
    const directory = isDirectory ? value : parentDirectory(value);
    if (await probe.isDirectory(directory)) continue;
    const { line, column } = source.position(key);
    // A warning, as ntpd has it (it runs and logs that it cannot write there): the systemd unit's
    // StateDirectory and LogsDirectory create /var/lib/ntp and /var/log/ntp at start.
    diagnostics.push({
      severity: "warning",
      file: path,
      line,
      column,
      message: `${source.label(key)}: directory ${directory} does not exist (yet); ` +
        `create it (mkdir -p ${directory}) or choose another path, or nothing is ` +
        `${key === "leapfile" ? "read" : "written"} there`,
    });
  }
  return diagnostics;
}

/**
 * Reads and checks a config file (TOML or ntp.conf): everything `ntp config check` reports.
 * Never throws; an unreadable file is an error diagnostic.
 */
export async function inspectConfigFile(
  path: string,
  options: InspectOptions = {},
): Promise<InspectResult> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const diagnostic: Diagnostic = {
      severity: "error",
      file: path,
      line: 1,
      column: 1,
      message: `cannot read the file: ${reason}`,
    };
    return {
      format: options.format ?? "toml",
      config: null,
      diagnostics: [diagnostic],
      source: null,
      ntpConf: null,
      text: "",
    };
  }
  const result = checkConfigText(text, {
    fileName: path,
    ...(options.format !== undefined ? { format: options.format } : {}),
  });
  const diagnostics = sortDiagnostics([
    ...result.diagnostics,
    ...await fileSystemDiagnostics(path, result, options),
  ]);
  return { ...result, config: hasErrors(diagnostics) ? null : result.config, diagnostics, text };
}

/**
 * Loads a config file (format by extension .toml / .conf, else by content) into an NtpConfig.
 * Throws ConfigError carrying every diagnostic when there is an error; warnings go to
 * `onWarning`.
 *
 * @example
 * ```ts
 * import { ConfigError, formatDiagnostic } from "./diagnostics.ts";
 * try {
 *   const config = await loadConfigFile("/etc/ntp/ntp.toml", {
 *     onWarning: (w) => console.warn(formatDiagnostic(w)),
 *   });
 * } catch (error) {
 *   if (error instanceof ConfigError) console.error(error.message); // FILE:LINE:COL: error: ...
 * }
 * ```
 */
export async function loadConfigFile(
  path: string,
  options: InspectOptions & { readonly onWarning?: (warning: Diagnostic) => void } = {},
): Promise<NtpConfig> {
  const result = await inspectConfigFile(path, options);
  if (result.config === null || hasErrors(result.diagnostics)) {
    throw new ConfigError(result.diagnostics);
  }
  for (const diagnostic of result.diagnostics) options.onWarning?.(diagnostic);
  return result.config;
}

/** The directory part of a path, as dirname(1) gives it: "/var/lib/ntp/drift" -> "/var/lib/ntp". */
function parentDirectory(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : trimmed.slice(0, slash).replace(/\/+$/, "") || "/";
}
