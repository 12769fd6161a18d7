// `ntp serve`: parses its flags and hands a typed options record to the daemon.
import { parseHostPort } from "../config/addresses.ts";
import type { ListenAddress } from "../config/ntp_config.ts";
import type { ServeOptions } from "../daemon/serve_options.ts";
import { UsageError } from "./errors.ts";
import { loadLater } from "../io/load_later.ts";
import {
  choiceFlag,
  flagHelp,
  listFlag,
  parseFlags,
  valueFlag,
  wholeNumberFlag,
} from "./flag_spec.ts";

export type { ClockChoice, IoChoice, ServeOptions } from "../daemon/serve_options.ts";

/**
 * Parses `--listen` values; throws UsageError naming the flag and the value.
 *
 * @example
 * ```ts
 * parseListenFlags(["127.0.0.1:12123", "[::1]:123"]);
 * // [{ hostname: "127.0.0.1", port: 12123, family: 4 }, { hostname: "::1", port: 123, family: 6 }]
 * ```
 */
export function parseListenFlags(values: readonly string[]): ListenAddress[] {
  return values.map((text) => {
    const parsed = parseHostPort(text, { allowPortZero: true });
    if (!parsed.ok) throw new UsageError(`--listen: ${parsed.message}`);
    const { host, port, literalFamily } = parsed.value;
    if (literalFamily === null) {
      throw new UsageError(
        `--listen: '${text}' is not an IP address (use e.g. 0.0.0.0:123 or [::]:123)`,
      );
    }
    return { hostname: host, port: port ?? 123, family: literalFamily };
  });
}

const serveFlags = {
  config: valueFlag(
    ["--config", "-c"],
    "FILE",
    "TOML or ntp.conf (default /etc/ntp/ntp.toml, else /etc/ntp.conf)",
    (text) => text,
  ),
  listen: listFlag(
    ["--listen"],
    "ADDR:PORT",
    "listen here instead of the configured addresses; repeatable;\nIPv6 as [::1]:123",
    (text) => text,
  ),
  clock: valueFlag(
    ["--clock"],
    "DRIVER",
    "auto (kernel with CAP_SYS_TIME, else soft), kernel, soft",
    choiceFlag(["auto", "kernel", "soft"] as const),
  ),
  workers: valueFlag(
    ["--workers"],
    "N",
    "responder threads (default: the config's, else one per CPU)",
    (text, flag) => wholeNumberFlag(flag, text, { min: 1, max: 256 }),
  ),
  io: valueFlag(
    ["--io"],
    "BACKEND",
    "fast (libc recvmmsg/sendmmsg via FFI, default) or portable",
    choiceFlag(["fast", "portable"] as const),
  ),
  logLevel: valueFlag(
    ["--log-level"],
    "LEVEL",
    "trace, debug, info, warning, error, fatal (default: the\nconfig's [serve] log_level, else info)",
    choiceFlag(["trace", "debug", "info", "warning", "error", "fatal"] as const),
  ),
};

/** Help text of `ntp serve`. */
export const serveUsage =
  `usage: ntp serve [--config FILE] [--listen ADDR:PORT]... [--clock auto|kernel|soft]
                 [--workers N] [--io fast|portable] [--log-level LEVEL]

${flagHelp(serveFlags)}

Runs in the foreground and logs to stderr; SIGINT or SIGTERM stops it (exit 0).
Exit 1 when the config is invalid or an address cannot be bound, 2 on bad flags.`;

/**
 * Runs `ntp serve ARGS...` and returns the exit code; the daemon's code is loaded only now.
 *
 * @throws {UsageError} On bad flags (the CLI prints usage and exits 2).
 */
export async function runServeCommand(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(serveUsage);
    return 0;
  }
  const options = parseServeArgs(args);
  const { runServe } = await loadLater<typeof import("../daemon/serve.ts")>(
    new URL("../daemon/serve.ts", import.meta.url),
  );
  return await runServe(options);
}

/** Parses `ntp serve` flags; throws UsageError naming the flag on any mistake. */
export function parseServeArgs(args: readonly string[]): ServeOptions {
  const { values } = parseFlags("serve", serveFlags, args);
  return {
    ...(values.config !== undefined ? { configPath: values.config } : {}),
    listen: parseListenFlags(values.listen),
    clock: values.clock ?? "auto",
    ...(values.io !== undefined ? { io: values.io } : {}),
    ...(values.workers !== undefined ? { workers: values.workers } : {}),
    ...(values.logLevel !== undefined ? { logLevel: values.logLevel } : {}),
  };
}
