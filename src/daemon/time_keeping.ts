// Wires the pure time keeper to the world: every part built before the sockets that feed it open, then the upstream sockets, the one timer, the clock actions on the driver, the drift file, late name resolution and the [pick] replacements. No algorithms.
import type { NtpConfig } from "../config/ntp_config.ts";
import { ipBytes } from "../config/addresses.ts";
import {
  addAssociation,
  type AssociationStatus,
  associationStatuses,
  createTimeKeeper,
  DEFAULT_STARTUP_WAIT_SECONDS,
  onPacket,
  onTimer,
  onTransmitted,
  removeAssociation,
  replaceAssociation,
  synchronisedState,
  type SystemStatus,
  systemStatus,
  type TimeKeeperAction,
  type TimeKeeperOutput,
  type TimeKeeperState,
} from "../core/client/time_keeper.ts";
import { TRANSMIT_TIMESTAMP_OFFSET } from "../core/client/client_request.ts";
import {
  defaultDisciplineSettings,
  DRIFT_PRIOR_STDDEV_PPM,
} from "../core/discipline/clock_discipline.ts";
import type { SyncState } from "../core/discipline/system_state.ts";
import {
  countReply,
  countRequest,
  type ExchangeCounts,
  NO_EXCHANGES,
  type ReplyOutcome,
  replyOutcome,
} from "../core/stats/stats_records.ts";
import { ntpFromUnix, type NtpTimestamp, writeTimestamp } from "../core/time/ntp_timestamp.ts";
import type { ClockDriver, ClockReading } from "../io/clock_driver.ts";
import { localAddressFor } from "../io/local_address.ts";
import { resolveServerName } from "../io/resolve_name.ts";
import type { UpstreamDatagram } from "../io/udp_client.ts";
import { loadLater } from "../io/load_later.ts";
import type { NtsKeResultLike, NtsUpstreams, NtsUpstreamView } from "./nts_upstreams.ts";
import { type DaemonTime, systemTime, type TimerHandle } from "./daemon_time.ts";
import { DriftKeeper } from "./drift_keeper.ts";
import { log } from "./logging.ts";
import { describeEvent } from "./time_keeping_events.ts";
import {
  associationConfigOf,
  associationConfigs,
  resolveRetrySeconds,
  resolveUpstreams,
  type UpstreamEntry,
  type UpstreamResolver,
} from "./upstream_resolution.ts";
import { startUpstreamReplacement, type UpstreamReplacement } from "./upstream_replacement.ts";
import { type OpenUpstreamSocket, UpstreamSockets } from "./upstream_sockets.ts";
import { type UpstreamEndpointInfo, UpstreamTable } from "./upstream_table.ts";

export type { UpstreamEndpointInfo } from "./upstream_table.ts";
export { resolveRetrySeconds, type UpstreamResolver } from "./upstream_resolution.ts";

/** What status views (mode 6, logs) read from the running time keeper. */
export interface TimeKeepingView {
  readonly system: SystemStatus;
  readonly associations: readonly (AssociationStatus & {
    readonly endpoint: UpstreamEndpointInfo;
    /** Our address and port toward the upstream (ntpq's dstadr/dstport); null until known. */
    readonly local: { readonly address: string | null; readonly port: number };
    /** The NTS session of an NTS upstream; null for plain NTP. */
    readonly nts: NtsUpstreamView | null;
  })[];
  readonly clockKind: string;
}

/** The running time keeping, as the daemon uses it. Dispose it (or close) to stop it. */
export interface TimeKeeping extends AsyncDisposable {
  /** The synchronised part of SyncState, or undefined while unsynchronised. */
  synchronised(): SyncState["synchronised"];
  /** Current status of the system and every association. */
  view(): TimeKeepingView;
  /**
   * Applies a reloaded config's upstreams: the associations of `removed` entries end (their
   * samples leave selection at once), `added` entries are resolved and polled (iburst as at
   * start), every other association and the clock discipline carry on untouched. `config`
   * becomes the one later name resolution and NTS look at.
   */
  reconfigure(
    config: NtpConfig,
    change: {
      readonly added: readonly UpstreamEntry[];
      readonly removed: readonly UpstreamEntry[];
    },
  ): Promise<void>;
  /** Stops timers and sockets and writes the drift file (clean exit). Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startTimeKeeping}. */
export interface TimeKeepingOptions {
  readonly config: NtpConfig;
  readonly clock: ClockDriver;
  readonly precisionLog2: number;
  /** Called after anything that changes what responders must publish (clock action, sync change). */
  readonly onChange: () => void;
  /** Refids of our own addresses, so a source synchronised to us is recognised as a loop. */
  readonly localReferenceIds?: readonly number[];
  /** Name resolution; default resolveServerName (hosts file, then DNS). */
  readonly resolve?: UpstreamResolver;
  /** Seconds between attempts to resolve names that failed; default {@link resolveRetrySeconds}. */
  readonly resolveRetrySeconds?: number;
  /** The monotonic clock and timers; default the system's. */
  readonly time?: DaemonTime;
  /** How upstream sockets are opened; default src/io/udp_client.ts. */
  readonly openSocket?: OpenUpstreamSocket;
  /**
   * Turns the upstreams' leap vote into the leap bits the kernel gets (the leap-seconds file and
   * the June/December rule, see core/leap/leap_decision.ts); default: the vote as it is.
   */
  readonly decideLeap?: (voted: 0 | 1 | 2) => 0 | 1 | 2;
  /**
   * The leap second announced or just past, Unix seconds of the discontinuity (null: none):
   * replies within 5 s of it count for reachability only (core/leap/leap_window.ts).
   */
  readonly leapUnixSeconds?: () => number | null;
  /** NTS-KE for NTS upstreams; default src/io/nts_ke_client.ts (tests replace it). */
  readonly runNtsKeyExchange?: import("./nts_upstreams.ts").RunKeyExchange;
  /** Told of every reply the time keeper took (for the statistics files), after it took it. */
  readonly onReply?: (reply: UpstreamReply) => void;
}

/** A reply from an upstream as the time keeper took it (see TimeKeepingOptions.onReply). */
export interface UpstreamReply extends ReplyOutcome {
  readonly associationId: number;
  /** The NTP header (after NTS authentication for an NTS upstream). */
  readonly packet: Uint8Array;
  /** Our receive timestamp (T4). */
  readonly receiveTime: NtpTimestamp;
  /** Requests to it that went unanswered before the one this reply answers. */
  readonly lostRequests: number;
  /** Replies from it refused since our last request, this one included. */
  readonly rejectedReplies: number;
  /** It gets a rawstats line (taken, or the first refused since our last request). */
  readonly rawstatsDue: boolean;
}

/** The NTS module, loaded only when an upstream uses NTS (it brings OpenSSL). */
type NtsModule = typeof import("./nts_upstreams.ts");

function toNtp(reading: ClockReading): NtpTimestamp {
  return ntpFromUnix(reading.unixSeconds, reading.nanoseconds);
}

const logger = log("sync");

/** The configured entry a freshly resolved endpoint came from. */
function entryOf(
  entries: readonly UpstreamEntry[],
  endpoint: UpstreamEndpointInfo,
): UpstreamEntry | undefined {
  return entries.find((e) =>
    e.pool === endpoint.pool && e.upstream.host === endpoint.name &&
    e.upstream.port === endpoint.port
  );
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The running time keeping. Its constructor builds every part a datagram or a timer can reach
 * (the keeper, the endpoint table, the drift keeper, the replacement loop, the sockets' handler)
 * before {@link TimeKeepingService.open} opens a socket: nothing can arrive half-built.
 */
class TimeKeepingService implements TimeKeeping {
  readonly #options: TimeKeepingOptions;
  /** The config in force: the start one, then each reloaded one. */
  #config: NtpConfig;
  readonly #time: DaemonTime;
  readonly #table: UpstreamTable;
  readonly #drift: DriftKeeper;
  readonly #sockets: UpstreamSockets;
  readonly #replacement: UpstreamReplacement | null;
  readonly #localAddresses = new Map<string, string | null>();
  /** NTS sessions of the NTS upstreams; null while none is configured. */
  #nts: NtsUpstreams | null;
  /** Polls of NTS upstreams waiting for a key exchange: the request header, by association. */
  readonly #waitingForKeys = new Map<number, Uint8Array>();
  /**
   * Per NTS upstream: the server's resolved address and configured NTP port (where NTP goes
   * when NTS-KE names no server or port), and the host NTS-KE runs with (the server, or `ask`).
   */
  readonly #ntsEndpoints = new Map<
    number,
    { ntpAddress: string; configuredPort: number; keHost: string }
  >();
  #keeper: TimeKeeperState;
  #pending: readonly TimeKeeperAction[];
  #unresolved: UpstreamEntry[];
  #timer: TimerHandle | undefined;
  #resolveTimer: TimerHandle | undefined;
  /** A late resolution is looking names up (one at a time; it schedules the next itself). */
  #resolving = false;
  #closing: Promise<void> | undefined;

  constructor(parts: {
    readonly options: TimeKeepingOptions;
    readonly table: UpstreamTable;
    readonly drift: DriftKeeper;
    readonly created: TimeKeeperOutput;
    readonly unresolved: UpstreamEntry[];
    readonly ntsModule: NtsModule | null;
  }) {
    const { options } = parts;
    this.#options = options;
    this.#config = options.config;
    this.#time = options.time ?? systemTime;
    this.#table = parts.table;
    this.#drift = parts.drift;
    this.#keeper = parts.created.state;
    this.#pending = parts.created.actions;
    this.#unresolved = parts.unresolved;
    this.#nts = parts.ntsModule === null ? null : this.#createNts(parts.ntsModule);
    this.#sockets = new UpstreamSockets({
      onDatagram: (datagram) => this.#onDatagram(datagram),
      onError: (message) => logger.error(message),
      ...(options.openSocket !== undefined ? { open: options.openSocket } : {}),
    });
    const pick = this.#config.pick;
    this.#replacement = pick.candidatesFile === null ? null : startUpstreamReplacement({
      candidatesFile: pick.candidatesFile,
      afterPolls: pick.replaceAfterPolls,
      // NTS servers are never replaced by candidates (those would be plain NTP).
      serverIds: this.#table.all().filter((e) => !e.pool && this.#ntsOf(e) === null).map((e) =>
        e.associationId
      ),
      precisionLog2: options.precisionLog2,
      fromKernel: (reading) => toNtp(options.clock.fromKernel(reading)),
      keeper: () => this.#keeper,
      monotonicSeconds: () => this.#time.monotonicSeconds(),
      endpoints: () => this.#table.all(),
      nameOf: (id) => this.#table.nameOf(id),
      swap: (oldId, to) => this.#swap(oldId, to),
    });
  }

  /** The NTS sessions, built when the first NTS upstream is configured (at start or a reload). */
  #createNts(module: NtsModule): NtsUpstreams {
    const options = this.#options;
    return new module.NtsUpstreams({
      time: this.#time,
      onReady: (id, result) => this.#ntsReady(id, result),
      afterReady: (id) => this.#ntsKeysIn(id),
      onFailure: (id, reason, retrySeconds) =>
        logger.warn(
          `NTS-KE for ${this.#table.nameOf(id)} failed: ${reason}; no time from it until a ` +
            `key exchange succeeds (next try in ${Math.round(retrySeconds)} s)`,
        ),
      ...(options.runNtsKeyExchange !== undefined
        ? { runKeyExchange: options.runNtsKeyExchange }
        : {}),
    });
  }

  /** Opens the sockets of the resolved upstreams, then starts polling; closes all on failure. */
  async open(): Promise<void> {
    try {
      const families = new Set(this.#table.all().map((e) => e.family));
      for (const family of families) await this.#sockets.socketFor(family);
    } catch (error) {
      await this.close();
      throw error;
    }
    const config = this.#config;
    if (this.#unresolved.length > 0) this.#scheduleResolution();
    if (config.pick.candidatesFile !== null) {
      logger.info(
        `servers unanswered for ${config.pick.replaceAfterPolls} polls are replaced from ${config.pick.candidatesFile}`,
      );
    }
    const endpoints = this.#table.all();
    if (endpoints.length > 0) {
      logger.info(
        `polling ${endpoints.map((e) => this.#table.nameOf(e.associationId)).join(", ")}`,
      );
    }
    for (const endpoint of endpoints) this.#startNts(endpoint);
    const first = this.#pending;
    this.#pending = [];
    this.#apply(first);
  }

  synchronised(): SyncState["synchronised"] {
    return synchronisedState(this.#keeper, { monotonicSeconds: this.#time.monotonicSeconds() });
  }

  view(): TimeKeepingView {
    const now = { monotonicSeconds: this.#time.monotonicSeconds() };
    return {
      system: systemStatus(this.#keeper, now),
      associations: associationStatuses(this.#keeper, now).map((a) => {
        const endpoint = this.#table.byId(a.associationId)!;
        return {
          ...a,
          endpoint,
          local: {
            address: this.#localAddressOf(endpoint),
            port: this.#sockets.get(endpoint.family)?.localPort ?? 0,
          },
          nts: this.#nts?.view(a.associationId) ?? null,
        };
      }),
      clockKind: this.#options.clock.kind,
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#considerDrift(true);
      if (this.#timer !== undefined) this.#time.clearTimer(this.#timer);
      if (this.#resolveTimer !== undefined) this.#time.clearTimer(this.#resolveTimer);
      this.#timer = undefined;
      this.#resolveTimer = undefined;
      this.#nts?.close();
      this.#waitingForKeys.clear();
      await this.#replacement?.close();
      await this.#sockets.close();
      await this.#drift.flush();
    })();
    return this.#closing;
  }

  async reconfigure(
    config: NtpConfig,
    change: {
      readonly added: readonly UpstreamEntry[];
      readonly removed: readonly UpstreamEntry[];
    },
  ): Promise<void> {
    if (this.#closed) return;
    this.#config = config;
    this.#unresolved = this.#unresolved.filter((entry) => this.#configured(entry));
    const matches = (entry: UpstreamEntry, endpoint: UpstreamEndpointInfo) => {
      const standsFor = this.#standsFor.get(endpoint.associationId);
      if (standsFor !== undefined) {
        return !entry.pool && entry.upstream.host === standsFor.name &&
          entry.upstream.port === standsFor.port;
      }
      return entry.pool === endpoint.pool && entry.upstream.host === endpoint.name &&
        entry.upstream.port ===
          (this.#ntsEndpoints.get(endpoint.associationId)?.configuredPort ?? endpoint.port);
    };
    for (const entry of change.removed) {
      for (const endpoint of this.#table.all().filter((e) => matches(entry, e))) {
        const id = endpoint.associationId;
        const out = removeAssociation(this.#keeper, id, {
          monotonicSeconds: this.#time.monotonicSeconds(),
        });
        logger.info(`${this.#table.nameOf(id)} is no longer configured: not polled any more`);
        this.#keeper = out.state;
        // Its events (a new system peer) still name it: the endpoint goes after them.
        this.#apply(out.actions);
        this.#table.remove(id);
        this.#exchangeCounts.delete(id);
        this.#standsFor.delete(id);
        this.#nts?.remove(id);
        this.#waitingForKeys.delete(id);
        this.#ntsEndpoints.delete(id);
      }
    }
    let added = change.added;
    if (added.some((entry) => entry.upstream.nts !== null) && this.#nts === null) {
      try {
        this.#nts = this.#createNts(
          await loadLater<NtsModule>(new URL("./nts_upstreams.ts", import.meta.url)),
        );
      } catch (error) {
        logger.error(
          `the NTS upstreams added are not polled: NTS cannot be loaded (${describeError(error)})`,
        );
        added = added.filter((entry) => entry.upstream.nts === null);
      }
    }
    if (this.#closed || added.length === 0) return;
    const resolved = await resolveUpstreams(added, {
      // [tos] changes wait for a restart: the one in force is the start config's.
      maxClock: this.#options.config.tos.maxClock,
      firstId: this.#table.nextId,
      known: this.#table.all(),
      resolve: this.#options.resolve ?? resolveServerName,
    });
    if (this.#closed) return;
    this.#unresolved.push(...resolved.unresolved.filter((entry) => this.#configured(entry)));
    await this.#pollResolved(added, resolved.endpoints);
    if (this.#unresolved.length > 0) this.#scheduleResolution();
  }

  /**
   * Opens the socket of each freshly resolved endpoint and polls it. An endpoint whose socket
   * cannot be opened is logged and its entry goes back to the names tried again later (the
   * address family may come up, as DNS may), never an exception out of a timer.
   */
  async #pollResolved(
    entries: readonly UpstreamEntry[],
    endpoints: readonly UpstreamEndpointInfo[],
  ): Promise<void> {
    for (const endpoint of endpoints) {
      const entry = entryOf(entries, endpoint);
      try {
        await this.#sockets.socketFor(endpoint.family);
      } catch (error) {
        logger.error(
          `${endpoint.name} is not polled yet (tried again later): ${describeError(error)}`,
        );
        if (entry !== undefined && this.#configured(entry) && !this.#unresolved.includes(entry)) {
          this.#unresolved.push(entry);
        }
        continue;
      }
      if (this.#closed) return;
      if (entry !== undefined && this.#configured(entry)) this.#addEndpoint(entry, endpoint);
    }
  }

  /** Whether `entry` is in the config in force (a reload may have removed it). */
  #configured(entry: UpstreamEntry): boolean {
    const key = JSON.stringify(entry.upstream);
    return (entry.pool ? this.#config.pools : this.#config.servers).some((u) =>
      JSON.stringify(u) === key
    );
  }

  /** Starts polling a newly resolved endpoint of `entry` (late resolution, reload). */
  #addEndpoint(entry: UpstreamEntry, resolved: UpstreamEndpointInfo): void {
    // Resolved twice (a reload re-added a name a late resolution was looking up): polled once.
    if (this.#table.byAddress(resolved.hostname, resolved.port) !== undefined) return;
    // Numbered now: a reload and a late resolution may have resolved names at the same time.
    const endpoint = { ...resolved, associationId: this.#table.takeId() };
    this.#table.add(endpoint);
    const out = addAssociation(this.#keeper, associationConfigOf(entry.upstream, endpoint), {
      monotonicSeconds: this.#time.monotonicSeconds(),
    });
    this.#keeper = out.state;
    logger.info(
      endpoint.name === endpoint.hostname
        ? `${this.#table.nameOf(endpoint.associationId)}: polling it`
        : `${endpoint.name} resolved to ${endpoint.hostname}: polling it`,
    );
    this.#startNts(endpoint);
    this.#apply(out.actions);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Associations [pick] put in the place of a configured server: the server (name and port as
   * configured) each stands for.
   */
  readonly #standsFor = new Map<number, { readonly name: string; readonly port: number }>();
  /** Per association, what rawstats counts (core/stats/stats_records.ts). */
  readonly #exchangeCounts = new Map<number, ExchangeCounts>();
  /** A failure of the onReply hook was logged (once per run). */
  #warnedReplyHook = false;

  /** The warning about user-space receive stamps was logged (once per run). */
  #warnedUserStamps = false;

  get #closed(): boolean {
    return this.#closing !== undefined;
  }

  #onDatagram(datagram: UpstreamDatagram): void {
    if (this.#closed) return;
    const endpoint = this.#table.byAddress(datagram.from.hostname, datagram.from.port);
    if (!endpoint) return; // not one of ours: dropped
    if (datagram.receiveSource === "user" && !this.#warnedUserStamps) {
      this.#warnedUserStamps = true;
      logger.warn(
        "upstream replies carry no kernel receive timestamps (no FFI, or SO_TIMESTAMPNS " +
          "refused): they are stamped when the daemon reads them, which adds its scheduling " +
          "delay to the measured offsets",
      );
    }
    let data = datagram.data;
    if (this.#nts?.has(endpoint.associationId)) {
      // Only an authenticated reply to our outstanding request reaches the time keeper.
      const header = this.#nts.check(endpoint.associationId, data);
      if (header === null) return;
      data = header;
    }
    const id = endpoint.associationId;
    const receiveTime = toNtp(this.#options.clock.fromKernel(datagram.receiveKernel));
    const out = onPacket(this.#keeper, data, {
      associationId: id,
      receiveTime,
      monotonicSeconds: this.#time.monotonicSeconds(),
      leapUnixSeconds: this.#options.leapUnixSeconds?.() ?? null,
    });
    const before = this.#keeper;
    this.#keeper = out.state;
    this.#apply(out.actions);
    const outcome = replyOutcome(before, this.#keeper, id);
    if (outcome.disciplineUpdated) this.#logUpdate(id);
    const counted = countReply(this.#exchangeCounts.get(id) ?? NO_EXCHANGES, outcome);
    this.#exchangeCounts.set(id, counted.counts);
    try {
      this.#options.onReply?.({
        associationId: id,
        packet: data,
        receiveTime,
        lostRequests: counted.lostRequests,
        rejectedReplies: counted.rejectedReplies,
        rawstatsDue: counted.rawstatsDue,
        ...outcome,
      });
    } catch (error) {
      // The statistics are an observer: their failure must not stop time keeping.
      if (!this.#warnedReplyHook) {
        this.#warnedReplyHook = true;
        logger.warn(`statistics of an upstream reply failed: ${describeError(error)}`);
      }
    }
    this.#replacement?.observe();
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const out = onTimer(this.#keeper, { monotonicSeconds: this.#time.monotonicSeconds() });
    this.#keeper = out.state;
    this.#apply(out.actions);
    this.#considerDrift(false);
    this.#replacement?.observe();
  }

  /** Carries out the time keeper's actions (see src/core/client/time_keeper.ts). */
  #apply(actions: readonly TimeKeeperAction[]): void {
    const { clock } = this.#options;
    let changed = false;
    for (const action of actions) {
      switch (action.kind) {
        case "send":
          this.#send(action.associationId, action.request);
          break;
        case "setTimer": {
          if (this.#closed) break;
          if (this.#timer !== undefined) this.#time.clearTimer(this.#timer);
          const delayMs = Math.max(
            0,
            (action.atMonotonicSeconds - this.#time.monotonicSeconds()) * 1000,
          );
          this.#timer = this.#time.setTimer(() => this.#fire(), Math.ceil(delayMs));
          break;
        }
        case "setFrequency":
          clock.setFrequencyPpm(action.freqPpm);
          changed = true;
          break;
        case "step":
          clock.stepSeconds(action.offsetSeconds);
          changed = true;
          break;
        case "setSyncStatus":
          clock.setSyncStatus(
            action.status.synchronised && this.#options.decideLeap !== undefined
              ? { ...action.status, leap: this.#options.decideLeap(action.status.leap) }
              : action.status,
          );
          changed = true;
          break;
        case "event": {
          const { level, text } = describeEvent(action.event, (id) => this.#table.nameOf(id));
          if (level === "warning") logger.warn(text);
          else logger.info(text);
          changed = true;
          break;
        }
      }
    }
    if (changed) this.#options.onChange();
  }

  /**
   * Sends a request to association `id`: the transmit timestamp written now, NTS fields added for
   * an NTS upstream (without a cookie the poll waits for the key exchange, see #ntsReady); the
   * socket's reading right before the send call becomes the measurement's T1.
   */
  #send(id: number, header: Uint8Array): void {
    const endpoint = this.#table.byId(id);
    const socket = endpoint && this.#sockets.get(endpoint.family);
    if (!endpoint || !socket) return;
    let request: Uint8Array = header.slice();
    const transmitTime = toNtp(this.#options.clock.now());
    writeTimestamp(new DataView(request.buffer), TRANSMIT_TIMESTAMP_OFFSET, transmitTime);
    if (this.#nts?.has(id)) {
      const protectedRequest = this.#nts.protect(id, request);
      if (protectedRequest === null) {
        this.#waitingForKeys.set(id, header);
        return;
      }
      this.#waitingForKeys.delete(id);
      request = protectedRequest;
    }
    const sent = socket.send(request, endpoint);
    if (!sent.ok) {
      logger.debug(`send to ${this.#table.nameOf(id)} failed: ${sent.message}`);
      return;
    }
    // T1 is the clock read right before the send call, not when the transmit field was written:
    // the NTS fields and the socket call's set-up in between are no path delay.
    const sentTime = toNtp(this.#options.clock.fromKernel(sent.transmitKernel));
    this.#keeper = onTransmitted(this.#keeper, { associationId: id, transmitTime, sentTime });
    this.#exchangeCounts.set(id, countRequest(this.#exchangeCounts.get(id) ?? NO_EXCHANGES));
  }

  /** The NTS settings of an endpoint's configured upstream, or null for plain NTP. */
  #ntsOf(endpoint: UpstreamEndpointInfo) {
    const config = this.#config;
    const list = endpoint.pool ? config.pools : config.servers;
    return list.find((u) => u.host === endpoint.name && u.port === endpoint.port)?.nts ?? null;
  }

  /** Starts the key exchange of an NTS endpoint (nothing for plain ones). */
  #startNts(endpoint: UpstreamEndpointInfo): void {
    const nts = this.#ntsOf(endpoint);
    if (nts === null || this.#nts === null) return;
    const id = endpoint.associationId;
    this.#ntsEndpoints.set(id, {
      ntpAddress: endpoint.hostname,
      configuredPort: endpoint.port,
      keHost: nts.keServer ?? endpoint.name,
    });
    if (!nts.verifyCertificate) {
      logger.warn(
        `NTS for ${this.#table.nameOf(id)}: the certificate is NOT checked (noval): anyone on ` +
          "the path can pose as the server; for tests only",
      );
    }
    this.#nts.add(id, {
      // `ask`: another host runs NTS-KE (its name is checked, it is resolved when connecting).
      host: nts.keServer ?? endpoint.name,
      connectAddress: nts.keServer ?? endpoint.hostname,
      port: nts.kePort,
      caFile: nts.caFile,
      verifyCertificate: nts.verifyCertificate,
    }, () => this.#keeper.associations.find((a) => a.config.id === id)?.poll.pollLog2 ?? 6);
  }

  /**
   * A key exchange succeeded: NTP goes where the server said (Server and Port Negotiation),
   * and a poll that waited for the cookies is sent now.
   */
  async #ntsReady(id: number, result: NtsKeResultLike): Promise<void> {
    const endpoint = this.#table.byId(id);
    const settings = this.#ntsEndpoints.get(id);
    if (endpoint === undefined || settings === undefined || this.#closed) return;
    // Without a Server Negotiation record NTP goes to the server as configured and resolved
    // (runNtsKeyExchange names the KE host then: with `ask` that is another host).
    let hostname = settings.ntpAddress;
    if (
      result.ntpServer !== endpoint.name && result.ntpServer !== settings.ntpAddress &&
      result.ntpServer !== settings.keHost
    ) {
      const resolved = await (this.#options.resolve ?? resolveServerName)(result.ntpServer, {
        family: endpoint.family,
      });
      if (!resolved.ok) throw new Error(`the NTP server it named: ${resolved.message}`);
      hostname = resolved.addresses[0]!.hostname;
    }
    const port = result.ntpPort ?? settings.configuredPort;
    if (this.#closed || this.#table.byId(id) !== endpoint) return;
    const other = this.#table.byAddress(hostname, port);
    if (other !== undefined && other.associationId !== id) {
      throw new Error(
        `it sends NTP to ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}, which ${
          this.#table.nameOf(other.associationId)
        } already polls`,
      );
    }
    if (hostname !== endpoint.hostname || port !== endpoint.port) {
      this.#table.remove(id);
      this.#table.add({ ...endpoint, hostname, port });
    }
    const association = this.#keeper.associations.find((a) => a.config.id === id);
    if (hostname !== endpoint.hostname && association !== undefined) {
      // Another server: the association starts afresh with its address (our refid when it is
      // the system peer, loop detection); the poll that waited belonged to the old one.
      this.#waitingForKeys.delete(id);
      const out = replaceAssociation(this.#keeper, id, {
        ...association.config,
        address: ipBytes(hostname),
      }, { monotonicSeconds: this.#time.monotonicSeconds() });
      this.#keeper = out.state;
      this.#apply(out.actions);
    }
    logger.info(
      `NTS-KE with ${this.#nts?.view(id)?.keServer ?? endpoint.name} done: ` +
        `${result.cookies.length} cookies, NTP to ${this.#table.nameOf(id)}`,
    );
  }

  /** The keys are in place: a poll that waited for them goes out now. */
  #ntsKeysIn(id: number): void {
    const waiting = this.#waitingForKeys.get(id);
    if (waiting === undefined || this.#closed) return;
    this.#waitingForKeys.delete(id);
    this.#send(id, waiting);
  }

  /** One debug line per clock update: what the discipline concluded (chrony's tracking log). */
  #logUpdate(associationId: number): void {
    const d = this.#keeper.discipline;
    logger.debug(
      `update from ${this.#table.nameOf(associationId)}: offset ${
        (d.offsetSeconds * 1e6).toFixed(1)
      } us +- ${(d.phaseErrorSeconds * 1e6).toFixed(1)}, frequency ${d.frequencyPpm.toFixed(3)} ` +
        `+- ${d.frequencyErrorPpm.toFixed(3)} ppm (measured +- ${
          d.measuredFrequencyErrorPpm.toFixed(3)
        }), noise floor ${(d.noiseFloorSeconds * 1e6).toFixed(1)} us, jitter ${
          (d.clockJitterSeconds * 1e6).toFixed(1)
        } us, ${d.points.length} samples, phase ${d.phase}`,
    );
  }

  #considerDrift(exiting: boolean): void {
    const now = this.#time.monotonicSeconds();
    const status = systemStatus(this.#keeper, { monotonicSeconds: now });
    // Only a frequency known as well as the next start will trust it (the drift file is read
    // as a prior of DRIFT_PRIOR_STDDEV_PPM): after a short run on a jittery path, the file kept
    // from before is better than a guess.
    const errorPpm = this.#keeper.discipline.frequencyErrorPpm;
    const known = errorPpm <= DRIFT_PRIOR_STDDEV_PPM;
    if (exiting && status.synchronised && !known && this.#drift.path !== null) {
      logger.info(
        `frequency ${status.frequencyPpm.toFixed(3)} ppm not written to ${this.#drift.path}: ` +
          `known only to +-${errorPpm.toFixed(3)} ppm, a restart would trust it to ` +
          `+-${DRIFT_PRIOR_STDDEV_PPM} ppm`,
      );
    }
    this.#drift.consider({
      nowSeconds: now,
      freqPpm: status.frequencyPpm,
      trusted: status.synchronised && known,
      exiting,
    });
  }

  /** Puts a new association for `to` in the place of `oldId`, with the same options; its id, or null. */
  async #swap(
    oldId: number,
    to: { readonly name: string; readonly address: string; readonly port: number },
  ): Promise<number | null> {
    const family: 4 | 6 = to.address.includes(":") ? 6 : 4;
    await this.#sockets.socketFor(family);
    const previous = this.#keeper.associations.find((a) => a.config.id === oldId);
    if (previous === undefined || this.#table.byId(oldId) === undefined || this.#closed) {
      return null;
    }
    const replaced = this.#table.byId(oldId)!;
    const id = this.#table.takeId();
    const out = replaceAssociation(this.#keeper, oldId, {
      ...previous.config,
      id,
      address: ipBytes(to.address),
    }, { monotonicSeconds: this.#time.monotonicSeconds() });
    this.#table.remove(oldId);
    this.#exchangeCounts.delete(oldId);
    // The stand-in ends with the configured server it replaced (a reload that removes it).
    this.#standsFor.set(
      id,
      this.#standsFor.get(oldId) ?? { name: replaced.name, port: replaced.port },
    );
    this.#standsFor.delete(oldId);
    this.#table.add({
      associationId: id,
      name: to.name,
      hostname: to.address,
      port: to.port,
      family,
      pool: false,
    });
    this.#keeper = out.state;
    this.#apply(out.actions);
    return id;
  }

  /** Names that did not resolve at start are tried again until they do (DNS may come up late). */
  #scheduleResolution(): void {
    // One chain of retries: a pending timer or a running lookup schedules the next itself.
    if (this.#closed || this.#resolveTimer !== undefined || this.#resolving) return;
    const seconds = this.#options.resolveRetrySeconds ?? resolveRetrySeconds;
    this.#resolveTimer = this.#time.setTimer(() => void this.#retryResolution(), seconds * 1000);
  }

  async #retryResolution(): Promise<void> {
    this.#resolveTimer = undefined;
    if (this.#closed || this.#unresolved.length === 0) return;
    this.#resolving = true;
    try {
      await this.#resolveUnresolved();
    } catch (error) {
      // Run from a timer: nothing above it would catch this.
      logger.error(`resolving upstream names failed: ${describeError(error)}; tried again later`);
    } finally {
      this.#resolving = false;
    }
    if (this.#unresolved.length > 0) this.#scheduleResolution();
  }

  async #resolveUnresolved(): Promise<void> {
    const trying = this.#unresolved;
    const again = await resolveUpstreams(trying, {
      maxClock: this.#options.config.tos.maxClock,
      firstId: this.#table.nextId,
      known: this.#table.all(),
      resolve: this.#options.resolve ?? resolveServerName,
    });
    if (this.#closed) return;
    // A reload while the names were looked up may have removed entries or added others.
    this.#unresolved = [
      ...this.#unresolved.filter((entry) => !trying.includes(entry)),
      ...again.unresolved.filter((entry) => this.#configured(entry)),
    ];
    await this.#pollResolved(trying, again.endpoints);
  }

  /** Our source address toward an upstream, learnt once per address (a route lookup). */
  #localAddressOf(endpoint: UpstreamEndpointInfo): string | null {
    const key = `${endpoint.hostname}|${endpoint.port}`;
    if (!this.#localAddresses.has(key)) {
      this.#localAddresses.set(key, localAddressFor(endpoint));
    }
    return this.#localAddresses.get(key) ?? null;
  }
}

/**
 * Starts polling the configured upstreams and disciplining `clock`: resolves the names, reads
 * the drift file and builds the time keeper, then opens the sockets (a failure there closes
 * what was opened) and starts polling. With no upstreams it still runs (the system stays
 * unsynchronised, or in orphan mode as the daemon decides).
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "../config/ntp_config.ts";
 * import type { ClockDriver } from "../io/clock_driver.ts";
 * declare const config: NtpConfig;
 * declare const clock: ClockDriver;
 * declare function publish(): void; // hands the new state to the responders
 * await using timeKeeping = await startTimeKeeping({ config, clock, precisionLog2: -20,
 *   onChange: publish });
 * timeKeeping.view().system.synchronised;
 * ```
 */
export async function startTimeKeeping(options: TimeKeepingOptions): Promise<TimeKeeping> {
  const { config, clock } = options;
  const time = options.time ?? systemTime;
  const entries: UpstreamEntry[] = [
    ...config.servers.map((upstream) => ({ upstream, pool: false })),
    ...config.pools.map((upstream) => ({ upstream, pool: true })),
  ];
  const resolved = await resolveUpstreams(entries, {
    maxClock: config.tos.maxClock,
    firstId: 1,
    known: [],
    resolve: options.resolve ?? resolveServerName,
  });
  const drift = await DriftKeeper.open(config.driftFile, {
    log: logger,
    nowSeconds: time.monotonicSeconds(),
  });
  const created = createTimeKeeper({
    associations: associationConfigs(config, resolved.endpoints),
    minSane: config.tos.minSane,
    minClock: config.tos.minClock,
    maxClock: config.tos.maxClock,
    discipline: {
      ...defaultDisciplineSettings,
      stepThresholdSeconds: config.tinker.stepThresholdSeconds,
      panicThresholdSeconds: config.tinker.panicThresholdSeconds,
      stepoutSeconds: config.tinker.stepoutSeconds,
    },
    precisionLog2: options.precisionLog2,
    driftPpm: drift.freqPpm,
    currentFrequencyPpm: clock.getFrequencyPpm(),
    randomSeed: crypto.getRandomValues(new Uint32Array(1))[0]!,
    localReferenceIds: options.localReferenceIds ?? [],
    startupWaitSeconds: DEFAULT_STARTUP_WAIT_SECONDS,
  }, { monotonicSeconds: time.monotonicSeconds() });
  const usesNts = [...config.servers, ...config.pools].some((u) => u.nts !== null);
  const ntsModule = usesNts
    ? await loadLater<NtsModule>(new URL("./nts_upstreams.ts", import.meta.url))
    : null;
  const service = new TimeKeepingService({
    options,
    table: new UpstreamTable(resolved.endpoints),
    drift,
    created,
    unresolved: resolved.unresolved,
    ntsModule,
  });
  await service.open();
  return service;
}
