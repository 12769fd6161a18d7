// Entry point: hands argv to the CLI and exits with its code; nothing else lives here.
import { runCli } from "./src/cli/main.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args);
  Deno.exit(code);
}
