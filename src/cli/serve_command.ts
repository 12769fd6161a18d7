// `ntp serve`: parses its flags and hands a typed options record to the daemon.
import { parseArgs } from "node:util";
import { parseHostPort } from "../config/addresses.ts";
import type { ListenAddress } from "../config/ntp_config.ts";
import type { ServeOptions } from "../daemon/serve_options.ts";
import { UsageError } from "./errors.ts";

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

/** Help text of `ntp serve`. */
export const serveUsage =
  `usage: ntp serve [--config FILE] [--listen ADDR:PORT]... [--clock auto|kernel|soft]
                 [--workers N] [--io fast|portable] [--log-level LEVEL]

  --config FILE       TOML or ntp.conf (default /etc/ntp/ntp.toml, else /etc/ntp.conf)
  --listen ADDR:PORT  listen here instead of the configured addresses; repeatable;
                      IPv6 as [::1]:123
  --clock DRIVER      auto (kernel with CAP_SYS_TIME, else soft), kernel, soft
  --workers N         responder threads (default: the config's, else one per CPU)
  --io BACKEND        fast (libc recvmmsg/sendmmsg via FFI, default) or portable
  --log-level LEVEL   trace, debug, info, warning, error, fatal (default: the
                      config's [serve] log_level, else info)

Runs in the foreground and logs to stderr; SIGINT or SIGTERM stops it (exit 0).
Exit 1 when the config is invalid or an address cannot be bound, 2 on bad flags.`;

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag}: '${value}' is not one of ${allowed.join(", ")}`);
}

/** Parses `ntp serve` flags; throws UsageError naming the flag on any mistake. */
export function parseServeArgs(args: readonly string[]): ServeOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        config: { type: "string", short: "c" },
        listen: { type: "string", multiple: true },
        clock: { type: "string" },
        io: { type: "string" },
        workers: { type: "string" },
        "log-level": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  let workers: number | undefined;
  if (v.workers !== undefined) {
    workers = Number(v.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
      throw new UsageError(`--workers: '${v.workers}' is not a whole number from 1 to 256`);
    }
  }
  const io = oneOf("io", v.io, ["fast", "portable"] as const);
  const logLevel = oneOf(
    "log-level",
    v["log-level"],
    ["trace", "debug", "info", "warning", "error", "fatal"] as const,
  );
  return {
    ...(v.config !== undefined ? { configPath: v.config } : {}),
    listen: parseListenFlags(v.listen ?? []),
    clock: oneOf("clock", v.clock, ["auto", "kernel", "soft"] as const) ?? "auto",
    ...(io !== undefined ? { io } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
  };
}
