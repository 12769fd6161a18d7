// The time keeper's sync verdict and what it tells the clock driver: synchronised or not, why, and the error bounds (maxerror, esterror).
import type { ClockSyncStatus } from "./clock_sync_status.ts";
import { errorBoundAt, isDisciplined } from "../discipline/clock_discipline.ts";
import { MAX_DISPERSION_SECONDS, MAX_DISTANCE_SECONDS } from "../discipline/ntp_constants.ts";
import { holdoverDistanceAt, rootDistanceAt } from "../discipline/system_reference.ts";
import type { TimeKeeperState } from "./time_keeper_state.ts";

/** What the driver is told while unsynchronised: STA_UNSYNC, errors of 16 s. */
export const UNSYNCED_STATUS: ClockSyncStatus = Object.freeze({
  synchronised: false,
  leap: 0,
  maxErrorSeconds: 16,
  estErrorSeconds: 16,
});

/**
 * Whether the time keeper counts as synchronised at `now`, and why not: a refused step (panic),
 * a step not yet confirmed by the next update, no update or reference yet, or a holdover that
 * took the root distance (grown at ntpd's 15 ppm) past MAXDIST.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number; // monotonic seconds
 * syncVerdict(keeper, now); // { synced: true, reason: "notYet" } once synchronised
 * ```
 */
export function syncVerdict(
  state: TimeKeeperState,
  now: number,
): { synced: boolean; reason: "stepped" | "panic" | "rootDistance" | "notYet" } {
  const d = state.discipline;
  if (d.phase === "panic") return { synced: false, reason: "panic" };
  if (d.awaitingConfirmation) return { synced: false, reason: "stepped" };
  if (!isDisciplined(d) || state.reference === null) return { synced: false, reason: "notYet" };
  if (holdoverDistanceAt(state.reference, { monotonicSeconds: now }) > MAX_DISTANCE_SECONDS) {
    return { synced: false, reason: "rootDistance" };
  }
  return { synced: true, reason: "notYet" };
}

/**
 * The estimated error of the clock now, seconds (the kernel's esterror): the discipline's own
 * error bound (three standard errors of its phase and frequency, 1 ppm over any stretch the fit
 * extrapolated to reach its last update, plus the offset still being slewed), the scatter of
 * its samples about the fit (a phase known better than the samples scatter is a claim the fit
 * cannot back when the frequency wanders: without it the bound covered 98.8% under ten times the
 * usual wander) and the system jitter (how far the sources disagree), added. It leaves out what
 * no client can measure (path asymmetry, bounded by half the root delay) and what the upstreams
 * claim (their root dispersion): the root distance (maxerror) has those. 16 s while
 * unsynchronised.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number;
 * estimatedError(keeper, { monotonicSeconds: now }); // e.g. 4e-5
 * ```
 */
export function estimatedError(
  state: TimeKeeperState,
  options: { readonly monotonicSeconds: number },
): number {
  if (!state.synchronised || state.reference === null) return UNSYNCED_STATUS.estErrorSeconds;
  const own = errorBoundAt(state.discipline, options.monotonicSeconds);
  // An error the discipline cannot bound yet counts as the largest (MAXDISP), never as none.
  return (Number.isFinite(own) ? own : MAX_DISPERSION_SECONDS) +
    state.discipline.clockJitterSeconds +
    (state.selection?.jitterSeconds ?? 0);
}

/**
 * What the clock driver is told: synchronised or not, the leap bits, the root distance now as
 * maxerror and the estimated error as it will be at `until` (the kernel keeps esterror as given
 * until the next call).
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number;
 * syncStatus(keeper, now, now + 64).estErrorSeconds;
 * ```
 */
export function syncStatus(
  state: TimeKeeperState,
  now: number,
  until: number,
): ClockSyncStatus {
  const ref = state.reference;
  if (!state.synchronised || ref === null) return UNSYNCED_STATUS;
  return {
    synchronised: true,
    leap: ref.leap,
    maxErrorSeconds: rootDistanceAt(ref, { monotonicSeconds: now }),
    estErrorSeconds: estimatedError(state, { monotonicSeconds: until }),
  };
}

/** Time a reply takes after the timer that sends its request, at most, seconds. */
export const STATUS_HORIZON_SLACK_SECONDS = 2;
