// Turns configured servers and pools into upstream endpoints: name resolution (hosts file, then DNS) and the association each endpoint gets.
import type { AssociationConfig } from "../core/client/association.ts";
import type { NtpConfig, UpstreamConfig } from "../config/ntp_config.ts";
import { ipBytes } from "../config/addresses.ts";
import type { resolveServerName } from "../io/resolve_name.ts";
import { log } from "./logging.ts";
import type { UpstreamEndpointInfo } from "./upstream_table.ts";

/** A configured server or pool entry. */
export interface UpstreamEntry {
  readonly upstream: UpstreamConfig;
  readonly pool: boolean;
}

/** Name resolution as time keeping uses it (src/io/resolve_name.ts; tests pass their own). */
export type UpstreamResolver = typeof resolveServerName;

/**
 * Resolves server and pool entries into endpoints numbered from `firstId` (a server takes its
 * first address, a pool up to `maxClock`; an address already `known` is skipped); the entries
 * whose names do not resolve (yet) are returned to be tried again later.
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "../config/ntp_config.ts";
 * import { resolveServerName } from "../io/resolve_name.ts";
 * declare const config: NtpConfig;
 * const entries = config.servers.map((upstream) => ({ upstream, pool: false }));
 * const { endpoints, unresolved } = await resolveUpstreams(entries,
 *   { maxClock: 10, firstId: 1, known: [], resolve: resolveServerName });
 * ```
 */
export async function resolveUpstreams(
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
        `${outcome.message}; trying again every ${resolveRetrySeconds} s`,
      );
      unresolved.push(entry);
      return;
    }
    const addresses = pool
      ? outcome.addresses.slice(0, options.maxClock)
      : outcome.addresses.slice(0, 1);
    for (const address of addresses) {
      const duplicate = [...options.known, ...endpoints].find((e) =>
        e.hostname === address.hostname && e.port === upstream.port
      );
      if (duplicate !== undefined) {
        // A pool naturally overlaps; a server named twice is worth a line (an NTS one above all:
        // the address is polled as the first entry says, with or without NTS).
        if (!pool) {
          logger.warn(
            `${upstream.host} resolves to ${address.hostname} port ${upstream.port}, already ` +
              `polled as ${duplicate.name}: not polled twice` +
              (upstream.nts !== null ? " (its nts setting is not used)" : ""),
          );
        }
        continue;
      }
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

/**
 * The association of each endpoint, with the options of the server or pool entry it came from.
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "../config/ntp_config.ts";
 * import type { UpstreamTable } from "./upstream_table.ts";
 * declare const config: NtpConfig;
 * declare const table: UpstreamTable;
 * const configs = associationConfigs(config, table.all());
 * ```
 */
export function associationConfigs(
  config: NtpConfig,
  endpoints: readonly UpstreamEndpointInfo[],
): AssociationConfig[] {
  const byName = new Map<string, UpstreamConfig>();
  for (const u of [...config.servers, ...config.pools]) byName.set(`${u.host}|${u.port}`, u);
  return endpoints.map((e) => associationConfigOf(byName.get(`${e.name}|${e.port}`)!, e));
}

/**
 * The association for one endpoint of a configured server or pool.
 *
 * @example
 * ```ts
 * import type { NtpConfig } from "../config/ntp_config.ts";
 * import type { UpstreamEndpointInfo } from "./upstream_table.ts";
 * declare const config: NtpConfig;
 * declare const endpoint: UpstreamEndpointInfo; // resolved from config.servers[0]
 * const association = associationConfigOf(config.servers[0]!, endpoint);
 * ```
 */
export function associationConfigOf(u: UpstreamConfig, e: UpstreamEndpointInfo): AssociationConfig {
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
