// The statistics files of a running daemon (statsdir + statistics): one StatsFile per enabled set, fed by upstream replies and an hourly sysstats timer; replaced as a whole on reload.
import type { NtpConfig, StatsFileConfig } from "../config/ntp_config.ts";
import type { ServerCounters } from "../core/control/control_view.ts";
import { peerStatusWord } from "../core/control/status_words.ts";
import {
  formatLoopStats,
  formatPeerStats,
  formatRawStats,
  formatSysStats,
  type StatsKind,
} from "../core/stats/stats_lines.ts";
import { rawStatsRecord } from "../core/stats/stats_records.ts";
import { StatsFile } from "../io/stats_file.ts";
import { controlPeerOf } from "./control_view_of.ts";
import { type DaemonTime, systemTime, type TimerHandle } from "./daemon_time.ts";
import { log } from "./logging.ts";
import type { TimeKeepingView, UpstreamReply } from "./time_keeping.ts";

/** ntpd writes sysstats once an hour. */
export const SYSSTATS_INTERVAL_SECONDS = 3600;

/** Options of {@link Statistics}. */
export interface StatisticsOptions {
  readonly config: Pick<NtpConfig, "statsDir" | "statistics">;
  /** The served clock, Unix seconds: the time each line carries and which file it goes to. */
  readonly nowUnixSeconds: () => number;
  readonly uptimeSeconds: () => number;
  /** The responders' packet counters (cumulative), for sysstats. */
  readonly counters: () => ServerCounters;
  /** Monotonic time and timers; default the system's. */
  readonly time?: DaemonTime;
  /** Seconds between sysstats lines; default {@link SYSSTATS_INTERVAL_SECONDS}. */
  readonly sysstatsIntervalSeconds?: number;
}

const logger = log("stats");

function describe(kinds: readonly StatsKind[], directory: string): string {
  return `${kinds.join(", ")} to ${directory}`;
}

/**
 * Writes the enabled statistics sets. Lines are queued and written in the background
 * (src/io/stats_file.ts): nothing here waits for the disk.
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "../config/ntp_config.ts";
 * import { ZERO_SERVER_COUNTERS } from "../core/control/control_view.ts";
 * declare const config: NtpConfig;
 * const statistics = new Statistics({
 *   config, nowUnixSeconds: () => Date.now() / 1000, uptimeSeconds: () => 0,
 *   counters: () => ZERO_SERVER_COUNTERS,
 * });
 * await statistics.close();
 * ```
 */
export class Statistics implements AsyncDisposable {
  readonly #options: StatisticsOptions;
  readonly #time: DaemonTime;
  #files = new Map<StatsKind, StatsFile>();
  #config: Pick<NtpConfig, "statsDir" | "statistics">;
  #sysTimer: TimerHandle | undefined;
  #sysFrom: { readonly monotonicSeconds: number; readonly counters: ServerCounters } | null = null;
  #closed = false;
  /** Closes of sets a reload let go, still writing their last lines. */
  readonly #closing = new Set<Promise<void>>();

  constructor(options: StatisticsOptions) {
    this.#options = options;
    this.#time = options.time ?? systemTime;
    this.#config = options.config;
    this.#open(options.config);
    if (this.#files.has("sysstats")) this.#startSysTimer();
  }

  /** Whether `kind` is being written. */
  writes(kind: StatsKind): boolean {
    return this.#files.has(kind);
  }

  /**
   * Takes a reply the time keeper processed: its rawstats line, a peerstats line when it became
   * a filter sample, a loopstats line when the clock was updated. `view` is read only when a
   * line needs it.
   */
  reply(reply: UpstreamReply, view: () => TimeKeepingView | null): void {
    if (this.#files.size === 0) return;
    const unixSeconds = this.#options.nowUnixSeconds();
    const raw = this.#files.get("rawstats");
    const peers = this.#files.get("peerstats");
    const loop = this.#files.get("loopstats");
    const wantRaw = raw !== undefined && reply.rawstatsDue;
    const wanted = wantRaw || (peers !== undefined && reply.newSample) ||
      (loop !== undefined && reply.disciplineUpdated);
    if (!wanted) return;
    const shown = view();
    if (shown === null) return;
    const association = shown.associations.find((a) => a.associationId === reply.associationId);
    if (association === undefined) return;
    if (raw !== undefined && wantRaw) {
      const record = rawStatsRecord(reply.packet, {
        unixSeconds,
        sourceAddress: association.endpoint.hostname,
        destinationAddress: association.local.address,
        destinationTime: reply.receiveTime,
        lostRequests: reply.lostRequests,
        rejectedReplies: reply.rejectedReplies,
        flashBits: reply.newSample ? 0 : association.flashBits,
      });
      if (record !== null) raw.append(formatRawStats(record), unixSeconds);
    }
    if (peers !== undefined && reply.newSample) {
      peers.append(
        formatPeerStats({
          unixSeconds,
          address: association.endpoint.hostname,
          statusWord: peerStatusWord(controlPeerOf(association)),
          offsetSeconds: association.offsetSeconds,
          delaySeconds: association.delaySeconds,
          dispersionSeconds: association.dispersionSeconds,
          jitterSeconds: association.jitterSeconds,
        }),
        unixSeconds,
      );
    }
    if (loop !== undefined && reply.disciplineUpdated) {
      const system = shown.system;
      loop.append(
        formatLoopStats({
          unixSeconds,
          offsetSeconds: system.offsetSeconds,
          frequencyPpm: system.frequencyPpm,
          jitterSeconds: system.clockJitterSeconds,
          wanderPpm: Math.abs(system.frequencyErrorPpm),
          pollLog2: system.pollLog2,
        }),
        unixSeconds,
      );
    }
  }

  /**
   * Applies a reloaded config at once: a set whose directory and naming are unchanged keeps
   * writing (and sysstats its hour); the others are closed in the background (their queued lines
   * written first, awaited by close()) and the new ones opened. Never waits for the disk.
   */
  reconfigure(config: Pick<NtpConfig, "statsDir" | "statistics">): void {
    if (this.#closed) return;
    const old = this.#files;
    this.#files = new Map();
    const directory = config.statsDir;
    const keep = (set: StatsFileConfig): StatsFile | undefined =>
      directory === this.#config.statsDir &&
        this.#config.statistics.some((was) => JSON.stringify(was) === JSON.stringify(set))
        ? old.get(set.kind)
        : undefined;
    for (const set of config.statistics) {
      const file = keep(set);
      if (file === undefined) continue;
      this.#files.set(set.kind, file);
      old.delete(set.kind);
    }
    this.#config = config;
    this.#open(config);
    // sysstats carries on over its hour whatever file it goes to; it stops when no longer named.
    const sysstats = this.#files.has("sysstats");
    if (sysstats && this.#sysTimer === undefined) this.#startSysTimer();
    if (!sysstats && this.#sysTimer !== undefined) this.#stopSysTimer();
    for (const file of old.values()) this.#closing.add(this.#closeInBackground(file));
  }

  /** Writes what is queued and closes every file (those a reload let go too). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopSysTimer();
    const files = [...this.#files.values()];
    this.#files = new Map();
    await Promise.all([...files.map((file) => file.close()), ...this.#closing]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Waits until every line queued so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...[...this.#files.values()].map((file) => file.flush()), ...this.#closing]);
  }

  #closeInBackground(file: StatsFile): Promise<void> {
    const closing: Promise<void> = file.close()
      .catch((error) => logger.warn(`closing a statistics file: ${error}`))
      .finally(() => this.#closing.delete(closing));
    return closing;
  }

  /** Opens the sets of `config` not open yet. */
  #open(config: Pick<NtpConfig, "statsDir" | "statistics">): void {
    const directory = config.statsDir;
    if (directory === null || config.statistics.length === 0) return;
    for (const set of config.statistics) {
      if (set.kind === "clockstats") continue; // no reference clocks: nothing to record
      if (this.#files.has(set.kind)) continue;
      this.#files.set(
        set.kind,
        new StatsFile({
          directory,
          fileName: set.fileName,
          generation: set.generation,
          link: set.link,
          context: () => ({ pid: Deno.pid, uptimeSeconds: this.#options.uptimeSeconds() }),
          onProblem: (message) => logger.warn(message),
          onRecovered: (message) => logger.info(message),
        }),
      );
    }
    if (this.#files.size > 0) {
      logger.info(`writing statistics ${describe([...this.#files.keys()], directory)}`);
    }
  }

  #startSysTimer(): void {
    this.#sysFrom = {
      monotonicSeconds: this.#time.monotonicSeconds(),
      counters: this.#options.counters(),
    };
    const intervalMs = (this.#options.sysstatsIntervalSeconds ?? SYSSTATS_INTERVAL_SECONDS) *
      1000;
    const tick = () => {
      this.#writeSysStats();
      if (!this.#closed && this.#files.has("sysstats")) {
        this.#sysTimer = this.#time.setTimer(tick, intervalMs);
      }
    };
    this.#sysTimer = this.#time.setTimer(tick, intervalMs);
  }

  #stopSysTimer(): void {
    if (this.#sysTimer !== undefined) this.#time.clearTimer(this.#sysTimer);
    this.#sysTimer = undefined;
    this.#sysFrom = null;
  }

  /** One sysstats line: the counters' growth since the previous line (ntpd resets them hourly). */
  #writeSysStats(): void {
    const file = this.#files.get("sysstats");
    const from = this.#sysFrom;
    if (file === undefined || from === null) return;
    const now = this.#time.monotonicSeconds();
    const counters = this.#options.counters();
    const grown = (key: keyof ServerCounters): number =>
      Math.max(0, counters[key] - from.counters[key]);
    const unixSeconds = this.#options.nowUnixSeconds();
    file.append(
      formatSysStats({
        unixSeconds,
        periodSeconds: now - from.monotonicSeconds,
        received: grown("receivedPackets"),
        processed: grown("servedPackets") + grown("controlRequests"),
        currentVersion: grown("currentVersionPackets"),
        olderVersion: grown("olderVersionPackets"),
        restricted: grown("restrictedPackets"),
        badFormat: grown("badFormatPackets"),
        badAuthentication: grown("badAuthPackets"),
        declined: grown("declinedPackets"),
        rateLimited: grown("rateLimitedPackets"),
        kodSent: grown("kodSentPackets"),
        version1Clients: grown("version1ClientPackets"),
      }),
      unixSeconds,
    );
    this.#sysFrom = { monotonicSeconds: now, counters };
  }
}
