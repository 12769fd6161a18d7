// The command-line front: picks the subcommand and maps errors to documented exit codes.
//
// Each subcommand's module is loaded only when it runs (io/load_later.ts: not even read
// before), so `ntp version` or `ntp status` load what they use and not the daemon, the doctor or
// the metrics library.
import { PROGRAM_VERSION } from "../core/version.ts";
import { UsageError } from "./errors.ts";
import { loadLater } from "../io/load_later.ts";

/** Exit codes shared by every subcommand. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found a problem (invalid config, not synchronised, ...). */
  failure: 1,
  /** Bad command line: unknown flag, missing argument. */
  usage: 2,
} as const;

const usageText = `usage: ntp <command> [options]

commands:
  serve [--config FILE] [--listen ADDR:PORT]... [--clock auto|kernel|soft]
        [--workers N] [--io fast|portable] [--log-level LEVEL]
  status [--server HOST[:PORT]] [--json] [--watch [SECONDS]] [--timeout SECONDS]
  query HOST[:PORT] [--samples N] [--json] [--timeout SECONDS]
  doctor [--config FILE] [--server HOST[:PORT]] [--public ADDRESS[:PORT]] [--json]
         [--timeout SECONDS]
  pick [--from FILE] [--count N] [-4|-6] [--write CONFIG] [--json]
  plot [--config FILE] [--statsdir DIR] [--hours N] [--end ISO8601|now] [-o FILE]
  config check FILE
  config import FILE
  version

'ntp COMMAND --help' explains a command's flags.
`;

/** Runs the CLI with the given arguments and returns the process exit code. */
export async function runCli(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "version":
      case "--version":
        console.log(PROGRAM_VERSION);
        return ExitCode.ok;
      case "serve":
        return await (await loadLater<typeof import("./serve_command.ts")>(
          new URL("./serve_command.ts", import.meta.url),
        )).runServeCommand(rest);
      case "config":
        return await (await loadLater<typeof import("./config_command.ts")>(
          new URL("./config_command.ts", import.meta.url),
        )).runConfigCommand(rest);
      case "status":
        return await (await loadLater<typeof import("./status_command.ts")>(
          new URL("./status_command.ts", import.meta.url),
        )).runStatusCommand(rest);
      case "query":
        return await (await loadLater<typeof import("./query_command.ts")>(
          new URL("./query_command.ts", import.meta.url),
        )).runQueryCommand(rest);
      case "doctor":
        return await (await loadLater<typeof import("./doctor_command.ts")>(
          new URL("./doctor_command.ts", import.meta.url),
        )).runDoctorCommand(rest);
      case "pick":
        return await (await loadLater<typeof import("./pick_command.ts")>(
          new URL("./pick_command.ts", import.meta.url),
        )).runPickCommand(rest);
      case "plot":
        return await (await loadLater<typeof import("./plot_command.ts")>(
          new URL("./plot_command.ts", import.meta.url),
        )).runPlotCommand(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(usageText);
        return command === undefined ? ExitCode.usage : ExitCode.ok;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`ntp: ${error.message}\n\n${usageText}`);
      return ExitCode.usage;
    }
    throw error;
  }
}
