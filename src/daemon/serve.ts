// The `ntp serve` daemon: load the config, start each part onto one resource stack (responders, control server, metrics, time keeping, publishing, reports), wait for SIGINT/SIGTERM, then release the stack in reverse. Every error path releases everything started so far. No algorithms live here.
import { DEFAULT_CONFIG_PATHS } from "../config/default_paths.ts";
// The config modules one by one, not config/mod.ts: the daemon needs no TOML writer at start.
import { ConfigError, formatDiagnostic } from "../config/diagnostics.ts";
import { loadConfigFile } from "../config/load_config_file.ts";
import { parseConfigText } from "../config/parse_config.ts";
import { toRateLimitPolicy } from "../config/rate_limit_policy.ts";
import { toRestrictRules } from "../config/restrict_rules.ts";
import { type ListenAddress, type NtpConfig, workerCount } from "../config/ntp_config.ts";
import { formatHostPort } from "../config/addresses.ts";
import { systemSnapshot } from "../core/discipline/system_state.ts";
import type { OrphanSettings } from "../core/discipline/system_state.ts";
import type { SystemSnapshot } from "../core/server/types.ts";
import { ntpFromUnix } from "../core/time/ntp_timestamp.ts";
import { PROGRAM_VERSION } from "../core/version.ts";
import { Capability, hasCapability } from "../io/capabilities.ts";
import type { ClockDriver } from "../io/clock_driver.ts";
import type { KernelClockDriver } from "../io/clock_kernel.ts";
import type { SoftClockDriver } from "../io/clock_soft.ts";
import { ClockChoiceError, selectClockDriver } from "../io/select_clock_driver.ts";
import { attachControlServer } from "./control_server.ts";
import { controlViewOf } from "./control_view_of.ts";
import { LeapFileWatch } from "./leap_file_watch.ts";
import { decideLeap } from "../core/leap/leap_decision.ts";
import {
  emptyLeapWindow,
  observeLeapAnnouncement,
  pendingLeapUnixSeconds,
} from "../core/leap/leap_window.ts";
import { kernelLeapBits, SoftLeapSecond } from "./soft_leap.ts";
import { leapSmearFor, smearOffsetSeconds } from "../core/leap/leap_smear.ts";
import { monotonicSeconds } from "./daemon_time.ts";
import { attachLogFile, log, setLogLevel, setupLogging, shutdownLogging } from "./logging.ts";
import { MetricsBindError } from "./metrics_bind_error.ts";
import { loadLater } from "../io/load_later.ts";
import type { MetricsServer, MetricsServerOptions } from "./metrics_server.ts";
import { startPeriodicReports } from "./periodic_reports.ts";
import { BindError, defaultIoBackend, startResponders } from "./responders.ts";
import { takeSystemdSockets } from "../io/listen_fds.ts";
import { activatedListen, SocketActivationError } from "./socket_activation.ts";
import { InheritedSocketError, ListenSetupError } from "../io/listen_setup_error.ts";
import type { ServeOptions } from "./serve_options.ts";
import { listenReferenceIds } from "./listen_reference_ids.ts";
import type { startTimeKeeping } from "./time_keeping.ts";
import { UpstreamSocketError } from "./upstream_socket_error.ts";
import { NtsStartError } from "./nts_start_error.ts";
import type { NtsService } from "./nts_service.ts";
import { createConfigReloader, reloadOnHangup } from "./config_reload.ts";
import { Statistics } from "./statistics.ts";
import { serverCountersFromRecord } from "../core/control/control_view.ts";
import { createCookieKeyBuffer } from "../io/nts_key_buffer.ts";

export type { ServeOptions } from "./serve_options.ts";

/** Most clients `ntpq -c mrulist` is shown (the most recently seen; ntpd keeps fewer by default). */
const maxRecentClients = 100_000;
/**
 * One copy of the recent-client list answers READ_MRU requests while they keep coming (at most
 * this many seconds apart) for up to {@link recentClientsMaxAgeSeconds}: the many requests of one
 * `ntpq -c mrulist` then page through one unchanging list, instead of a live one whose entries
 * move while ntpq holds them as continuation points.
 */
const recentClientsIdleSeconds = 3;
const recentClientsMaxAgeSeconds = 60;

/** How often the published system snapshot is refreshed. */
const publishIntervalMs = 1000;

/** A value kept while it is used at most `idleSeconds` apart, and for at most `maxAgeSeconds`. */
function cachedWhileUsed<T>(
  lifetime: { readonly idleSeconds: number; readonly maxAgeSeconds: number },
  source: { readonly now: () => number; readonly compute: () => T },
): () => T {
  let value: T | undefined;
  let computedAt = -Infinity;
  let usedAt = -Infinity;
  return () => {
    const now = source.now();
    if (
      value === undefined || now - usedAt > lifetime.idleSeconds ||
      now - computedAt > lifetime.maxAgeSeconds
    ) {
      value = source.compute();
      computedAt = now;
    }
    usedAt = now;
    return value;
  };
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function isSoft(clock: ClockDriver): clock is SoftClockDriver {
  return clock.kind === "soft";
}

function isKernel(clock: ClockDriver): clock is KernelClockDriver {
  return clock.kind === "kernel";
}

async function loadConfig(
  options: ServeOptions,
): Promise<{ config: NtpConfig; path: string | null }> {
  const onWarning = (d: Parameters<typeof formatDiagnostic>[0]) =>
    log("config").warn(formatDiagnostic(d));
  const path = options.configPath ?? DEFAULT_CONFIG_PATHS.find(fileExists) ?? null;
  if (path === null) {
    log("config").warn(
      `no config file given and none of ${
        DEFAULT_CONFIG_PATHS.join(", ")
      } exists; using built-in defaults`,
    );
    return { config: parseConfigText("", { fileName: "<defaults>", format: "toml" }), path };
  }
  // Missing state/log directories are reported by the code that writes there (and by
  // `ntp config check`), so a fresh machine can still serve time.
  return { config: await loadConfigFile(path, { onWarning, checkPaths: false }), path };
}

/** Resolves with the first of SIGINT or SIGTERM; both listeners are removed then. */
function waitForStopSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}

/**
 * Takes SIGINT and SIGTERM while the parts start: without it one would end the process by its
 * default action (exit 130 or 143, files and sockets as they are). The first is recorded and the
 * daemon stops cleanly once started; a second one during the start (a start that hangs) exits at
 * once with 128 + the signal's number, as the default action would. `handOver()` returns the
 * recorded signal, if any; dispose after waitForStop's own listeners are in place, not before
 * (removing the last listener and adding one anew would leave a gap with the default action).
 */
function stopSignalsDuringStart(): Disposable & { handOver(): Deno.Signal | null } {
  let received: Deno.Signal | null = null;
  let handedOver = false;
  let removed = false;
  const numbers = { SIGINT: 2, SIGTERM: 15 } as const;
  const signals = Object.keys(numbers) as (keyof typeof numbers)[];
  const handlers = signals.map((signal) => {
    const handler = () => {
      if (handedOver) return;
      if (received !== null) {
        log("serve").warn(`${signal} again during start: exiting now`);
        Deno.exit(128 + numbers[signal]);
      }
      received = signal;
      log("serve").info(`${signal} during start: stopping once started`);
    };
    Deno.addSignalListener(signal, handler);
    return handler;
  });
  return {
    handOver() {
      handedOver = true;
      return received;
    },
    [Symbol.dispose]: () => {
      if (removed) return;
      removed = true;
      signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
    },
  };
}

/**
 * The parts `serve` starts, replaceable in tests (to count what is released when one fails).
 * Each returns something to close; `waitForStop` resolves when the daemon should stop.
 */
export interface ServeParts {
  readonly startResponders: typeof startResponders;
  readonly attachControlServer: typeof attachControlServer;
  /** Loads the metrics module (and prom-client) only when [metrics] is on. */
  readonly startMetricsServer: (options: MetricsServerOptions) => Promise<MetricsServer>;
  /**
   * Loads the time keeping (upstreams, discipline: 48 modules) once the responders
   * answer, so the first replies need not wait for it.
   */
  readonly startTimeKeeping: typeof startTimeKeeping;
  readonly startPeriodicReports: typeof startPeriodicReports;
  /** Loads the NTS modules (and OpenSSL) only when [nts] is enabled. */
  readonly startNtsService: (
    ...args: Parameters<typeof import("./nts_service.ts").startNtsService>
  ) => Promise<NtsService>;
  readonly waitForStop: () => Promise<string>;
}

/** The real parts. */
const realParts: ServeParts = {
  startResponders,
  attachControlServer,
  startMetricsServer: async (options) =>
    (await loadLater<typeof import("./metrics_server.ts")>(
      new URL("./metrics_server.ts", import.meta.url),
    )).startMetricsServer(options),
  startTimeKeeping: async (...args) =>
    (await loadLater<typeof import("./time_keeping.ts")>(
      new URL("./time_keeping.ts", import.meta.url),
    )).startTimeKeeping(...args),
  startPeriodicReports,
  startNtsService: async (...args) =>
    (await loadLater<typeof import("./nts_service.ts")>(
      new URL("./nts_service.ts", import.meta.url),
    )).startNtsService(...args),
  waitForStop: waitForStopSignal,
};

/**
 * Runs the daemon until SIGINT or SIGTERM. Returns the exit code: 0 after a clean stop,
 * 1 when the config is invalid or a listen address cannot be bound.
 *
 * @example
 * ```ts
 * Deno.exit(await runServe({ listen: [], clock: "soft" }));
 * ```
 */
export async function runServe(
  options: ServeOptions,
  parts: Partial<ServeParts> = {},
): Promise<number> {
  // Until the config is read: the flag's level, else info; then the config's unless the flag was given.
  setupLogging({ level: options.logLevel ?? "info" });
  try {
    return await serve(options, { ...realParts, ...parts });
  } finally {
    shutdownLogging();
  }
}

/** Errors a start can end with that are the user's to fix: logged as they are, exit 1. */
function isStartError(error: unknown): error is Error {
  return error instanceof BindError || error instanceof MetricsBindError ||
    error instanceof ClockChoiceError || error instanceof UpstreamSocketError ||
    error instanceof NtsStartError || error instanceof ListenSetupError ||
    error instanceof SocketActivationError || error instanceof InheritedSocketError;
}

async function serve(options: ServeOptions, parts: ServeParts): Promise<number> {
  const logger = log("serve");
  // SIGHUP would end the process (its default action) until the reloader is in place.
  let reloader: ReturnType<typeof createConfigReloader> | null = null;
  using hangup = reloadOnHangup(() => reloader);
  using startSignals = stopSignalsDuringStart();
  let loaded;
  try {
    loaded = await loadConfig(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const d of error.diagnostics) console.error(formatDiagnostic(d));
    logger.error("refusing to start: the config has errors (see `ntp config check`)");
    return 1;
  }
  const { config, path } = loaded;
  if (options.logLevel === undefined) setLogLevel(config.serve.logLevel);
  const logFile = attachLogFile(config.logFile);
  if (!logFile.ok) {
    logger.warn(`cannot write the log file: ${logFile.message}; logging to stderr only`);
  }
  try {
    await using stack = new AsyncDisposableStack();
    reloader = await startParts(stack, { options, config, path, parts });
    // No await from the hand-over until waitForStop's listeners are in place, and the start's
    // listeners go only after them: no signal falls in between. Removing them then gives a second
    // SIGINT/SIGTERM during the stop its default action again (a stop that hangs can be ended).
    const recorded = startSignals.handOver();
    const stop = recorded === null ? parts.waitForStop() : Promise.resolve(recorded);
    startSignals[Symbol.dispose]();
    // A SIGHUP during start is read now, unless the daemon is about to stop anyway.
    if (recorded === null) hangup.started();
    const signal = await stop;
    logger.info(`${signal} received, stopping`);
  } catch (error) {
    if (!isStartError(error)) throw error;
    logger.error(error.message);
    return 1;
  }
  logger.info("stopped");
  return 0;
}

/**
 * Starts every part onto `stack`, in order; the stack releases them in reverse. Returns the
 * config reloader (SIGHUP) over the running parts.
 */
async function startParts(
  stack: AsyncDisposableStack,
  context: {
    readonly options: ServeOptions;
    readonly config: NtpConfig;
    readonly path: string | null;
    readonly parts: ServeParts;
  },
): Promise<ReturnType<typeof createConfigReloader>> {
  const { options, config, path, parts } = context;
  const logger = log("serve");
  const configuredListen = options.listen.length > 0 ? options.listen : config.listen;
  // systemd's sockets (ntp.socket), when it passed any, replace the configured addresses.
  const activated = activatedListen(takeSystemdSockets(), {
    io: options.io ?? defaultIoBackend(),
    configured: configuredListen,
  });
  for (const note of activated?.notes ?? []) {
    if (note.level === "warning") logger.warn(note.text);
    else logger.info(note.text);
  }
  const inherited = activated !== null && activated.listen.length > 0;
  const listen = inherited ? activated.listen : configuredListen;
  const workers = inherited
    ? 1
    : options.workers ?? workerCount(config, { cpuCount: navigator.hardwareConcurrency });
  const orphan: OrphanSettings | null = config.tos.orphanStratum < 16
    ? { stratum: config.tos.orphanStratum, waitSeconds: config.tos.orphanWaitSeconds }
    : null;
  const selection = selectClockDriver(
    options.clock === "auto" ? config.serve.clock : options.clock,
    { holdsSysTime: hasCapability(Capability.sysTime) },
  );
  const clock = selection.driver;
  logger.info(`${PROGRAM_VERSION} starting: config ${path ?? "<defaults>"}; ${selection.reason}`);

  // NTS: the cookie keys are published before the responders answer, the NTS-KE server
  // announces the NTP port they bound (read when a client asks, so port 0 works too).
  const ntsKeys = config.nts.enable ? createCookieKeyBuffer() : null;
  let ntpPort = listen[0]?.port ?? 123;
  let nts: NtsService | null = null;
  if (ntsKeys !== null) {
    const service = await parts.startNtsService(config.nts, {
      keyBuffer: ntsKeys,
      ntpPort: () => ntpPort,
    });
    nts = service;
    stack.defer(() => service.close());
  }
  /** The responders' counters with the NTS-KE server's merged in (ntsKe*). */
  const allCounters = (): Record<string, number> => {
    const counters = responders.counters();
    if (nts === null) return counters;
    const ke = nts.counters();
    return {
      ...counters,
      ntsKeConnections: ke.connections,
      ntsKeKeysIssued: ke.keysIssued,
      ntsKeCookiesIssued: ke.cookiesIssued,
      ntsKeOpen: ke.openConnections,
    };
  };
  // Leap smearing on some (or all) listen addresses; the daemon then steps the clock itself.
  const smearSeconds = config.leapSmear.intervalSeconds;
  const named = config.leapSmear.listen;
  const same = (a: ListenAddress, b: ListenAddress) =>
    a.hostname === b.hostname && a.port === b.port;
  const smearListen = listen.map((address) => ({
    ...address,
    smear: smearSeconds > 0 && (named === null || named.some((n) => same(n, address))),
  }));
  const smearing = smearListen.some((address) => address.smear);
  for (const lost of (named ?? []).filter((n) => !listen.some((a) => same(a, n)))) {
    logger.warn(
      `leapsmear.listen names ${formatHostPort(lost.hostname, lost.port)}, which is not ` +
        "listened on (--listen): it does not smear",
    );
  }
  if (smearing) {
    logger.info(
      `leap seconds are smeared over ${smearSeconds} s on ${
        smearListen.filter((a) => a.smear).map((a) => formatHostPort(a.hostname, a.port))
          .join(", ")
      }; the daemon steps the clock at a leap itself`,
    );
  }
  const responders = await parts.startResponders({
    listen: smearListen,
    workers,
    restrict: toRestrictRules(config),
    rateLimit: toRateLimitPolicy(config),
    ...(options.io !== undefined ? { io: options.io } : {}),
    ...(ntsKeys === null ? {} : { nts: { keyBuffer: ntsKeys } }),
  });
  stack.defer(() => responders.close());
  for (const missing of responders.missingFeatures) logger.warn(`responders: ${missing}`);
  ntpPort = responders.addresses[0]?.port ?? ntpPort;
  const bound = responders.addresses
    .map((a) => (a.family === 6 ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`))
    .join(", ");
  logger.info(
    `serving on ${bound} (${responders.io} I/O, ${workers} worker${
      workers === 1 ? "" : "s"
    }, precision 2^${responders.precisionLog2} s)`,
  );

  if (isKernel(clock)) clock.initialise();
  const servedUnixSeconds = () => {
    const now = clock.now();
    return now.unixSeconds + now.nanoseconds / 1e9;
  };
  const leapFile = await LeapFileWatch.start({
    configured: config.leapFile,
    nowUnixSeconds: servedUnixSeconds,
  });
  stack.defer(() => leapFile.close());
  const leapDecisions = leapDecider(leapFile, servedUnixSeconds);
  const leapDecision = leapDecisions.decide;
  // The kernel inserts or deletes a leap second itself (STA_INS/STA_DEL); the soft clock here,
  // and the kernel clock too while smearing (the smear ends in the same publication as the step).
  let steppedLeap: SoftLeapSecond | null = null;
  /** The smear of the leap the clock has armed (null: none, or smearing is off). */
  const currentSmear = () => leapSmearFor(steppedLeap?.pending() ?? null, smearSeconds);
  const startedMonotonic = monotonicSeconds();
  let published: SystemSnapshot | null = null;
  let lastMode: "unsynchronised" | "orphan" | "synchronised" | null = null;
  let timeKeeping: Awaited<ReturnType<typeof startTimeKeeping>> | null = null;
  const publish = () => {
    const now = clock.now();
    const voted = timeKeeping?.synchronised();
    // The leap bits served: the leap-seconds file, or the upstreams on June 30 / December 31.
    const synchronised = voted === undefined ? undefined : {
      ...voted,
      leap: leapDecision(voted.leap as 0 | 1 | 2),
    };
    // Unsynchronised (LI 3 served), a valid leap-seconds file still has the clock step the
    // leap, and a leap the upstreams announced before sync was lost stays armed (only
    // synchronised upstreams, or the file, withdraw it): a smear must not jump back and forth.
    if (synchronised !== undefined) steppedLeap?.announced(synchronised.leap as 0 | 1 | 2);
    else {
      const fromFile = leapDecision(0);
      if (fromFile !== 0) steppedLeap?.announced(fromFile);
    }
    const snapshot = systemSnapshot({
      uptimeSeconds: monotonicSeconds() - startedMonotonic,
      now: ntpFromUnix(now.unixSeconds, now.nanoseconds),
      precisionLog2: responders.precisionLog2,
      ...(synchronised ? { synchronised } : {}),
    }, orphan);
    responders.publish({
      ...snapshot,
      ...(isSoft(clock) ? clock.snapshotFields() : {}),
      smear: smearing ? currentSmear() : null,
    });
    published = snapshot;
    const mode = synchronised ? "synchronised" : snapshot.leap === 3 ? "unsynchronised" : "orphan";
    if (mode !== lastMode) {
      if (mode === "orphan") {
        logger.info(
          `no usable upstream: orphan mode, serving the local clock at stratum ${snapshot.stratum}`,
        );
      } else if (mode === "unsynchronised") {
        logger.info("not synchronised: answering with LI=3, stratum 16, refid INIT");
      }
      lastMode = mode;
    }
  };
  publish();
  if (isSoft(clock) || smearing) {
    // The kernel clock steps at once for every reader: publish `executing` first and let the
    // responders see it (a batch takes well under 20 ms) before stepping. The soft clock's step
    // and the smear's end are one publication anyway.
    const leap = new SoftLeapSecond(
      isKernel(clock)
        ? {
          clock,
          clockName: "kernel clock (stepped by the daemon while smearing)",
          onStep: publish,
          beforeStep: publish,
          settleMs: 20,
        }
        : { clock, onStep: publish },
    );
    steppedLeap = leap;
    stack.defer(() => leap.close());
  }

  const minPollLog2 = Math.min(
    6,
    ...[...config.servers, ...config.pools].map((u) => u.minPollLog2),
  );
  const controlView = () => {
    const now = servedUnixSeconds();
    const leap = leapFile.controlView(now);
    const smear = smearSeconds > 0
      ? {
        intervalSeconds: smearSeconds,
        offsetSeconds: smearOffsetSeconds(now, currentSmear()),
      }
      : undefined;
    return controlViewOf(published!, timeKeeping?.view() ?? null, {
      uptimeSeconds: monotonicSeconds() - startedMonotonic,
      counters: allCounters(),
      minPollLog2,
      ...(leap === undefined ? {} : { leapFile: leap }),
      ...(smear === undefined ? {} : { leapSmear: smear }),
    });
  };
  const recentClients = cachedWhileUsed({
    idleSeconds: recentClientsIdleSeconds,
    maxAgeSeconds: recentClientsMaxAgeSeconds,
  }, {
    now: monotonicSeconds,
    compute: () => responders.recentClients(maxRecentClients),
  });
  // The client list is built only when a READ_MRU asks for it (a getter).
  const control = parts.attachControlServer(responders, {
    view: () => {
      const view = controlView();
      return {
        system: view.system,
        peers: view.peers,
        get clients() {
          return recentClients();
        },
      };
    },
  });
  stack.defer(() => control.close());

  if (config.metrics.listen !== null) {
    const metrics = await parts.startMetricsServer({
      listen: config.metrics.listen,
      view: controlView,
      onError: (error) => log("metrics").error(`scrape failed: ${error}`),
    });
    stack.defer(() => metrics.close());
    logger.info(`Prometheus metrics on ${metrics.url}`);
  }

  const statistics = new Statistics({
    config,
    nowUnixSeconds: servedUnixSeconds,
    uptimeSeconds: () => monotonicSeconds() - startedMonotonic,
    counters: () => serverCountersFromRecord(allCounters()),
  });
  // Released after the time keeping (the stack runs backwards): its last lines are written.
  stack.defer(() => statistics.close());
  const running = await parts.startTimeKeeping({
    onReply: (reply) => statistics.reply(reply, () => timeKeeping?.view() ?? null),
    config,
    clock,
    precisionLog2: responders.precisionLog2,
    onChange: publish,
    localReferenceIds: listenReferenceIds(responders.addresses),
    // While smearing the kernel is not told (the daemon steps it): STA_INS would step it twice.
    decideLeap: kernelLeapBits(leapDecision, { smearing: smearing && isKernel(clock) }),
    leapUnixSeconds: leapDecisions.leapUnixSeconds,
  });
  timeKeeping = running;
  stack.defer(() => running.close());
  publish();
  const timer = setInterval(publish, publishIntervalMs);
  stack.defer(() => clearInterval(timer));
  const reports = parts.startPeriodicReports({
    counters: () => responders.counters(),
    frequencyPpm: () => {
      const system = running.view().system;
      return system.synchronised ? system.frequencyPpm : null;
    },
  });
  stack.defer(() => reports.stop());
  return createConfigReloader({
    path,
    started: config,
    logLevelFromFlag: options.logLevel !== undefined,
    overridden: [
      ...(inherited || options.listen.length > 0 ? ["listen"] : []),
      ...(inherited || options.workers !== undefined ? ["serve.workers"] : []),
      ...(options.clock !== "auto" ? ["serve.clock"] : []),
    ],
    responders,
    statistics,
    timeKeeping: () => running,
  });
}

/**
 * The leap decision of core/leap/leap_decision.ts over `leapFile` and the served clock, logging
 * each change of what is announced and each upstream vote set aside (once per change); and the
 * moment of the leap last announced, kept until 5 s after it (samples near it are dropped).
 */
function leapDecider(
  leapFile: LeapFileWatch,
  nowUnixSeconds: () => number,
): {
  readonly decide: (voted: 0 | 1 | 2) => 0 | 1 | 2;
  readonly leapUnixSeconds: () => number | null;
} {
  const logger = log("leap");
  let last = "0|";
  let window = emptyLeapWindow;
  const leapUnixSeconds = () => pendingLeapUnixSeconds(window, nowUnixSeconds());
  const decide = (voted: 0 | 1 | 2): 0 | 1 | 2 => {
    const unixSeconds = nowUnixSeconds();
    const decision = decideLeap({ voted, unixSeconds, file: leapFile.status(unixSeconds) });
    window = observeLeapAnnouncement(window, decision.announcement, unixSeconds);
    const said = `${decision.announcement}|${decision.ignored ?? ""}`;
    if (said !== last) {
      last = said;
      if (decision.ignored !== null) logger.warn(`leap second: ${decision.ignored}; ignored`);
      if (decision.announcement !== 0) {
        logger.info(
          `leap second announced (LI ${decision.announcement}, from the ${
            decision.source === "file" ? "leap-seconds file" : "upstreams"
          }): ${decision.announcement === 1 ? "inserted" : "deleted"} at the end of this UTC day`,
        );
      }
    }
    return decision.announcement;
  };
  return { decide, leapUnixSeconds };
}
