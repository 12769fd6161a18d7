// The command-line front: picks the subcommand and maps errors to documented exit codes.
import { UsageError } from "./errors.ts";
import { parseServeArgs, serveUsage } from "./serve_command.ts";
import { runConfigCommand } from "./config_command.ts";
import { runServe } from "../daemon/serve.ts";
import { runStatusCommand } from "./status_command.ts";
import { runQueryCommand } from "./query_command.ts";
import { runDoctorCommand } from "./doctor_command.ts";
import { runPickCommand } from "./pick_command.ts";

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
  status [--server HOST[:PORT]] [--json] [--watch [SECONDS]] [--timeout SECONDS]
  query HOST[:PORT] [--samples N] [--json] [--timeout SECONDS]
  doctor [--config FILE] [--server HOST[:PORT]] [--public ADDRESS[:PORT]] [--json]
  pick [--from FILE] [--count N] [-4|-6] [--write CONFIG] [--json]
  config check FILE
  config import FILE
  version
`;

/** Runs the CLI with the given arguments and returns the process exit code. */
export async function runCli(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "version":
      case "--version":
        console.log("ntp 0.1.0");
        return ExitCode.ok;
      case "serve":
        if (rest.includes("--help") || rest.includes("-h")) {
          console.log(serveUsage);
          return ExitCode.ok;
        }
        return await runServe(parseServeArgs(rest));
      case "config":
        return await runConfigCommand(rest);
      case "status":
        return await runStatusCommand(rest);
      case "query":
        return await runQueryCommand(rest);
      case "doctor":
        return await runDoctorCommand(rest);
      case "pick":
        return await runPickCommand(rest);
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
