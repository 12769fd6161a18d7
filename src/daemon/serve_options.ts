// What `ntp serve` runs with, after the command line was read: the daemon's side of the CLI contract.
import type { ListenAddress } from "../config/ntp_config.ts";

/** Clock drivers `--clock` accepts. */
export type ClockChoice = "auto" | "kernel" | "soft";
/** Packet I/O back ends `--io` accepts. */
export type IoChoice = "fast" | "portable";
/** Log levels `--log-level` accepts. */
export type LogLevelChoice = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** The options `ntp serve` runs with. */
export interface ServeOptions {
  /** Config file (TOML or ntp.conf); undefined = the default path, or built-in defaults if absent. */
  readonly configPath?: string;
  /** `--listen` addresses, replacing the configured ones when non-empty. */
  readonly listen: readonly ListenAddress[];
  readonly clock: ClockChoice;
  readonly io?: IoChoice;
  readonly workers?: number;
  /** `--log-level`; undefined = the config's `[serve] log_level` (default info). */
  readonly logLevel?: LogLevelChoice;
}
