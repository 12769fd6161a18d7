// The `ntp serve` daemon: loads the config, starts the responders, publishes what they advertise
// every second, and stops cleanly on SIGINT/SIGTERM. No algorithms live here.
import { ConfigError, formatDiagnostic, loadConfigFile, parseConfigText } from "../config/mod.ts";
import { toRateLimitPolicy, toRestrictRules, workerCount } from "../config/mod.ts";
import type { ListenAddress, NtpConfig } from "../config/ntp_config.ts";
import { parseHostPort } from "../config/addresses.ts";
import { systemSnapshot } from "../core/discipline/system_state.ts";
import type { OrphanSettings } from "../core/discipline/system_state.ts";
import { ntpFromUnix } from "../core/time/ntp_timestamp.ts";
import { Capability, hasCapability } from "../io/capabilities.ts";
import type { ClockDriver } from "../io/clock_driver.ts";
import type { SoftClockDriver } from "../io/clock_soft.ts";
import type { KernelClockDriver } from "../io/clock_kernel.ts";
import { ClockChoiceError, selectClockDriver } from "../io/select_clock_driver.ts";
import type { ServeOptions } from "../cli/serve_command.ts";
import { UsageError } from "../cli/errors.ts";
import { BindError, startResponders } from "./responders.ts";
import { attachControlServer } from "./control_server.ts";
import { controlViewOf } from "./control_view_of.ts";
import { MetricsBindError, type MetricsServer, startMetricsServer } from "./metrics_server.ts";
import type { SystemSnapshot } from "../core/server/types.ts";
import { attachLogFile, log, setLogLevel, setupLogging, shutdownLogging } from "./logging.ts";
import { startPeriodicReports } from "./periodic_reports.ts";
import { listenReferenceIds, monotonicSeconds, startTimeKeeping } from "./time_keeping.ts";

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

/** Config files tried, in order, when `--config` is not given. */
export const defaultConfigPaths: readonly string[] = ["/etc/ntp/ntp.toml", "/etc/ntp.conf"];

/** How often the published system snapshot is refreshed. */
const publishIntervalMs = 1000;

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Parses `--listen` values; throws UsageError naming the flag and the value. */
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
  const path = options.configPath ?? defaultConfigPaths.find(fileExists) ?? null;
  if (path === null) {
    log("config").warn(
      `no config file given and none of ${
        defaultConfigPaths.join(", ")
      } exists; using built-in defaults`,
    );
    return { config: parseConfigText("", { fileName: "<defaults>", format: "toml" }), path };
  }
  // Missing state/log directories are reported by the code that writes there (and by
  // `ntp config check`), so a fresh machine can still serve time.
  return { config: await loadConfigFile(path, { onWarning, checkPaths: false }), path };
}

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
 * Runs the daemon until SIGINT or SIGTERM. Returns the exit code: 0 after a clean stop,
 * 1 when the config is invalid or a listen address cannot be bound.
 */
export async function runServe(options: ServeOptions): Promise<number> {
  // Until the config is read: the flag's level, else info; then the config's unless the flag was given.
  await setupLogging({ level: options.logLevel ?? "info" });
  try {
    return await serve(options);
  } finally {
    await shutdownLogging();
  }
}

async function serve(options: ServeOptions): Promise<number> {
  const logger = log("serve");
  const listenOverride = parseListenFlags(options.listen);
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
  const listen = listenOverride.length > 0 ? listenOverride : config.listen;
  const workers = options.workers ??
    workerCount(config, { cpuCount: navigator.hardwareConcurrency });
  const orphan: OrphanSettings | null = config.tos.orphanStratum < 16
    ? { stratum: config.tos.orphanStratum, waitSeconds: config.tos.orphanWaitSeconds }
    : null;
  let clock: ClockDriver;
  try {
    const selection = selectClockDriver(
      options.clock === "auto" ? config.serve.clock : options.clock,
      { holdsSysTime: hasCapability(Capability.sysTime) },
    );
    clock = selection.driver;
    logger.info(`ntp 0.1.0 starting: config ${path ?? "<defaults>"}; ${selection.reason}`);
  } catch (error) {
    if (!(error instanceof ClockChoiceError)) throw error;
    logger.error(error.message);
    return 1;
  }
  let responders;
  try {
    responders = await startResponders({
      listen,
      workers,
      restrict: toRestrictRules(config),
      rateLimit: toRateLimitPolicy(config),
      ...(options.io !== undefined ? { io: options.io } : {}),
    });
  } catch (error) {
    if (!(error instanceof BindError)) throw error;
    logger.error(error.message);
    return 1;
  }
  const bound = responders.addresses
    .map((a) => (a.family === 6 ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`))
    .join(", ");
  logger.info(
    `serving on ${bound} (${responders.io} I/O, ${workers} worker${
      workers === 1 ? "" : "s"
    }, precision 2^${responders.precisionLog2} s)`,
  );

  if (isKernel(clock)) clock.initialise();
  const startedMonotonic = monotonicSeconds();
  let published: SystemSnapshot | null = null;
  let lastMode: "unsynchronised" | "orphan" | "synchronised" | null = null;
  let timeKeeping: Awaited<ReturnType<typeof startTimeKeeping>> | null = null;
  const publish = () => {
    const now = clock.now();
    const synchronised = timeKeeping?.synchronised();
    const snapshot = systemSnapshot({
      uptimeSeconds: monotonicSeconds() - startedMonotonic,
      now: ntpFromUnix(now.unixSeconds, now.nanoseconds),
      precisionLog2: responders.precisionLog2,
      ...(synchronised ? { synchronised } : {}),
    }, orphan);
    responders.publish({ ...snapshot, ...(isSoft(clock) ? clock.snapshotFields() : {}) });
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
  const minPollLog2 = Math.min(
    6,
    ...[...config.servers, ...config.pools].map((u) => u.minPollLog2),
  );
  const controlView = () =>
    controlViewOf(published!, timeKeeping?.view() ?? null, {
      uptimeSeconds: monotonicSeconds() - startedMonotonic,
      counters: responders.counters(),
      minPollLog2,
    });
  const recentClients = cachedWhileUsed({
    idleSeconds: recentClientsIdleSeconds,
    maxAgeSeconds: recentClientsMaxAgeSeconds,
  }, {
    now: monotonicSeconds,
    compute: () => responders.recentClients(maxRecentClients),
  });
  // The client list is built only when a READ_MRU asks for it (a getter).
  const control = attachControlServer(responders, {
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
  let metrics: MetricsServer | null = null;
  if (config.metrics.listen !== null) {
    try {
      metrics = startMetricsServer({
        listen: config.metrics.listen,
        view: controlView,
        onError: (error) => log("metrics").error(`scrape failed: ${error}`),
      });
    } catch (error) {
      if (!(error instanceof MetricsBindError)) throw error;
      logger.error(error.message);
      control.close();
      await responders.close();
      return 1;
    }
    logger.info(`Prometheus metrics on ${metrics.url}`);
  }
  timeKeeping = await startTimeKeeping({
    config,
    clock,
    precisionLog2: responders.precisionLog2,
    onChange: publish,
    localReferenceIds: listenReferenceIds(responders.addresses),
  });
  publish();
  const timer = setInterval(publish, publishIntervalMs);
  const reports = startPeriodicReports({
    counters: () => responders.counters(),
    frequencyPpm: () => {
      const system = timeKeeping?.view().system;
      return system?.synchronised ? system.frequencyPpm : null;
    },
  });

  const signal = await waitForStopSignal();
  clearInterval(timer);
  logger.info(`${signal} received, stopping`);
  await timeKeeping.close();
  await metrics?.close();
  control.close();
  reports.stop();
  await responders.close();
  logger.info("stopped");
  return 0;
}
