// Starts OUR server (`ntp serve`, run from source with deno.json's task flags) for end-to-end tests, and stops it checking for a clean exit.
import {
  type CommandResult,
  type Daemon,
  type DaemonExit,
  runCommand,
  startDaemon,
} from "./processes.ts";
import { udpAnswers } from "./udp_probe.ts";

const repoRoot = new URL("../../", import.meta.url);

/** Options for {@link startNtpServer}. */
export interface NtpServerOptions {
  /** The configuration file's text. */
  readonly config: string;
  /** Syntax of `config`: decides the file name, ntp.conf (default) or ntp.toml. */
  readonly configFormat?: "conf" | "toml";
  /** `--listen` values, e.g. "127.0.0.1:40123" or "[::1]:123". */
  readonly listen: readonly string[];
  /** Network namespace to run in; the host namespace when absent. */
  readonly netns?: string;
  /** `--clock` value; not passed when absent (the server's default). */
  readonly clock?: "auto" | "kernel" | "soft";
  /** More `ntp serve` flags, e.g. ["--io", "portable"]. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for readiness (default 30000 ms: the first run may compile). */
  readonly readyTimeoutMs?: number;
}

/**
 * Our server, running. Dispose it to stop it with SIGTERM; disposal throws when it did not exit
 * with code 0 within 5 s (so a test also fails on an unclean shutdown).
 */
export class NtpServer implements AsyncDisposable {
  readonly #daemon: Daemon;
  readonly #dir: string;
  /** The config file the server was started with (rewrite it and send SIGHUP to reload). */
  readonly configFile: string;

  /** Takes ownership of the server process and its config directory. */
  constructor(daemon: Daemon, dir: string, configFile: string) {
    this.#daemon = daemon;
    this.#dir = dir;
    this.configFile = configFile;
  }

  /** The server's PID. */
  get pid(): number {
    return this.#daemon.pid;
  }

  /** Everything the server logged to stderr so far. */
  get stderr(): string {
    return this.#daemon.stderr;
  }

  /** True while the process has not exited. */
  get running(): boolean {
    return this.#daemon.exitStatus === undefined;
  }

  /** Command line and captured output, for assertion messages. */
  describe(): string {
    return this.#daemon.describe();
  }

  /** Sends SIGTERM (or `signal`) and waits up to 5 s for the exit (then SIGKILL). */
  stop(options: { readonly signal?: Deno.Signal } = {}): Promise<DaemonExit> {
    return this.#daemon.stop({ graceMs: 5000, ...options });
  }

  /** Stops the server, removes its directory, and throws unless it exited 0 within 5 s. */
  async [Symbol.asyncDispose](): Promise<void> {
    const exit = await this.stop();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
    if (exit.killed || exit.code !== 0) {
      throw new Error(
        `ntp serve did not exit cleanly on SIGTERM (code ${exit.code}, signal ${exit.signal}, ${
          exit.killed ? "killed after 5 s" : "exited by itself"
        })\n${this.describe()}`,
      );
    }
  }
}

/** The deno flags of deno.json's `tasks.ntp` ("deno run FLAGS... main.ts"), so there is one list. */
export async function ntpTaskFlags(): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", repoRoot))) as {
    tasks?: Record<string, string>;
  };
  const task = denoJson.tasks?.ntp;
  if (task === undefined) throw new Error("deno.json has no tasks.ntp");
  const words = task.trim().split(/\s+/);
  const run = words.indexOf("run");
  const main = words.indexOf("main.ts");
  if (words[0] !== "deno" || run !== 1 || main < run) {
    throw new Error(`unexpected tasks.ntp (want "deno run FLAGS... main.ts"): ${task}`);
  }
  return words.slice(run + 1, main);
}

/** Writes the config into a fresh temp directory and returns the `ntp serve` argv and the directory. */
export async function ntpServeArgv(
  options: Omit<NtpServerOptions, "readyTimeoutMs" | "netns">,
): Promise<{ argv: string[]; dir: string; configFile: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-serve-" });
  const configFile = `${dir}/${options.configFormat === "toml" ? "ntp.toml" : "ntp.conf"}`;
  await Deno.writeTextFile(configFile, options.config);
  const argv = [
    Deno.execPath(),
    "run",
    ...await ntpTaskFlags(),
    decodeURIComponent(new URL("main.ts", repoRoot).pathname),
    "serve",
    "--config",
    configFile,
    ...options.listen.flatMap((address) => ["--listen", address]),
    ...(options.clock === undefined ? [] : ["--clock", options.clock]),
    ...(options.extraArgs ?? []),
  ];
  return { argv, dir, configFile };
}

/** Splits "127.0.0.1:123" or "[::1]:123" into host and port. */
export function parseListen(address: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (match === null) throw new Error(`cannot parse listen address ${address}`);
  return { host: match[1]!, port: Number(match[2]) };
}

const serverEnv = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };

/**
 * Starts `ntp serve` under setpriv (no CAP_SYS_TIME), inside `netns` when given, and waits until it
 * logs /listening|serving/i on stderr or answers a mode 3 request on its first listen address.
 */
export async function startNtpServer(options: NtpServerOptions): Promise<NtpServer> {
  const { argv, dir, configFile } = await ntpServeArgv(options);
  const first = options.listen[0];
  if (first === undefined) throw new Error("startNtpServer needs at least one listen address");
  const probeTarget = {
    ...parseListen(first),
    ...(options.netns === undefined ? {} : { netns: options.netns }),
  };
  try {
    const daemon = await startDaemon(argv, {
      cwd: repoRoot,
      env: serverEnv,
      ...(options.netns === undefined ? {} : { netns: options.netns }),
      ready: {
        stderrPattern: /listening|serving/i,
        probe: () => udpAnswers(probeTarget),
        timeoutMs: options.readyTimeoutMs ?? 30_000,
      },
    });
    return new NtpServer(daemon, dir, configFile);
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * Runs `ntp serve` (host namespace) and waits for it to exit by itself, e.g. when it cannot bind.
 * The result's `timedOut` is true when it was still running after `timeoutMs` (default 20000).
 */
export async function runNtpServeToExit(
  options: Omit<NtpServerOptions, "readyTimeoutMs" | "netns">,
  run: { readonly timeoutMs?: number } = {},
): Promise<CommandResult> {
  const { argv, dir } = await ntpServeArgv(options);
  try {
    return await runCommand(argv, {
      cwd: repoRoot,
      env: serverEnv,
      timeoutMs: run.timeoutMs ?? 20_000,
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * The TOML of an `ntp serve` that takes its time from `upstream` (polled every 16 s) and serves
 * NTS with `certificates` on 127.0.0.1:`kePort`, its cookie keys in `cookieKeysFile`.
 */
export function ntsServerToml(options: {
  readonly upstream: { readonly address: string; readonly port: number };
  readonly certificates: { readonly certificateFile: string; readonly keyFile: string };
  readonly kePort: number;
  readonly cookieKeysFile: string;
}): string {
  return [
    "[[server]]",
    `address = "${options.upstream.address}"`,
    `port = ${options.upstream.port}`,
    "iburst = true",
    "minpoll = 4",
    "maxpoll = 4",
    "[nts]",
    "enable = true",
    `cert = "${options.certificates.certificateFile}"`,
    `key = "${options.certificates.keyFile}"`,
    `cookie_keys = "${options.cookieKeysFile}"`,
    `listen = ["127.0.0.1:${options.kePort}"]`,
    "",
  ].join("\n");
}
