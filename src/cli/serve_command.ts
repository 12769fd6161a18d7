// `ntp serve`: parses its flags and hands a typed options record to the daemon.
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** Clock drivers `--clock` accepts. */
export type ClockChoice = "auto" | "kernel" | "soft";
/** Packet I/O back ends `--io` accepts. */
export type IoChoice = "fast" | "portable";

/** The options `ntp serve` runs with, after flag parsing. */
export interface ServeOptions {
  /** Config file (TOML or ntp.conf); undefined = the default path, or built-in defaults if absent. */
  readonly configPath?: string;
  /** `--listen` values, replacing the configured listen addresses when non-empty. */
  readonly listen: readonly string[];
  readonly clock: ClockChoice;
  readonly io?: IoChoice;
  readonly workers?: number;
  /** `--log-level`; undefined = the config's `[serve] log_level` (default info). */
  readonly logLevel?: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
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
    listen: v.listen ?? [],
    clock: oneOf("clock", v.clock, ["auto", "kernel", "soft"] as const) ?? "auto",
    ...(io !== undefined ? { io } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
  };
}
