// SIGHUP (`systemctl reload ntp`): re-reads the config file and applies what can change in place (upstreams, restrict rules, rate limits, log level); an invalid file is refused and the running config stays.
// The config modules one by one, not config/mod.ts: the daemon needs no TOML writer at start.
import { ConfigError, type Diagnostic, formatDiagnostic } from "../config/diagnostics.ts";
import { loadConfigFile } from "../config/load_config_file.ts";
import { toRateLimitPolicy } from "../config/rate_limit_policy.ts";
import { toRestrictRules } from "../config/restrict_rules.ts";
import type { NtpConfig } from "../config/ntp_config.ts";
import { planReload, type ReloadUpstream } from "../config/reload_plan.ts";
import { formatHostPort } from "../config/addresses.ts";
import type { ServerPolicy } from "../core/server/types.ts";
import { log, setLogLevel } from "./logging.ts";
import type { TimeKeeping } from "./time_keeping.ts";

/** What one reload did. */
export type ReloadOutcome =
  | {
    readonly kind: "applied";
    /** What changed, one phrase each ("2 upstreams added", ...); empty when nothing did. */
    readonly applied: readonly string[];
    /** Changed keys that wait for a restart. */
    readonly needsRestart: readonly string[];
  }
  /** The new file has errors (each logged with file:line:col); nothing changed. */
  | { readonly kind: "refused"; readonly diagnostics: readonly Diagnostic[] }
  /** The daemon runs on built-in defaults: there is no file to read again. */
  | { readonly kind: "noFile" };

/** What a reload acts on. */
export interface ReloadTargets {
  /** The config file the daemon started from (null: built-in defaults). */
  readonly path: string | null;
  /** The config the daemon started with. */
  readonly started: NtpConfig;
  /** The log level came from `--log-level`: the file's level is not applied. */
  readonly logLevelFromFlag: boolean;
  /**
   * Keys the file does not decide while this process runs (a flag or socket activation set them:
   * "listen", "serve.workers", "serve.clock"): a change there is not reported as waiting for a
   * restart.
   */
  readonly overridden: readonly string[];
  readonly responders: { updatePolicy(policy: ServerPolicy): void };
  /** The statistics files: reopened as the new config says. */
  readonly statistics?: {
    reconfigure(config: Pick<NtpConfig, "statsDir" | "statistics">): void;
  };
  /** The time keeping once it runs (null before: upstream changes wait for the next reload). */
  readonly timeKeeping: () => Pick<TimeKeeping, "reconfigure"> | null;
  /** Reads the file; default loadConfigFile without path checks (as at start). */
  readonly load?: (path: string) => Promise<NtpConfig>;
}

const logger = log("reload");

/** An upstream as the config names it: "pool.ntp.org", "192.0.2.1:1123" (port when not 123). */
function named(entry: ReloadUpstream): string {
  const { host, port } = entry.upstream;
  return formatHostPort(host, port === 123 ? null : port);
}

/**
 * A reloader: each `reload()` reads the file again and applies it; calls are queued, one at a
 * time. The config applied last is the base of the next comparison; keys that need a restart are
 * compared with the config the daemon started with, so they are reported until the restart.
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "../config/ntp_config.ts";
 * import type { Responders } from "./responders.ts";
 * declare const started: NtpConfig;
 * declare const responders: Responders;
 * const reloader = createConfigReloader({
 *   path: "/etc/ntp/ntp.toml", started, logLevelFromFlag: false, overridden: [], responders,
 *   timeKeeping: () => null,
 * });
 * const outcome = await reloader.reload();
 * if (outcome.kind === "refused") console.log("kept the running config");
 * ```
 */
export function createConfigReloader(targets: ReloadTargets): {
  reload(): Promise<ReloadOutcome>;
} {
  let current = targets.started;
  let queue: Promise<unknown> = Promise.resolve();
  const load = targets.load ?? ((path: string) =>
    loadConfigFile(path, {
      checkPaths: false,
      onWarning: (d) => logger.warn(formatDiagnostic(d)),
    }));

  const reloadOnce = async (): Promise<ReloadOutcome> => {
    const path = targets.path;
    if (path === null) {
      logger.warn("SIGHUP: the daemon runs on built-in defaults, there is no config file to read");
      return { kind: "noFile" };
    }
    let next: NtpConfig;
    try {
      next = await load(path);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const d of error.diagnostics) {
        if (d.severity === "error") logger.error(formatDiagnostic(d));
        else logger.warn(formatDiagnostic(d));
      }
      logger.error(
        `config ${path} not reloaded: it has errors (see \`ntp config check ${path}\`); ` +
          "the running config stays in force",
      );
      return { kind: "refused", diagnostics: error.diagnostics };
    }
    const plan = planReload(current, next);
    const applied: string[] = [];
    let policyApplied = true;
    if (plan.restrictChanged || plan.rateLimitChanged) {
      try {
        targets.responders.updatePolicy({
          restrict: toRestrictRules(next),
          rateLimit: toRateLimitPolicy(
            current.discard.monitorEntries === next.discard.monitorEntries ? next : {
              ...next,
              discard: { ...next.discard, monitorEntries: current.discard.monitorEntries },
            },
          ),
        });
        if (plan.restrictChanged) applied.push(`${next.restrict.length} restrict rules in force`);
        if (plan.rateLimitChanged) applied.push("new rate limits (discard) in force");
      } catch (error) {
        policyApplied = false;
        logger.error(
          `restrict rules and rate limits not reloaded (the running ones stay): ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      }
    }
    if (plan.statisticsChanged && targets.statistics !== undefined) {
      // At once: the sets let go finish their last lines in the background.
      targets.statistics.reconfigure(next);
      applied.push(
        next.statistics.length === 0 || next.statsDir === null
          ? "no statistics files written"
          : `statistics ${
            next.statistics.filter((s) => s.kind !== "clockstats").map((s) => s.kind).join(", ")
          } to ${next.statsDir}`,
      );
    }
    if (plan.logLevel !== null && !targets.logLevelFromFlag) {
      setLogLevel(plan.logLevel);
      applied.push(`log level ${plan.logLevel}`);
    }
    const timeKeeping = targets.timeKeeping();
    const upstreamsChanged = plan.upstreamsAdded.length + plan.upstreamsRemoved.length > 0;
    if (upstreamsChanged && timeKeeping !== null) {
      await timeKeeping.reconfigure(next, {
        added: plan.upstreamsAdded,
        removed: plan.upstreamsRemoved,
      });
      if (plan.upstreamsAdded.length > 0) {
        applied.push(
          `upstreams added: ${plan.upstreamsAdded.map(named).join(", ")}`,
        );
      }
      if (plan.upstreamsRemoved.length > 0) {
        applied.push(
          `upstreams removed: ${plan.upstreamsRemoved.map(named).join(", ")}`,
        );
      }
    }
    // What was not applied stays as it runs, so the next reload compares against that.
    current = {
      ...next,
      ...(policyApplied
        ? { discard: { ...next.discard, monitorEntries: current.discard.monitorEntries } }
        : { discard: current.discard, restrict: current.restrict }),
      ...(upstreamsChanged && timeKeeping === null
        ? { servers: current.servers, pools: current.pools }
        : {}),
    };
    const needsRestart = planReload(targets.started, next).needsRestart.filter((key) =>
      !targets.overridden.includes(key)
    );
    logger.info(
      `config ${path} reloaded: ${applied.length === 0 ? "nothing to change" : applied.join("; ")}`,
    );
    if (needsRestart.length > 0) {
      logger.warn(
        `changed in ${path} but NOT applied until a restart (\`systemctl restart ntp\`): ${
          needsRestart.join(", ")
        }`,
      );
    }
    return { kind: "applied", applied, needsRestart };
  };

  return {
    reload: () => {
      const run = queue.then(reloadOnce);
      queue = run.catch(() => {});
      return run;
    },
  };
}

/**
 * Reloads on every SIGHUP until disposed, with the reloader `current()` returns. While it returns
 * null (the daemon is still starting, the file may already have been read) a SIGHUP is noted:
 * call the returned `started()` once the reloader is there and it reloads once then. Installed
 * first thing, so that an early SIGHUP never ends the process (its default action). A failure
 * inside a reload is logged, never thrown.
 *
 * @example
 * ```ts
 * declare const reloader: ReturnType<typeof createConfigReloader>;
 * using hangup = reloadOnHangup(() => reloader);
 * hangup.started();
 * ```
 */
export function reloadOnHangup(
  current: () => { reload(): Promise<ReloadOutcome> } | null,
): Disposable & { started(): void } {
  let pending = false;
  const reload = () => {
    const reloader = current();
    if (reloader === null) return false;
    reloader.reload().catch((error) =>
      logger.error(`config reload failed: ${error instanceof Error ? error.message : error}`)
    );
    return true;
  };
  const onHangup = () => {
    if (current() === null) {
      pending = true;
      logger.info("SIGHUP during start: the config is read again once the daemon runs");
      return;
    }
    logger.info("SIGHUP received: reading the config again");
    reload();
  };
  Deno.addSignalListener("SIGHUP", onHangup);
  return {
    started: () => {
      if (pending && reload()) pending = false;
    },
    [Symbol.dispose]: () => Deno.removeSignalListener("SIGHUP", onHangup),
  };
}
