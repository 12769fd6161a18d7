// Starts daemons and one-shot commands for end-to-end tests: without CAP_SYS_TIME, optionally in a netns, output captured, always killed.

/** Where and how a command runs. Every command runs under `setpriv --bounding-set=-sys_time`. */
export interface CommandPlacement {
  /** Network namespace to run in (`ip netns exec NAME ...`); the host namespace when absent. */
  readonly netns?: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. */
  readonly cwd?: string | URL;
}

/**
 * Wraps argv so it runs without CAP_SYS_TIME (and inside `netns` when given). `ip netns exec` and
 * `setpriv` both exec, so the spawned PID is the command's own PID.
 */
export function confinedArgv(argv: readonly string[], placement: CommandPlacement = {}): string[] {
  const nocap = ["setpriv", "--bounding-set=-sys_time", "--", ...argv];
  return placement.netns === undefined ? nocap : ["ip", "netns", "exec", placement.netns, ...nocap];
}

/** The result of a command run to completion by {@link runCommand}. */
export interface CommandResult {
  /** Exit code (128 + signal number when killed by a signal). */
  readonly code: number;
  /** True when the command ran past its timeout and was killed. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** The argv that was run, for messages. */
  readonly argv: readonly string[];
}

/** Options for {@link runCommand}. */
export interface RunCommandOptions extends CommandPlacement {
  /** Kill the command after this many milliseconds (default 30000). */
  readonly timeoutMs?: number;
}

/**
 * Runs argv to completion without CAP_SYS_TIME (inside `netns` when given) and returns its output.
 * The command is killed (SIGKILL) when it exceeds its timeout.
 */
export async function runCommand(
  argv: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const full = confinedArgv(argv, options);
  const [program, ...args] = full;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 30_000);
  try {
    const output = await new Deno.Command(program!, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: abort.signal,
      ...(options.env === undefined ? {} : { env: { ...options.env } }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      timedOut: abort.signal.aborted,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
      argv: full,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A readiness condition for {@link startDaemon}: ready as soon as either part holds. */
export interface Readiness {
  /** Ready when the daemon's stderr (all of it so far) matches this pattern. */
  readonly stderrPattern?: RegExp;
  /** Ready when this resolves true; polled every 100 ms (e.g. "the UDP port answers"). */
  readonly probe?: () => Promise<boolean>;
  /** Give up (kill the daemon and throw) after this many milliseconds; default 20000. */
  readonly timeoutMs?: number;
}

/** Options for {@link startDaemon}. */
export interface StartDaemonOptions extends CommandPlacement {
  readonly ready: Readiness;
}

/** How a daemon ended, as reported by {@link Daemon.stop}. */
export interface DaemonExit {
  /** Exit code (128 + signal number when killed by a signal). */
  readonly code: number;
  /** The signal that ended it, if any. */
  readonly signal: Deno.Signal | null;
  /** True when it did not exit within the grace period and had to be killed with SIGKILL. */
  readonly killed: boolean;
}

const maxCapturedChars = 4 * 1024 * 1024;

/**
 * A running daemon with its stdout and stderr captured in memory. Owns the child process: dispose it
 * (`await using`) to make sure it is stopped and its pipes are drained even when a test fails.
 */
export class Daemon implements AsyncDisposable {
  /**
   * The daemon's own PID: ip netns exec and setpriv exec, and so must any wrapper a test puts in
   * front of a daemon (`unshare` without `--fork`, `sh -c '... exec "$@"'`), or stop() signals
   * the wrapper instead.
   */
  readonly pid: number;
  /** The argv that was started, for messages. */
  readonly argv: readonly string[];
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #drained: Promise<void>;
  #stdout = "";
  #stderr = "";
  #exitStatus: Deno.CommandStatus | undefined;
  #stopped: DaemonExit | undefined;

  /** Takes ownership of a spawned child whose stdout and stderr are piped. */
  constructor(child: Deno.ChildProcess, argv: readonly string[]) {
    this.#child = child;
    this.pid = child.pid;
    this.argv = argv;
    this.#status = child.status.then((status) => {
      this.#exitStatus = status;
      return status;
    });
    this.#drained = Promise.all([
      this.#drain(child.stdout, (text) => this.#stdout = cap(this.#stdout + text)),
      this.#drain(child.stderr, (text) => this.#stderr = cap(this.#stderr + text)),
    ]).then(() => undefined);
  }

  /** Everything the daemon wrote to stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Everything the daemon wrote to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The exit status once the process has ended, else undefined. */
  get exitStatus(): Deno.CommandStatus | undefined {
    return this.#exitStatus;
  }

  /** Resolves with the exit status when the process ends (by itself or by {@link stop}). */
  waitForExit(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  /**
   * Sends `signal` (default SIGTERM) and waits up to `graceMs` (default 5000) for the exit; after
   * that the daemon is killed with SIGKILL. Waits until its output pipes are drained. Idempotent.
   */
  async stop(
    options: { readonly signal?: Deno.Signal; readonly graceMs?: number } = {},
  ): Promise<DaemonExit> {
    if (this.#stopped !== undefined) return this.#stopped;
    let killed = false;
    if (this.#exitStatus === undefined) {
      this.#signal(options.signal ?? "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const inTime = await Promise.race([
        this.#status.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), options.graceMs ?? 5000);
        }),
      ]);
      clearTimeout(timer);
      if (!inTime) {
        killed = true;
        this.#signal("SIGKILL");
      }
    }
    const status = await this.#status;
    await this.#drained;
    this.#stopped = { code: status.code, signal: status.signal, killed };
    return this.#stopped;
  }

  /** Stops the daemon (SIGTERM, then SIGKILL after 5 s) and drains its pipes. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** The captured output, formatted for assertion messages. */
  describe(): string {
    return `${this.argv.join(" ")}\n--- stdout ---\n${tail(this.#stdout)}\n--- stderr ---\n${
      tail(this.#stderr)
    }`;
  }

  #signal(signal: Deno.Signal): void {
    try {
      Deno.kill(this.pid, signal);
    } catch {
      // Already gone.
    }
  }

  async #drain(stream: ReadableStream<Uint8Array>, append: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) append(decoder.decode(chunk, { stream: true }));
    append(decoder.decode());
  }
}

/**
 * Spawns argv as a daemon (without CAP_SYS_TIME, inside `netns` when given), captures its output
 * and waits until it is ready. Throws (after killing it) when it exits early or is not ready in time.
 *
 * @example
 * ```ts
 * await using chronyd = await startDaemon(["chronyd", "-x", "-d", "-f", conf], {
 *   ready: { probe: () => udpAnswers({ host: "127.0.0.1", port }) },
 * });
 * ```
 */
export async function startDaemon(
  argv: readonly string[],
  options: StartDaemonOptions,
): Promise<Daemon> {
  const full = confinedArgv(argv, options);
  const [program, ...args] = full;
  const child = new Deno.Command(program!, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env === undefined ? {} : { env: { ...options.env } }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  }).spawn();
  const daemon = new Daemon(child, full);
  try {
    await waitUntilReady(daemon, options.ready);
  } catch (error) {
    await daemon.stop({ graceMs: 2000 });
    throw new Error(`${(error as Error).message}\n${daemon.describe()}`);
  }
  return daemon;
}

async function waitUntilReady(daemon: Daemon, ready: Readiness): Promise<void> {
  const timeoutMs = ready.timeoutMs ?? 20_000;
  const deadline = performance.now() + timeoutMs;
  while (true) {
    if (ready.stderrPattern?.test(daemon.stderr)) return;
    if (daemon.exitStatus !== undefined) {
      throw new Error(`daemon exited with code ${daemon.exitStatus.code} before it was ready`);
    }
    if (ready.probe !== undefined && await ready.probe()) return;
    if (performance.now() > deadline) throw new Error(`daemon not ready after ${timeoutMs} ms`);
    await delay(100);
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function cap(text: string): string {
  return text.length > maxCapturedChars ? text.slice(text.length - maxCapturedChars) : text;
}

function tail(text: string): string {
  return text.length > 8000 ? `...${text.slice(text.length - 8000)}` : text;
}
