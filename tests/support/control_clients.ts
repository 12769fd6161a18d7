// Starts the control fixture server and runs the real mode 6 clients (ntpq, ntpstat, check_ntp_peer) and our CLI against it.
import { debianPython } from "./clients.ts";
import { ntpTaskFlags } from "./ntp_server_process.ts";
import { type CommandResult, type Daemon, runCommand, startDaemon } from "./processes.ts";

/** ntpsec's ntpq, extracted (not installed) next to chrony (chrony and ntpsec conflict as packages). */
export const ntpqPath = Deno.env.get("NTPQ") ?? "/tmp/ntp-test-peers/ntpsec-root/usr/bin/ntpq";
/** ntpsec's ntpd from the same extracted package. */
export const ntpdPath = Deno.env.get("NTPD") ?? "/tmp/ntp-test-peers/ntpsec-root/usr/sbin/ntpd";

const supportDir = decodeURIComponent(new URL(".", import.meta.url).pathname);
const repoRoot = new URL("../../", import.meta.url);

/** Where a mode 6 client talks to. */
export interface Mode6Target {
  readonly host: string;
  readonly port: number;
  /** Run the client inside this network namespace. */
  readonly netns?: string;
}

function placement(target: { readonly netns?: string }): { netns?: string } {
  return target.netns === undefined ? {} : { netns: target.netns };
}

/**
 * Runs ntpsec's ntpq with `-c` commands (through the getaddrinfo port shim when the port is not
 * 123). ntpq's exit code is 0 even on a timeout, so look at stdout/stderr.
 */
export function runNtpq(
  target: Mode6Target,
  commands: readonly string[],
  options: { readonly timeoutMs?: number } = {},
): Promise<CommandResult> {
  const tool = target.port === 123
    ? [debianPython, ntpqPath]
    : [debianPython, `${supportDir}ntpport_shim.py`, String(target.port), ntpqPath];
  return runCommand(
    [...tool, "-n", "-W", "80", ...commands.flatMap((c) => ["-c", c]), target.host],
    { ...placement(target), timeoutMs: options.timeoutMs ?? 30_000, env: { COLUMNS: "80" } },
  );
}

/** Runs Debian's ntpstat in `netns` (it always asks 127.0.0.1:123 of its namespace). */
export function runNtpstat(netns: string): Promise<CommandResult> {
  return runCommand(["ntpstat"], { netns, timeoutMs: 15_000 });
}

/** Runs the monitoring plugin `check_ntp_peer -H HOST -p PORT [ARGS...]`. */
export function runCheckNtpPeer(
  target: Mode6Target,
  args: readonly string[] = [],
): Promise<CommandResult> {
  return runCommand(
    [
      "/usr/lib/nagios/plugins/check_ntp_peer",
      "-H",
      target.host,
      "-p",
      String(target.port),
      "-t",
      "5",
      ...args,
    ],
    { ...placement(target), timeoutMs: 20_000 },
  );
}

/** Runs `ntp status|query ARGS...` from source (tests/support/run_cli_command.ts), inside `netns` when given. */
export async function runNtpCli(
  args: readonly string[],
  options: { readonly netns?: string; readonly timeoutMs?: number } = {},
): Promise<CommandResult> {
  return runCommand(
    [Deno.execPath(), "run", ...await ntpTaskFlags(), `${supportDir}run_cli_command.ts`, ...args],
    {
      ...placement(options),
      cwd: repoRoot,
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      timeoutMs: options.timeoutMs ?? 60_000,
    },
  );
}

/** Options of {@link startControlFixture}. */
export interface ControlFixtureOptions {
  /** "HOST:PORT" values, e.g. "127.0.0.1:40123" or "0.0.0.0:123". */
  readonly listen: readonly string[];
  readonly view: "synced" | "unsynced" | "empty";
  /** "seed" (default): the seed's restrict lines (noquery except localhost); "open": none. */
  readonly restrict?: "seed" | "open";
  readonly netns?: string;
}

/**
 * Starts tests/support/control_fixture_server.ts (real responders + attachControlServer with a
 * fake view) without CAP_SYS_TIME and waits until it serves. Dispose it to stop it.
 */
export async function startControlFixture(options: ControlFixtureOptions): Promise<Daemon> {
  return await startDaemon([
    Deno.execPath(),
    "run",
    ...await ntpTaskFlags(),
    `${supportDir}control_fixture_server.ts`,
    ...options.listen.flatMap((l) => ["--listen", l]),
    "--view",
    options.view,
    "--restrict",
    options.restrict ?? "seed",
  ], {
    ...placement(options),
    cwd: repoRoot,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    ready: { stderrPattern: /serving on/, timeoutMs: 30_000 },
  });
}

/** The billboard rows (after the `=` rule) of `ntpq -np` output. */
export function billboardRows(stdout: string): string[] {
  const lines = stdout.split("\n");
  const rule = lines.findIndex((l) => /^=+$/.test(l));
  if (rule < 0) return [];
  const rows: string[] = [];
  for (const line of lines.slice(rule + 1)) {
    if (line.trim() === "") break;
    rows.push(line);
  }
  return rows;
}
