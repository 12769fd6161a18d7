// Checks across entries: duplicate upstreams, conflicting restrict rules, tos limits, too few servers.
import type { RestrictConfig, TosConfig, UpstreamConfig } from "./ntp_config.ts";
import type { Reporter } from "./reporter.ts";

/** The resolved parts the cross checks look at; null entries had errors of their own. */
export interface CrossCheckInput {
  readonly servers: readonly (UpstreamConfig | null)[];
  readonly pools: readonly (UpstreamConfig | null)[];
  readonly restrict: readonly (RestrictConfig | null)[];
  readonly tos: TosConfig;
  /** Whether a [tos] table was written (checks on defaults alone are pointless). */
  readonly hasTosTable: boolean;
}

/** The NTP pool's advice: at least this many servers, so one falseticker can be outvoted. */
export const recommendedServerCount = 4;

function checkDuplicateUpstreams(input: CrossCheckInput, reporter: Reporter): void {
  const seen = new Map<string, string>();
  const visit = (list: readonly (UpstreamConfig | null)[], name: string): void => {
    list.forEach((upstream, index) => {
      if (upstream === null) return;
      const path = `${name}[${index}]`;
      const key = `${upstream.host} ${upstream.port}`;
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, path);
        return;
      }
      const shown = upstream.port === 123
        ? upstream.host
        : `${upstream.host} port ${upstream.port}`;
      reporter.error(
        `${path}.address`,
        `duplicate ${name}: ${shown} is already configured at line ${reporter.lineOf(first)}`,
      );
    });
  };
  visit(input.servers, "server");
  visit(input.pools, "pool");
}

function restrictKeys(rule: RestrictConfig): string[] {
  if (rule.kind === "default") {
    return rule.family === null ? ["4 default", "6 default"] : [`${rule.family} default`];
  }
  return [`${rule.family} ${rule.network}/${rule.prefixLength}`];
}

function checkRestrictConflicts(input: CrossCheckInput, reporter: Reporter): void {
  const seen = new Map<string, { path: string; flags: readonly string[] }>();
  input.restrict.forEach((rule, index) => {
    if (rule === null) return;
    const path = `restrict[${index}]`;
    const reported = new Set<string>();
    for (const key of restrictKeys(rule)) {
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, { path, flags: rule.flags });
        continue;
      }
      if (reported.has(first.path)) continue;
      reported.add(first.path);
      const line = reporter.lineOf(first.path);
      const same = first.flags.join(" ") === rule.flags.join(" ");
      const show = (flags: readonly string[]): string =>
        flags.length === 0 ? "(none)" : flags.join(" ");
      if (same) {
        reporter.warning(
          path,
          `repeats the restrict rule at line ${line} for the same address and mask`,
        );
      } else {
        reporter.error(
          path,
          `conflicts with the restrict rule at line ${line} for the same address and mask: ` +
            `flags ${show(rule.flags)} here, ${show(first.flags)} there; merge them into one rule`,
        );
      }
    }
  });
}

/** Runs every cross-entry check, reporting through `reporter`. */
export function crossCheck(input: CrossCheckInput, reporter: Reporter): void {
  checkDuplicateUpstreams(input, reporter);
  checkRestrictConflicts(input, reporter);
  const { minClock, maxClock } = input.tos;
  if (input.hasTosTable && minClock > maxClock) {
    reporter.error(
      "tos.minclock",
      `minclock ${minClock} is greater than maxclock ${maxClock}; expected minclock <= maxclock`,
    );
  }
  const servers = input.servers.length;
  if (input.pools.length === 0 && servers < recommendedServerCount) {
    const advice =
      `the NTP pool advises at least ${recommendedServerCount} so that one bad server ` +
      `can be outvoted`;
    reporter.warning(
      servers > 0 ? "server[0]" : "",
      servers === 0
        ? `no server or pool configured; ${advice}`
        : `only ${servers} server${servers === 1 ? "" : "s"} configured; ${advice}`,
      { bare: true },
    );
  }
}
