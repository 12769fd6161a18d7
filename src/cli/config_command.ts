// `ntp config check FILE` and `ntp config import FILE`: validate a config, or turn ntp.conf into TOML.
import type { FileProbe } from "../config/load_config_file.ts";
import { inspectConfigFile } from "../config/load_config_file.ts";
import { formatDiagnostic, hasErrors, sortDiagnostics } from "../config/diagnostics.ts";
import { ntsFileDiagnostics } from "./nts_file_checks.ts";
import { writeImportedToml } from "../config/import_writer.ts";
import { checkConfigText } from "../config/parse_config.ts";
import { UsageError } from "./errors.ts";
import { parseFlags } from "./flag_spec.ts";

/** Help text of `ntp config`. */
export const configUsage = `usage: ntp config check FILE
       ntp config import FILE

  check FILE   validate a TOML or ntp.conf file; problems are printed as FILE:LINE:COL: ...
               exit 0 when valid (warnings do not fail), 1 when there is an error
  import FILE  print the TOML equivalent of an ntp.conf, keeping its comments`;

/** Where the command writes; each call gets one line or block without the final newline. */
export interface ConfigCommandOptions {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /** File-system answers for the checks (tests); the real file system by default. */
  readonly probe?: FileProbe;
}

async function check(file: string, options: ConfigCommandOptions): Promise<number> {
  const stdout = options.stdout ?? console.log;
  const stderr = options.stderr ?? console.error;
  const inspected = await inspectConfigFile(file, options.probe ? { probe: options.probe } : {});
  const diagnostics = sortDiagnostics([
    ...inspected.diagnostics,
    ...await ntsFileDiagnostics(file, inspected),
  ]);
  const result = { ...inspected, diagnostics };
  for (const diagnostic of result.diagnostics) stderr(formatDiagnostic(diagnostic));
  if (result.config === null || hasErrors(result.diagnostics)) return 1;
  const { servers, pools, restrict } = result.config;
  const warnings = result.diagnostics.length;
  const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
  stdout(
    `${file}: valid ${result.format} (${count(servers.length, "server")}, ` +
      `${count(pools.length, "pool")}, ${count(restrict.length, "restrict rule")}, ` +
      `${count(warnings, "warning")})`,
  );
  return 0;
}

async function importFile(file: string, options: ConfigCommandOptions): Promise<number> {
  const stdout = options.stdout ?? console.log;
  const stderr = options.stderr ?? console.error;
  const result = await inspectConfigFile(file, {
    checkPaths: false,
    ...(options.probe ? { probe: options.probe } : {}),
  });
  if (result.format === "toml" && result.text !== "") {
    stderr(
      `${file}:1:1: error: this file is TOML already; check it with "ntp config check ${file}"`,
    );
    return 1;
  }
  for (const diagnostic of result.diagnostics) stderr(formatDiagnostic(diagnostic));
  if (result.config === null || result.ntpConf === null || hasErrors(result.diagnostics)) return 1;
  const toml = writeImportedToml(result.ntpConf, { fileName: file });
  const again = checkConfigText(toml, { fileName: "imported.toml", format: "toml" });
  if (JSON.stringify(again.config) !== JSON.stringify(result.config)) {
    throw new Error(`internal: the TOML written for ${file} does not load to the same config`);
  }
  stdout(toml.trimEnd());
  return 0;
}

/**
 * Runs `ntp config SUBCOMMAND ARGS` and returns the exit code: 0 valid (or imported), 1 when the
 * file has errors or cannot be read. A bad command line throws UsageError (exit 2).
 *
 * @example
 * ```ts
 * const code = await runConfigCommand(["check", "/etc/ntp/ntp.toml"]);
 * ```
 */
export async function runConfigCommand(
  args: readonly string[],
  options: ConfigCommandOptions = {},
): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === "help" || subcommand === "--help" || subcommand === "-h") {
    (options.stdout ?? console.log)(configUsage);
    return 0;
  }
  if (subcommand !== "check" && subcommand !== "import") {
    throw new UsageError(
      subcommand === undefined
        ? "config: missing subcommand (check or import)"
        : `config: unknown subcommand '${subcommand}' (expected check or import)`,
    );
  }
  const { positionals } = parseFlags(`config ${subcommand}`, {}, rest, {
    maxPositionals: 1,
    positionalName: "FILE",
  });
  const file = positionals[0];
  if (file === undefined || file === "") throw new UsageError(`config ${subcommand}: missing FILE`);
  return subcommand === "check" ? await check(file, options) : await importFile(file, options);
}
