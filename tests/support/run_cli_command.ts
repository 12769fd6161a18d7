// Test-only entry: runs `ntp status` or `ntp query` from source (so they can run inside a netns before main.ts wires them).
// Usage: deno run FLAGS run_cli_command.ts status|query ARGS...   (exit 2 with the message on a usage error, as the CLI does)
import { UsageError } from "../../src/cli/errors.ts";
import { runQueryCommand } from "../../src/cli/query_command.ts";
import { runStatusCommand } from "../../src/cli/status_command.ts";

const [command, ...args] = Deno.args;
try {
  const code = command === "status"
    ? await runStatusCommand(args)
    : command === "query"
    ? await runQueryCommand(args)
    : (() => {
      throw new UsageError(`unknown command '${command}'`);
    })();
  Deno.exit(code);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`ntp: ${error.message}`);
    Deno.exit(2);
  }
  throw error;
}
