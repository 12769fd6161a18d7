// The resolved configuration the daemon runs with: defaults applied, addresses parsed, units in the names.
import type { RestrictFlag } from "../core/server/types.ts";
import type { StatsKind } from "../core/stats/stats_lines.ts";
import type { GenerationType } from "../core/stats/file_generation.ts";

/** A local address to receive requests on, ready for a socket bind. */
export interface ListenAddress {
  /** IP literal ("0.0.0.0", "::", "192.0.2.1"); IPv6 without brackets. */
  readonly hostname: string;
  /** UDP port; 0 lets the kernel pick a free one. */
  readonly port: number;
  readonly family: 4 | 6;
}

/** One `[[server]]` or `[[pool]]` entry. */
export interface UpstreamConfig {
  /** DNS name (lower case) or IP literal (canonical form, IPv6 without brackets). */
  readonly host: string;
  /** UDP port, 123 unless configured. */
  readonly port: number;
  /**
   * Address family to use: an IP literal's own, or the one forced by ipv4/ipv6 (ntp.conf -4/-6)
   * for a name; null = whatever the name resolves to.
   */
  readonly family: 4 | 6 | null;
  readonly iburst: boolean;
  readonly burst: boolean;
  readonly prefer: boolean;
  readonly noselect: boolean;
  /** Shortest poll interval, log2 seconds (3..17). */
  readonly minPollLog2: number;
  /** Longest poll interval, log2 seconds (minPollLog2..17). */
  readonly maxPollLog2: number;
  /** NTP version sent in requests (1..4). */
  readonly version: number;
  /** NTS (RFC 8915): key exchange with the host, every reply authenticated; null = plain NTP. */
  readonly nts: UpstreamNts | null;
}

/** How an NTS upstream is reached and checked. */
export interface UpstreamNts {
  /** Trusted CA certificates (PEM); null = the system's trust store. */
  readonly caFile: string | null;
  /** TCP port of the NTS-KE server (4460 unless configured). */
  readonly kePort: number;
  /**
   * Another host to run NTS-KE with (NTPsec's `ask`; its certificate must carry this name);
   * null = the server itself.
   */
  readonly keServer: string | null;
  /** False only with NTPsec's `noval`: the certificate is NOT checked (tests only). */
  readonly verifyCertificate: boolean;
}

/** One `[[restrict]]` entry; flags are deduplicated and in canonical order. */
export type RestrictConfig =
  /** `restrict default`: every address of `family`, or of both families when null. */
  | {
    readonly kind: "default";
    readonly family: 4 | 6 | null;
    readonly flags: readonly RestrictFlag[];
  }
  /** A host (full-length prefix) or a network. */
  | {
    readonly kind: "network";
    readonly family: 4 | 6;
    /** Canonical network address text with the host bits cleared. */
    readonly network: string;
    /** 0..32 for IPv4, 0..128 for IPv6. */
    readonly prefixLength: number;
    readonly flags: readonly RestrictFlag[];
  };

/** `[tos]`: selection and orphan mode. */
export interface TosConfig {
  readonly minSane: number;
  readonly minClock: number;
  readonly maxClock: number;
  /** Stratum served in orphan mode; 16 = orphan mode off. */
  readonly orphanStratum: number;
  readonly orphanWaitSeconds: number;
}

/** `[tinker]`: discipline thresholds. */
export interface TinkerConfig {
  /** Offsets above this are stepped, not slewed; 0 = never step. */
  readonly stepThresholdSeconds: number;
  /** Offsets above this (after the first correction) stop the daemon; 0 = no limit. */
  readonly panicThresholdSeconds: number;
  /** How long an offset must exceed the step threshold before a step. */
  readonly stepoutSeconds: number;
}

/** `[discard]`: client rate limits (see RateLimitPolicy in core/server/types.ts). */
export interface DiscardConfig {
  readonly averageLog2: number;
  readonly minimumSeconds: number;
  readonly monitorEntries: number;
  readonly burstPackets: number;
}

/** `[serve]`: settings of this implementation. */
export interface ServeConfig {
  /** Responder threads, or "auto" for one per CPU (see workerCount()). */
  readonly workers: number | "auto";
  readonly clock: "auto" | "kernel" | "soft";
  /** Lowest level logged (`--log-level` overrides it). */
  readonly logLevel: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
}

/** `[metrics]`: the opt-in Prometheus endpoint. */
export interface MetricsConfig {
  /** Address and TCP port to serve `/metrics` on (port 0: any free port); null = no endpoint. */
  readonly listen: ListenAddress | null;
}

/** `[nts]`: serving Network Time Security (RFC 8915). */
export interface NtsConfig {
  readonly enable: boolean;
  /** Certificate chain and private key (absolute paths); both set when `enable`. */
  readonly certificateFile: string | null;
  readonly keyFile: string | null;
  /** Where the cookie keys persist; null = in memory only. */
  readonly cookieKeysFile: string | null;
  /** NTS-KE listen addresses. */
  readonly listen: readonly ListenAddress[];
  readonly rotateSeconds: number;
  readonly keepKeys: number;
  /** AEAD ids in order of preference (15 = AES-SIV-CMAC-256). */
  readonly aeadIds: readonly number[];
  readonly maxConnections: number;
  readonly timeoutSeconds: number;
  readonly perSourceRate: number;
  readonly perSourceBurst: number;
}

/** `[pick]`: replacing dead or falseticking servers from a candidate list while serving. */
export interface PickConfig {
  /** The candidate list (absolute path); null = servers are never replaced. */
  readonly candidatesFile: string | null;
  /** Unanswered (or falseticker) polls in a row before a server is replaced. */
  readonly replaceAfterPolls: number;
}

/** `[leapsmear]` (ntp.conf `leapsmearinterval`): smearing leap seconds on some listen addresses. */
export interface LeapSmearConfig {
  /** Seconds over which a leap is smeared, ending at it; 0 = off. */
  readonly intervalSeconds: number;
  /** The smearing listen addresses; null = every listen address. Empty when off. */
  readonly listen: readonly ListenAddress[] | null;
}

/** One statistics file set to write (`statistics NAME` with its `filegen NAME ...`). */
export interface StatsFileConfig {
  readonly kind: StatsKind;
  /** Base name inside statsDir. */
  readonly fileName: string;
  readonly generation: GenerationType;
  /** Hard-link the base name to the current file. */
  readonly link: boolean;
}

/** The whole configuration, fully resolved. */
export interface NtpConfig {
  /** Absolute path, or null for none. */
  readonly driftFile: string | null;
  readonly logFile: string | null;
  readonly leapFile: string | null;
  readonly statsDir: string | null;
  /** The statistics file sets written into statsDir (enabled ones only; empty: none). */
  readonly statistics: readonly StatsFileConfig[];
  readonly listen: readonly ListenAddress[];
  readonly servers: readonly UpstreamConfig[];
  readonly pools: readonly UpstreamConfig[];
  readonly restrict: readonly RestrictConfig[];
  readonly tos: TosConfig;
  readonly tinker: TinkerConfig;
  readonly discard: DiscardConfig;
  readonly serve: ServeConfig;
  readonly metrics: MetricsConfig;
  readonly nts: NtsConfig;
  readonly leapSmear: LeapSmearConfig;
  readonly pick: PickConfig;
}

/**
 * The NtpConfig property names that the schema's one-to-one sections must produce; the compiler
 * checks this against the interfaces, and a test checks it against the schema's `field` names.
 */
export const simpleSectionFields: {
  readonly "": Readonly<Record<"driftFile" | "logFile" | "leapFile" | "statsDir", true>>;
  readonly tos: Readonly<Record<keyof TosConfig, true>>;
  readonly tinker: Readonly<Record<keyof TinkerConfig, true>>;
  readonly discard: Readonly<Record<keyof DiscardConfig, true>>;
  readonly serve: Readonly<Record<keyof ServeConfig, true>>;
  readonly pick: Readonly<Record<keyof PickConfig, true>>;
} = {
  "": { driftFile: true, logFile: true, leapFile: true, statsDir: true },
  tos: {
    minSane: true,
    minClock: true,
    maxClock: true,
    orphanStratum: true,
    orphanWaitSeconds: true,
  },
  tinker: { stepThresholdSeconds: true, panicThresholdSeconds: true, stepoutSeconds: true },
  discard: { averageLog2: true, minimumSeconds: true, monitorEntries: true, burstPackets: true },
  serve: { workers: true, clock: true, logLevel: true },
  pick: { candidatesFile: true, replaceAfterPolls: true },
};

/**
 * Number of responder threads to start: the configured count, or `cpuCount` for "auto".
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "./ntp_config.ts";
 * declare const config: NtpConfig;
 * const threads = workerCount(config, { cpuCount: navigator.hardwareConcurrency });
 * ```
 */
export function workerCount(config: NtpConfig, options: { cpuCount: number }): number {
  const workers = config.serve.workers;
  return workers === "auto" ? Math.max(1, Math.floor(options.cpuCount)) : workers;
}
