// Doctor check: the config file exists and loads (its errors and warnings, as `ntp config check` reports them).
import { fail, type Finding, ok, warn } from "./finding.ts";

/** What the doctor learnt about the config file. */
export interface ConfigFacts {
  /** The file checked, or null when none was given and no default file exists. */
  readonly path: string | null;
  /** The default paths tried when no file was given. */
  readonly searched: readonly string[];
  /** The errors, as "line N: message". */
  readonly errors: readonly string[];
  /** The warnings, as "line N: message". */
  readonly warnings: readonly string[];
  /** Upstreams configured ([[server]] + [[pool]] entries), when it loaded. */
  readonly upstreamCount: number;
}

/**
 * The config finding: FAIL with the first error when the file does not load, WARN when there is
 * no file (built-in defaults: no upstreams) or it has warnings, else OK.
 *
 * @example
 * ```ts
 * checkConfig({ path: "/etc/ntp/ntp.toml", searched: [], errors: [], warnings: [], upstreamCount: 4 });
 * // { status: "ok", check: "config", detail: "/etc/ntp/ntp.toml loads (4 upstreams)", fix: null }
 * ```
 */
export function checkConfig(facts: ConfigFacts): Finding {
  if (facts.path === null) {
    return warn(
      "config",
      `no config file: none of ${facts.searched.join(", ")} exists, so ntp serve runs on ` +
        "built-in defaults (no upstreams)",
      "write /etc/ntp/ntp.toml (see README, or convert an old file: ntp config import /etc/ntp.conf), " +
        "or pass --config FILE",
    );
  }
  if (facts.errors.length > 0) {
    const more = facts.errors.length > 1 ? ` (and ${facts.errors.length - 1} more)` : "";
    return fail(
      "config",
      `${facts.path} does not load: ${facts.errors[0]}${more}`,
      `correct the file; ntp config check ${facts.path} lists every problem`,
    );
  }
  const upstreams = `${facts.upstreamCount} upstream${facts.upstreamCount === 1 ? "" : "s"}`;
  if (facts.warnings.length > 0) {
    const more = facts.warnings.length > 1 ? ` (and ${facts.warnings.length - 1} more)` : "";
    return warn(
      "config",
      `${facts.path} loads (${upstreams}) with a warning: ${facts.warnings[0]}${more}`,
      `see ntp config check ${facts.path}`,
    );
  }
  return ok("config", `${facts.path} loads (${upstreams})`);
}
