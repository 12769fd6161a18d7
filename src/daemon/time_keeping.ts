// Wires the pure time keeper to the world: resolves upstreams, owns their sockets and timers,
// carries out clock actions on the driver, keeps the drift file, logs events, and swaps in the
// upstreams that upstream_replacement.ts picks ([pick]). No algorithms.
import type { NtpConfig, UpstreamConfig } from "../config/ntp_config.ts";
import {
  addAssociation,
  type AssociationStatus,
  associationStatuses,
  createTimeKeeper,
  DEFAULT_STARTUP_WAIT_SECONDS,
  onPacket,
  onTimer,
  onTransmitted,
  replaceAssociation,
  synchronisedState,
  type SystemStatus,
  systemStatus,
  type TimeKeeperAction,
  type TimeKeeperEvent,
  type TimeKeeperState,
} from "../core/client/time_keeper.ts";
import { TRANSMIT_TIMESTAMP_OFFSET } from "../core/client/client_request.ts";
import type { AssociationConfig } from "../core/client/association.ts";
import { defaultDisciplineSettings } from "../core/discipline/clock_discipline.ts";
import type { SyncState } from "../core/discipline/system_state.ts";
import { afterDriftWrite, driftWriteDue, initialDriftWriteState } from "../core/drift_policy.ts";
import type { DriftWriteState } from "../core/drift_policy.ts";
import { formatRefid, refidFromAddress } from "../core/packet/refid.ts";
import { ntpFromUnix, type NtpTimestamp, writeTimestamp } from "../core/time/ntp_timestamp.ts";
import type { ClockDriver, ClockReading } from "../io/clock_driver.ts";
import { readDriftFile, writeDriftFile } from "../io/drift_file.ts";
import { resolveServerName } from "../io/resolve.ts";
import {
  openUpstreamSocket,
  type UpstreamDatagram,
  type UpstreamSocket,
} from "../io/udp_client.ts";
import { ipBytes } from "../config/addresses.ts";
import { log } from "./logging.ts";
import { startUpstreamReplacement } from "./upstream_replacement.ts";
import { localAddressFor } from "../io/local_address.ts";

/** Where an association sends: the configured name and the address it resolved to. */
export interface UpstreamEndpointInfo {
  readonly associationId: number;
  /** As configured ("clock.fmt.he.net", "127.0.0.1"). */
  readonly name: string;
  /** The IP literal in use. */
  readonly hostname: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly pool: boolean;
}

/** What status views (mode 6, logs) read from the running time keeper. */
export interface TimeKeepingView {
  readonly system: SystemStatus;
  readonly associations: readonly (AssociationStatus & {
    readonly endpoint: UpstreamEndpointInfo;
    /** Our address and port toward the upstream (ntpq's dstadr/dstport); null until known. */
    readonly local: { readonly address: string | null; readonly port: number };
  })[];
  readonly clockKind: string;
}

/** The running time keeping, as the daemon uses it. */
export interface TimeKeeping {
  /** The synchronised part of SyncState, or undefined while unsynchronised. */
  synchronised(): SyncState["synchronised"];
  /** Current status of the system and every association. */
  view(): TimeKeepingView;
  /** Stops timers and sockets and writes the drift file (clean exit). */
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
}

/** A monotonic clock in seconds that never steps (timers, rate limiting); never wall time. */
export function monotonicSeconds(): number {
  return performance.now() / 1000;
}

function toNtp(reading: ClockReading): NtpTimestamp {
  return ntpFromUnix(reading.unixSeconds, reading.nanoseconds);
}

/** A configured server or pool entry. */
interface UpstreamEntry {
  readonly upstream: UpstreamConfig;
  readonly pool: boolean;
}

/** Name resolution as time keeping uses it (src/io/resolve.ts; tests pass their own). */
export type UpstreamResolver = typeof resolveServerName;

/**
 * Resolves server and pool entries into endpoints numbered from `firstId`; the entries whose
 * names do not resolve (yet) are returned to be tried again later.
 */
async function resolveUpstreams(
  entries: readonly UpstreamEntry[],
  options: {
    readonly maxClock: number;
    readonly firstId: number;
    readonly known: readonly UpstreamEndpointInfo[];
    readonly resolve: UpstreamResolver;
  },
): Promise<{ endpoints: UpstreamEndpointInfo[]; unresolved: UpstreamEntry[] }> {
  const logger = log("upstream");
  const endpoints: UpstreamEndpointInfo[] = [];
  const unresolved: UpstreamEntry[] = [];
  const outcomes = await Promise.all(
    entries.map((e) => options.resolve(e.upstream.host, { family: e.upstream.family })),
  );
  entries.forEach((entry, index) => {
    const { upstream, pool } = entry;
    const outcome = outcomes[index]!;
    if (!outcome.ok) {
      logger.warn(
        `cannot resolve ${upstream.host}: ${outcome.message}; trying again every ${resolveRetrySeconds} s`,
      );
      unresolved.push(entry);
      return;
    }
    const addresses = pool
      ? outcome.addresses.slice(0, options.maxClock)
      : outcome.addresses.slice(0, 1);
    for (const address of addresses) {
      const duplicate = [...options.known, ...endpoints].some((e) =>
        e.hostname === address.hostname && e.port === upstream.port
      );
      if (duplicate) continue;
      endpoints.push({
        associationId: options.firstId + endpoints.length,
        name: upstream.host,
        hostname: address.hostname,
        port: upstream.port,
        family: address.family,
        pool,
      });
    }
  });
  return { endpoints, unresolved };
}

/** How often names that did not resolve are tried again, seconds. */
export const resolveRetrySeconds = 60;

function associationConfigs(
  config: NtpConfig,
  endpoints: readonly UpstreamEndpointInfo[],
): AssociationConfig[] {
  const byName = new Map<string, UpstreamConfig>();
  for (const u of [...config.servers, ...config.pools]) byName.set(`${u.host}|${u.port}`, u);
  return endpoints.map((e) => associationConfigOf(byName.get(`${e.name}|${e.port}`)!, e));
}

/** The association for one endpoint of a configured server or pool. */
function associationConfigOf(u: UpstreamConfig, e: UpstreamEndpointInfo): AssociationConfig {
  return {
    id: e.associationId,
    address: ipBytes(e.hostname),
    version: u.version,
    minPollLog2: u.minPollLog2,
    maxPollLog2: u.maxPollLog2,
    iburst: u.iburst,
    burst: u.burst,
    prefer: u.prefer,
    noselect: u.noselect,
  };
}

function describeEvent(
  event: TimeKeeperEvent,
  nameOf: (associationId: number | null) => string,
): { level: "info" | "warning"; text: string } {
  switch (event.kind) {
    case "reachable":
      return { level: "info", text: `${nameOf(event.associationId)} is reachable` };
    case "unreachable":
      return {
        level: "warning",
        text: `${nameOf(event.associationId)} is unreachable: no valid reply to the last 8 polls`,
      };
    case "kissOfDeath":
      return {
        level: "warning",
        text: `${nameOf(event.associationId)} sent Kiss-o'-Death ${event.code}; polling every ${
          2 ** event.pollLog2
        } s`,
      };
    case "demobilised":
      return {
        level: "warning",
        text: `${nameOf(event.associationId)} sent Kiss-o'-Death ${event.code}; no longer polled`,
      };
    case "systemPeerChanged":
      return {
        level: "info",
        text: event.associationId === null
          ? `no system peer (was ${nameOf(event.previousAssociationId)})`
          : `system peer is now ${nameOf(event.associationId)}`,
      };
    case "synchronised":
      return {
        level: "info",
        text: `synchronised at stratum ${event.stratum}, refid ${
          formatRefid(event.referenceId, event.stratum)
        }`,
      };
    case "unsynchronised":
      return { level: "warning", text: `not synchronised (${event.reason})` };
    case "clockStepped":
      return { level: "info", text: `clock stepped by ${event.offsetSeconds.toFixed(6)} s` };
    case "spikeDetected":
      return {
        level: "warning",
        text: `offset ${
          event.offsetSeconds.toFixed(6)
        } s over the step threshold: ignored unless it persists (stepout)`,
      };
    case "panic":
      return {
        level: "warning",
        text:
          `offset ${
            event.offsetSeconds.toFixed(3)
          } s exceeds the panic threshold ${event.thresholdSeconds} s: ` +
          `refusing to step the clock; set it by hand or raise [tinker] panic (0 = no limit)`,
      };
    case "panicCleared":
      return {
        level: "info",
        text: `offset back to ${event.offsetSeconds.toFixed(6)} s, below the panic threshold`,
      };
    case "priorContradicted":
      return {
        level: "warning",
        text: `${event.origin === "driftFile" ? "drift file" : "previous"} frequency ${
          event.priorPpm.toFixed(3)
        } ppm contradicted by the measurements (${event.measuredPpm.toFixed(3)} +- ${
          event.measuredErrorPpm.toFixed(3)
        } ppm): using the measurements`,
      };
    case "clockChanged":
      return {
        level: "warning",
        text: `the clock moved away from every source (newest sample ${
          (event.residualSeconds * 1e3).toFixed(3)
        } ms off): frequency ${event.fromPpm.toFixed(3)} -> ${
          event.toPpm.toFixed(3)
        } ppm, older samples dropped`,
      };
  }
}

/**
 * Starts polling the configured upstreams and disciplining `clock`. With no upstreams it still
 * runs (the system stays unsynchronised, or in orphan mode as the daemon decides).
 */
export async function startTimeKeeping(options: TimeKeepingOptions): Promise<TimeKeeping> {
  const logger = log("sync");
  const { config, clock } = options;
  const resolve = options.resolve ?? resolveServerName;
  const entries: UpstreamEntry[] = [
    ...config.servers.map((upstream) => ({ upstream, pool: false })),
    ...config.pools.map((upstream) => ({ upstream, pool: true })),
  ];
  const resolved = await resolveUpstreams(entries, {
    maxClock: config.tos.maxClock,
    firstId: 1,
    known: [],
    resolve,
  });
  const endpoints = resolved.endpoints;
  let unresolved = resolved.unresolved;
  const byAddress = new Map(endpoints.map((e) => [`${e.hostname}|${e.port}`, e]));
  const byId = new Map(endpoints.map((e) => [e.associationId, e]));
  const nameOf = (id: number | null) => {
    const e = id === null ? undefined : byId.get(id);
    if (!e) return "none";
    const address = e.family === 6 ? `[${e.hostname}]:${e.port}` : `${e.hostname}:${e.port}`;
    return e.name === e.hostname ? address : `${e.name} (${address})`;
  };

  let drift: { freqPpm: number | null } = { freqPpm: null };
  if (config.driftFile !== null) {
    const read = await readDriftFile(config.driftFile);
    if (read.warning) logger.warn(`drift file ${config.driftFile}: ${read.warning}`);
    drift = { freqPpm: read.freqPpm };
    if (read.freqPpm !== null) {
      logger.info(`frequency ${read.freqPpm.toFixed(3)} ppm from ${config.driftFile}`);
    }
  }
  let driftState: DriftWriteState = initialDriftWriteState(monotonicSeconds(), drift.freqPpm);

  const created = createTimeKeeper({
    associations: associationConfigs(config, endpoints),
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
  }, { monotonicSeconds: monotonicSeconds() });
  let keeper: TimeKeeperState = created.state;

  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const sockets = new Map<4 | 6, UpstreamSocket>();

  const onDatagram = (datagram: UpstreamDatagram) => {
    if (closed) return;
    const endpoint = byAddress.get(`${datagram.from.hostname}|${datagram.from.port}`);
    if (!endpoint) return; // not one of ours: dropped
    const out = onPacket(keeper, datagram.data, {
      associationId: endpoint.associationId,
      receiveTime: toNtp(clock.fromKernel(datagram.receiveKernel)),
      monotonicSeconds: monotonicSeconds(),
    });
    const before = keeper.discipline.lastUpdateMonotonicSeconds;
    keeper = out.state;
    apply(out.actions);
    if (keeper.discipline.lastUpdateMonotonicSeconds !== before) logUpdate(endpoint.associationId);
    considerReplacement();
  };

  /** One debug line per clock update: what the discipline concluded (chrony's tracking log). */
  const logUpdate = (associationId: number) => {
    const d = keeper.discipline;
    logger.debug(
      `update from ${nameOf(associationId)}: offset ${(d.offsetSeconds * 1e6).toFixed(1)} us ` +
        `+- ${(d.phaseErrorSeconds * 1e6).toFixed(1)}, frequency ${d.frequencyPpm.toFixed(3)} ` +
        `+- ${d.frequencyErrorPpm.toFixed(3)} ppm (measured +- ${
          d.measuredFrequencyErrorPpm.toFixed(3)
        }), noise floor ${(d.noiseFloorSeconds * 1e6).toFixed(1)} us, jitter ${
          (d.clockJitterSeconds * 1e6).toFixed(1)
        } us, ${d.points.length} samples, phase ${d.phase}`,
    );
  };

  // One socket per family, opened on first need. The map holds the opening promise, so two
  // callers that need a new family at once (a replacement and a late name resolution) share one
  // socket, and close() waits for a socket still being opened instead of missing it.
  const opening = new Map<4 | 6, Promise<UpstreamSocket>>();
  const socketFor = (family: 4 | 6): Promise<UpstreamSocket> => {
    let socket = opening.get(family);
    if (socket === undefined) {
      socket = openUpstreamSocket({
        family,
        onDatagram,
        onError: (message) => logger.error(`upstream IPv${family} socket: ${message}`),
      }).then((opened) => {
        sockets.set(family, opened);
        return opened;
      }, (error) => {
        opening.delete(family); // the next need tries again
        throw error;
      });
      opening.set(family, socket);
    }
    return socket;
  };
  for (const family of new Set(endpoints.map((e) => e.family))) await socketFor(family);

  const fire = () => {
    timer = undefined;
    if (closed) return;
    const out = onTimer(keeper, { monotonicSeconds: monotonicSeconds() });
    keeper = out.state;
    apply(out.actions);
    checkDrift(false);
    considerReplacement();
  };

  function apply(actions: readonly TimeKeeperAction[]): void {
    let changed = false;
    for (const action of actions) {
      switch (action.kind) {
        case "send": {
          const endpoint = byId.get(action.associationId);
          const socket = endpoint && sockets.get(endpoint.family);
          if (!endpoint || !socket) break;
          const request = action.request.slice();
          const transmitTime = toNtp(clock.now());
          writeTimestamp(new DataView(request.buffer), TRANSMIT_TIMESTAMP_OFFSET, transmitTime);
          const sent = socket.send(request, endpoint);
          if (!sent.ok) {
            logger.debug(`send to ${nameOf(endpoint.associationId)} failed: ${sent.message}`);
            break;
          }
          keeper = onTransmitted(keeper, { associationId: action.associationId, transmitTime });
          break;
        }
        case "setTimer": {
          if (timer !== undefined) clearTimeout(timer);
          const delayMs = Math.max(0, (action.atMonotonicSeconds - monotonicSeconds()) * 1000);
          timer = setTimeout(fire, Math.ceil(delayMs));
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
          clock.setSyncStatus(action.status);
          changed = true;
          break;
        case "event": {
          const { level, text } = describeEvent(action.event, nameOf);
          if (level === "warning") logger.warn(text);
          else logger.info(text);
          changed = true;
          break;
        }
      }
    }
    if (changed) options.onChange();
  }

  const checkDrift = (exiting: boolean) => {
    if (config.driftFile === null) return;
    const status = systemStatus(keeper, { monotonicSeconds: monotonicSeconds() });
    const input = {
      nowSeconds: monotonicSeconds(),
      freqPpm: status.frequencyPpm,
      trusted: status.synchronised,
      exiting,
    };
    if (!driftWriteDue(driftState, input)) return;
    driftState = afterDriftWrite(driftState, input);
    const path = config.driftFile;
    const write = writeDriftFile(path, input.freqPpm).then((result) => {
      if (result.ok) logger.info(`frequency ${input.freqPpm.toFixed(3)} ppm written to ${path}`);
      else logger.warn(`cannot write the drift file ${path}: ${result.message}`);
    });
    if (exiting) pendingWrites.push(write);
  };
  const pendingWrites: Promise<void>[] = [];

  // Replacing dead servers ([pick]): ids are never reused, so status views see the change.
  let nextAssociationId = endpoints.length + 1;
  const replacement = config.pick.candidatesFile === null ? null : startUpstreamReplacement({
    candidatesFile: config.pick.candidatesFile,
    afterPolls: config.pick.replaceAfterPolls,
    serverIds: endpoints.filter((e) => !e.pool).map((e) => e.associationId),
    precisionLog2: options.precisionLog2,
    fromKernel: (reading) => toNtp(clock.fromKernel(reading)),
    keeper: () => keeper,
    monotonicSeconds,
    endpoints: () => [...byId.values()],
    nameOf,
    swap,
  });
  function considerReplacement(): void {
    if (!closed) replacement?.observe();
  }

  /** Puts a new association for `to` in the place of `oldId`, with the same options; its id, or null. */
  async function swap(
    oldId: number,
    to: { readonly name: string; readonly address: string; readonly port: number },
  ): Promise<number | null> {
    const family: 4 | 6 = to.address.includes(":") ? 6 : 4;
    await socketFor(family);
    const previous = keeper.associations.find((a) => a.config.id === oldId);
    const old = byId.get(oldId);
    if (previous === undefined || old === undefined || closed) return null;
    const id = nextAssociationId++;
    const endpoint: UpstreamEndpointInfo = {
      associationId: id,
      name: to.name,
      hostname: to.address,
      port: to.port,
      family,
      pool: false,
    };
    const out = replaceAssociation(keeper, oldId, {
      ...previous.config,
      id,
      address: ipBytes(to.address),
    }, { monotonicSeconds: monotonicSeconds() });
    byAddress.delete(`${old.hostname}|${old.port}`);
    byAddress.set(`${endpoint.hostname}|${endpoint.port}`, endpoint);
    byId.set(id, endpoint);
    keeper = out.state;
    apply(out.actions);
    byId.delete(oldId);
    return id;
  }

  // Names that did not resolve at start are tried again until they do (DNS may come up late).
  let resolveTimer: ReturnType<typeof setTimeout> | undefined;
  const retryResolution = async () => {
    resolveTimer = undefined;
    if (closed || unresolved.length === 0) return;
    const again = await resolveUpstreams(unresolved, {
      maxClock: config.tos.maxClock,
      firstId: nextAssociationId,
      known: [...byId.values()],
      resolve,
    });
    if (closed) return;
    unresolved = again.unresolved;
    for (const endpoint of again.endpoints) {
      await socketFor(endpoint.family);
      if (closed) return;
      const entry = [...config.servers, ...config.pools].find((u) =>
        u.host === endpoint.name && u.port === endpoint.port
      )!;
      nextAssociationId = Math.max(nextAssociationId, endpoint.associationId + 1);
      byAddress.set(`${endpoint.hostname}|${endpoint.port}`, endpoint);
      byId.set(endpoint.associationId, endpoint);
      const out = addAssociation(keeper, associationConfigOf(entry, endpoint), {
        monotonicSeconds: monotonicSeconds(),
      });
      keeper = out.state;
      logger.info(`${endpoint.name} resolved to ${endpoint.hostname}: polling it`);
      apply(out.actions);
    }
    if (unresolved.length > 0) scheduleResolution();
  };
  const scheduleResolution = () => {
    resolveTimer = setTimeout(
      () => void retryResolution(),
      (options.resolveRetrySeconds ?? resolveRetrySeconds) * 1000,
    );
  };
  if (unresolved.length > 0) scheduleResolution();

  if (config.pick.candidatesFile !== null) {
    logger.info(
      `servers unanswered for ${config.pick.replaceAfterPolls} polls are replaced from ${config.pick.candidatesFile}`,
    );
  }
  if (endpoints.length > 0) {
    logger.info(`polling ${endpoints.map((e) => nameOf(e.associationId)).join(", ")}`);
  }
  apply(created.actions);

  // Our source address toward each upstream, learnt once per address (a route lookup).
  const localAddresses = new Map<string, string | null>();
  const localAddressOf = (endpoint: UpstreamEndpointInfo): string | null => {
    const key = `${endpoint.hostname}|${endpoint.port}`;
    if (!localAddresses.has(key)) localAddresses.set(key, localAddressFor(endpoint));
    return localAddresses.get(key) ?? null;
  };

  return {
    synchronised: () => synchronisedState(keeper, { monotonicSeconds: monotonicSeconds() }),
    view: () => {
      const now = { monotonicSeconds: monotonicSeconds() };
      return {
        system: systemStatus(keeper, now),
        associations: associationStatuses(keeper, now).map((a) => {
          const endpoint = byId.get(a.associationId)!;
          return {
            ...a,
            endpoint,
            local: {
              address: localAddressOf(endpoint),
              port: sockets.get(endpoint.family)?.localPort ?? 0,
            },
          };
        }),
        clockKind: clock.kind,
      };
    },
    close: async () => {
      if (closed) return;
      checkDrift(true);
      closed = true;
      await replacement?.close();
      if (timer !== undefined) clearTimeout(timer);
      if (resolveTimer !== undefined) clearTimeout(resolveTimer);
      await Promise.all(
        [...opening.values()].map((socket) => socket.then((s) => s.close(), () => {})),
      );
      await Promise.all(pendingWrites);
    },
  };
}

/** Refids of the explicit (non-wildcard) listen addresses, for loop detection. */
export function listenReferenceIds(listen: readonly { hostname: string }[]): number[] {
  return listen
    .filter((l) => l.hostname !== "0.0.0.0" && l.hostname !== "::")
    .map((l) => refidFromAddress(ipBytes(l.hostname)));
}
