// Shared bits of the config tests: fixture paths, a file probe for the target machine, output capture.
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import type { FileProbe } from "../../src/config/load_config_file.ts";
import { realFileProbe } from "../../src/config/load_config_file.ts";
import type { ConfigCommandOptions } from "../../src/cli/config_command.ts";
import { runConfigCommand } from "../../src/cli/config_command.ts";

/** Absolute path of a file under the repository root. */
export function repoPath(path: string): string {
  return fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

/** A path under the repository as the user would type it from the current directory. */
export function typedPath(path: string): string {
  return relative(Deno.cwd(), repoPath(path));
}

/**
 * The file system of the machine the seed config is for: /var/lib/ntp and /var/log/ntp exist there
 * (scripts/install.sh creates them, and so does the unit's StateDirectory/LogsDirectory), and
 * config files are not world-writable. Everything else is asked of this machine.
 */
export const seedMachineProbe: FileProbe = {
  isDirectory: async (path) =>
    path === "/var/lib/ntp" || path === "/var/log/ntp" || await realFileProbe.isDirectory(path),
  mode: () => Promise.resolve(0o644),
};

/** What one `ntp config ...` run printed and returned. */
export interface CommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs runConfigCommand with its output captured. */
export async function runCaptured(
  args: readonly string[],
  options: Pick<ConfigCommandOptions, "probe"> = {},
): Promise<CommandRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfigCommand(args, {
    ...options,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  });
  const joined = (lines: string[]): string => lines.map((line) => `${line}\n`).join("");
  return { code, stdout: joined(out), stderr: joined(err) };
}
