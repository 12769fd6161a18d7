// What a config reload (SIGHUP) changes: the parts a running daemon applies in place, and the keys whose change waits for a restart.
import type { NtpConfig, UpstreamConfig } from "./ntp_config.ts";

/** A configured server or pool entry, as the daemon's time keeping polls it. */
export interface ReloadUpstream {
  readonly upstream: UpstreamConfig;
  readonly pool: boolean;
}

/** The difference between the running config and a newly read one. */
export interface ReloadPlan {
  /** Entries in the new config only (an entry whose options changed is removed and added). */
  readonly upstreamsAdded: readonly ReloadUpstream[];
  /** Entries in the running config only. */
  readonly upstreamsRemoved: readonly ReloadUpstream[];
  /** The restrict rules differ: the responders take the new ones. */
  readonly restrictChanged: boolean;
  /** The rate limits (discard average/minimum/burst) differ: the responders take them. */
  readonly rateLimitChanged: boolean;
  /** The statistics files (statsdir, statistics, filegen) differ: the daemon reopens them. */
  readonly statisticsChanged: boolean;
  /** The new log level, or null when unchanged. */
  readonly logLevel: NtpConfig["serve"]["logLevel"] | null;
  /**
   * Keys that differ and are NOT applied until a restart (listen addresses, clock, workers, ...),
   * as the config file names them; empty when everything was applied.
   */
  readonly needsRestart: readonly string[];
}

/** A key that identifies an upstream entry with all its options. */
function upstreamKey(entry: ReloadUpstream): string {
  return JSON.stringify([entry.pool, entry.upstream]);
}

function entriesOf(config: NtpConfig): ReloadUpstream[] {
  return [
    ...config.servers.map((upstream) => ({ upstream, pool: false })),
    ...config.pools.map((upstream) => ({ upstream, pool: true })),
  ];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The keys a running daemon cannot change in place, by how the config file names them, with
 * how to read each from a config.
 */
const restartKeys: readonly (readonly [string, (config: NtpConfig) => unknown])[] = [
  ["listen", (c) => c.listen],
  ["serve.workers", (c) => c.serve.workers],
  ["serve.clock", (c) => c.serve.clock],
  ["driftfile", (c) => c.driftFile],
  ["logfile", (c) => c.logFile],
  ["leapfile", (c) => c.leapFile],
  ["tos", (c) => c.tos],
  ["tinker", (c) => c.tinker],
  ["discard.monitor", (c) => c.discard.monitorEntries],
  ["metrics", (c) => c.metrics],
  // The certificate and key files are re-read on SIGHUP by the NTS-KE server itself; the other
  // [nts] keys (addresses, cookie key file, limits) wait for a restart.
  ["nts", (c) => ({ ...c.nts, certificateFile: null, keyFile: null })],
  ["nts.cert / nts.key (the file names)", (c) => [c.nts.certificateFile, c.nts.keyFile]],
  ["leapsmear", (c) => c.leapSmear],
  ["pick", (c) => c.pick],
];

/**
 * Compares the running config with a newly read one: what the daemon applies in place
 * (upstreams added and removed, restrict rules, rate limits, statistics files, log level) and which changed
 * keys need a restart.
 *
 * @example
 * ```ts
 * import { parseConfigText } from "./parse_config.ts";
 * const running = parseConfigText('[[server]]\naddress = "192.0.2.1"\n', { fileName: "a.toml" });
 * const next = parseConfigText('[[server]]\naddress = "192.0.2.2"\n', { fileName: "b.toml" });
 * const plan = planReload(running, next);
 * plan.upstreamsAdded[0]?.upstream.host; // "192.0.2.2"
 * plan.upstreamsRemoved[0]?.upstream.host; // "192.0.2.1"
 * plan.needsRestart; // []
 * ```
 */
export function planReload(running: NtpConfig, next: NtpConfig): ReloadPlan {
  const before = entriesOf(running);
  const after = entriesOf(next);
  const beforeKeys = new Set(before.map(upstreamKey));
  const afterKeys = new Set(after.map(upstreamKey));
  const { averageLog2, minimumSeconds, burstPackets } = running.discard;
  const nextDiscard = next.discard;
  return {
    upstreamsAdded: after.filter((e) => !beforeKeys.has(upstreamKey(e))),
    upstreamsRemoved: before.filter((e) => !afterKeys.has(upstreamKey(e))),
    restrictChanged: !same(running.restrict, next.restrict),
    rateLimitChanged: averageLog2 !== nextDiscard.averageLog2 ||
      minimumSeconds !== nextDiscard.minimumSeconds || burstPackets !== nextDiscard.burstPackets,
    statisticsChanged: running.statsDir !== next.statsDir ||
      !same(running.statistics, next.statistics),
    logLevel: running.serve.logLevel === next.serve.logLevel ? null : next.serve.logLevel,
    needsRestart: restartKeys.filter(([, read]) => !same(read(running), read(next))).map(([key]) =>
      key
    ),
  };
}
