// The [pick] loop of the daemon: watches the [[server]] associations, and when one is due (core/pick/replacement_policy.ts) probes the unused candidates and has the best swapped in.
import { parseCandidateList } from "../config/candidate_list.ts";
import { associationStatuses, type TimeKeeperState } from "../core/client/time_keeper.ts";
import { Selection } from "../core/discipline/select_sources.ts";
import { candidateLabel } from "../core/pick/candidate.ts";
import { candidateFigures } from "../core/pick/candidate_figures.ts";
import { pickUpstreams } from "../core/pick/pick_upstreams.ts";
import {
  deferReplacement,
  describeReason,
  emptyReplacementTracker,
  observePolls,
  type ReplacementDue,
  replacementsDue,
  type ReplacementTracker,
} from "../core/pick/replacement_policy.ts";
import { sourceKey } from "../core/pick/source_key.ts";
import type { NtpTimestamp } from "../core/time/ntp_timestamp.ts";
import { pollSeconds } from "../core/time/poll.ts";
import { probeCandidates } from "../io/candidate_probe.ts";
import type { ClockReading } from "../io/clock_driver.ts";
import { log } from "./logging.ts";
import type { UpstreamEndpointInfo } from "./upstream_table.ts";

/** What the loop needs from the time keeping that owns the associations and sockets. */
export interface ReplacementOptions {
  /** The candidate list, re-read at every replacement (so it can be edited while serving). */
  readonly candidatesFile: string;
  /** Unanswered (or falseticker) polls in a row before a replacement. */
  readonly afterPolls: number;
  /** The associations that may be replaced (those of [[server]] entries, not pools). */
  readonly serverIds: readonly number[];
  /** Local clock precision, log2 seconds. */
  readonly precisionLog2: number;
  /** Kernel receive/transmit stamps to the disciplined clock (the driver's fromKernel()). */
  readonly fromKernel: (reading: ClockReading) => NtpTimestamp;
  /** The time keeper now. */
  readonly keeper: () => TimeKeeperState;
  /** The monotonic clock the time keeper runs on, seconds. */
  readonly monotonicSeconds: () => number;
  /** Every current association's endpoint. */
  readonly endpoints: () => readonly UpstreamEndpointInfo[];
  /** How an association is named in the log. */
  readonly nameOf: (associationId: number) => string;
  /** Replaces association `oldId` by a new one for `to`; the new id, or null when that is no longer possible. */
  readonly swap: (
    oldId: number,
    to: { readonly name: string; readonly address: string; readonly port: number },
  ) => Promise<number | null>;
}

/** The running loop. */
export interface UpstreamReplacement {
  /** Call after every time keeper transition: counts polls and starts a replacement when one is due. */
  observe(): void;
  /** Stops any probing under way and waits for it. */
  close(): Promise<void>;
}

/**
 * Starts watching. A replacement round: read the list, probe every candidate not in use, not
 * replaced before and not known to kiss (as `ntp pick` does, against the disciplined clock), let the trusted
 * current upstreams join the falseticker vote and count their sources as taken, then swap the
 * best for each due association that is still due. With no usable candidate the association
 * waits as many polls again. One round at a time.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "../core/client/time_keeper.ts";
 * import type { ClockReading } from "../io/clock_driver.ts";
 * import type { NtpTimestamp } from "../core/time/ntp_timestamp.ts";
 * import type { UpstreamTable } from "./upstream_table.ts";
 * declare const table: UpstreamTable;
 * declare let keeper: TimeKeeperState;
 * declare function toNtp(reading: ClockReading): NtpTimestamp;
 * declare function swap(
 *   oldId: number,
 *   to: { name: string; address: string; port: number },
 * ): Promise<number | null>;
 * const replacement = startUpstreamReplacement({
 *   candidatesFile: "/etc/ntp/candidates.txt",
 *   afterPolls: 8,
 *   serverIds: table.all().filter((e) => !e.pool).map((e) => e.associationId),
 *   precisionLog2: -20,
 *   fromKernel: toNtp,
 *   keeper: () => keeper,
 *   monotonicSeconds: () => performance.now() / 1000,
 *   endpoints: () => table.all(),
 *   nameOf: (id) => table.nameOf(id),
 *   swap,
 * });
 * // after each transition:
 * replacement.observe();
 * // on shutdown:
 * await replacement.close();
 * ```
 */
export function startUpstreamReplacement(options: ReplacementOptions): UpstreamReplacement {
  const logger = log("pick");
  const { candidatesFile: file, afterPolls, nameOf, monotonicSeconds } = options;
  const serverIds = new Set(options.serverIds);
  const retired = new Set<string>();
  let tracker: ReplacementTracker = emptyReplacementTracker;
  let round: Promise<void> | null = null;
  let closed = false;
  const stopProbes = new AbortController();

  const due = () =>
    replacementsDue(tracker, options.keeper(), {
      afterPolls,
      candidateIds: [...serverIds],
      monotonicSeconds: monotonicSeconds(),
    });

  /** Waits as many polls again before the next try for `id`. */
  const defer = (id: number) => {
    const association = options.keeper().associations.find((a) => a.config.id === id);
    const seconds = afterPolls * pollSeconds(association?.poll.pollLog2 ?? 6);
    tracker = deferReplacement(tracker, id, {
      untilMonotonicSeconds: monotonicSeconds() + seconds,
    });
  };

  const inUse = (host: string, port: number) =>
    retired.has(`${host}|${port}`) ||
    options.endpoints().some((e) => e.port === port && (e.name === host || e.hostname === host));

  async function replace(dueNow: readonly ReplacementDue[]): Promise<void> {
    const what = dueNow.map((d) => `${nameOf(d.associationId)} (${describeReason(d.reason)})`);
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      logger.warn(
        `cannot replace ${what.join(", ")}: cannot read ${file}: ${(error as Error).message}`,
      );
      dueNow.forEach((d) => defer(d.associationId));
      return;
    }
    const list = parseCandidateList(text);
    for (const problem of list.problems) {
      logger.warn(`${file}:${problem.line}: ${problem.message}; line skipped`);
    }
    const unused = list.candidates.filter((c) => !inUse(c.host, c.port));
    logger.info(
      `${what.join(", ")}: probing ${unused.length} unused candidate${
        unused.length === 1 ? "" : "s"
      } from ${file}`,
    );
    const outcomes = (await probeCandidates(unused, {
      fromKernel: options.fromKernel,
      precisionLog2: options.precisionLog2,
      signal: stopProbes.signal,
    })).filter((o) => o.address === null || !inUse(o.address, o.candidate.port));
    if (closed) return;

    const keeper = options.keeper();
    const dueIds = new Set(dueNow.map((d) => d.associationId));
    const names = new Map(options.endpoints().map((e) => [e.associationId, e.name]));
    const trusted = associationStatuses(keeper, { monotonicSeconds: monotonicSeconds() }).filter(
      (a) =>
        !dueIds.has(a.associationId) && a.condition === "reachable" &&
        Number.isFinite(a.rootDistanceSeconds) && a.selection !== Selection.falseticker &&
        a.selection !== Selection.rejected,
    );
    const figures = outcomes.map(candidateFigures);
    // A server that sent a Kiss-o'-Death is not asked again.
    for (const f of figures.filter((f) => f.problem === "kissOfDeath")) {
      retired.add(`${f.candidate.host}|${f.candidate.port}`);
    }
    const result = pickUpstreams(figures, {
      count: dueNow.length,
      referenceIntervals: trusted.map((a) => ({
        offsetSeconds: a.offsetSeconds,
        rootDistanceSeconds: a.rootDistanceSeconds,
      })),
      takenSourceKeys: trusted.map((a) =>
        sourceKey({
          host: names.get(a.associationId) ?? "",
          stratum: a.stratum,
          referenceId: a.referenceId,
        })
      ),
    });
    for (const v of result.verdicts) {
      logger.debug(`candidate ${candidateLabel(v.figures.candidate)}: ${v.reason}`);
    }
    const still = new Set(due().map((d) => d.associationId));
    const picked = [...result.picked];
    for (const d of dueNow) {
      const oldName = nameOf(d.associationId);
      const old = options.endpoints().find((e) => e.associationId === d.associationId);
      if (old === undefined || !still.has(d.associationId)) {
        logger.info(`${oldName} recovered while candidates were probed; not replaced`);
        continue;
      }
      const choice = picked.shift();
      if (choice === undefined || choice.address === null) {
        const reasons = result.verdicts.map((v) =>
          `${candidateLabel(v.figures.candidate)}: ${v.reason}`
        );
        logger.warn(
          `cannot replace ${oldName} (${describeReason(d.reason)}): no usable unused candidate` +
            (reasons.length > 0 ? ` (${reasons.join("; ")})` : ` in ${file}`) +
            `; trying again in ${afterPolls} polls`,
        );
        defer(d.associationId);
        continue;
      }
      const id = await options.swap(d.associationId, {
        name: choice.candidate.host,
        address: choice.address,
        port: choice.candidate.port,
      });
      if (id === null || closed) return;
      retired.add(`${old.name}|${old.port}`).add(`${old.hostname}|${old.port}`);
      serverIds.delete(d.associationId);
      serverIds.add(id);
      tracker = observePolls(tracker, options.keeper());
      logger.warn(`replaced ${oldName} (${describeReason(d.reason)}) with ${nameOf(id)}`);
    }
  }

  return {
    observe() {
      if (closed) return;
      tracker = observePolls(tracker, options.keeper());
      if (round !== null) return;
      const dueNow = due();
      if (dueNow.length === 0) return;
      round = replace(dueNow)
        .catch((error) => logger.error(`replacing servers failed: ${(error as Error).message}`))
        .finally(() => {
          round = null;
        });
    },
    async close() {
      closed = true;
      stopProbes.abort();
      await round;
    },
  };
}
