// What the time keeper does to an association between its own events: caps its poll, asks for a sample soon, or has it train (extra requests while the frequency is learnt).
import { pollSeconds } from "../time/poll.ts";
import {
  type AssociationState,
  BURST_SPACING_SECONDS,
  EXTRA_REQUEST_SPACING_SECONDS,
} from "./association.ts";
import { limitPoll } from "./poll_control.ts";
import { nextRandom } from "./poll_random.ts";

export { EXTRA_REQUEST_SPACING_SECONDS } from "./association.ts";
/** Polls brought forward by a lower ceiling go out at random within this many seconds. */
export const PULL_IN_SPREAD_SECONDS = 16;

/**
 * Caps the poll at the discipline's useful ceiling (see poll_control.ts limitPoll); null lifts
 * the cap back to maxpoll. When the poll comes down, an iburst association (the user's consent
 * to extra requests) that was not rate limited has its next poll brought forward to the end of
 * the shorter interval (not before `monotonicSeconds`), so a change is followed at once; the
 * others take the shorter poll from their next scheduled one.
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * declare let assoc: AssociationState;
 * declare const now: number;
 * assoc = applyPollCeiling(assoc, { ceilingLog2: 9, monotonicSeconds: now });
 * ```
 */
export function applyPollCeiling(
  state: AssociationState,
  options: { readonly ceilingLog2: number | null; readonly monotonicSeconds: number },
): AssociationState {
  const poll = limitPoll(state.poll, {
    maxPollLog2: state.config.maxPollLog2,
    ceilingLog2: options.ceilingLog2,
  });
  if (poll === state.poll) return state;
  let next: AssociationState = { ...state, poll };
  const due = state.pollStartMonotonicSeconds + pollSeconds(poll.pollLog2);
  if (
    poll.pollLog2 < state.poll.pollLog2 && state.config.iburst && !state.rateLimited &&
    state.burstRemaining === 0 && state.demobilisedBy === null &&
    state.nextSendMonotonicSeconds > due
  ) {
    // Spread over the next PULL_IN_SPREAD_SECONDS, so associations brought forward together
    // do not all send at once (their samples would say nothing about the slope).
    const random = nextRandom(state.random);
    const earliest = Math.max(
      options.monotonicSeconds + (random / 2 ** 32) * PULL_IN_SPREAD_SECONDS,
      (state.lastSendMonotonicSeconds ?? -Infinity) + EXTRA_REQUEST_SPACING_SECONDS,
    );
    next = {
      ...next,
      random,
      nextSendMonotonicSeconds: Math.min(state.nextSendMonotonicSeconds, Math.max(earliest, due)),
    };
  }
  return next;
}

/**
 * Brings the next request forward to a random moment within `withinSeconds` (not before
 * EXTRA_REQUEST_SPACING_SECONDS since the last one): the time keeper asks for a fresh sample from
 * every source when the newest sample disagrees with the clock's fit, so a change of the local
 * clock is confirmed (or not) in seconds rather than a poll interval. Only with `iburst` (the
 * user's consent to extra requests, as for training); never for an association that is
 * unreachable, demobilised, bursting or was told to slow down (a RATE kiss).
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * declare let assoc: AssociationState;
 * declare const now: number;
 * assoc = requestSoon(assoc, { monotonicSeconds: now, withinSeconds: 16 });
 * ```
 */
export function requestSoon(
  state: AssociationState,
  options: { readonly monotonicSeconds: number; readonly withinSeconds: number },
): AssociationState {
  if (
    !state.config.iburst || state.reach === 0 || state.demobilisedBy !== null ||
    state.burstRemaining > 0 || state.rateLimited ||
    state.poll.floorLog2 > state.config.minPollLog2
  ) {
    return state;
  }
  const random = nextRandom(state.random);
  const earliest = (state.lastSendMonotonicSeconds ?? -Infinity) + EXTRA_REQUEST_SPACING_SECONDS;
  const at = Math.max(
    earliest,
    options.monotonicSeconds + (random / 2 ** 32) * options.withinSeconds,
  );
  if (at >= state.nextSendMonotonicSeconds) return state;
  return { ...state, random, nextSendMonotonicSeconds: at };
}

/**
 * Starts, changes or ends training (the time keeper's call, see time_keeper.ts): while
 * `intervalSeconds` is set, extra requests go out between polls at that spacing (never closer
 * than the burst spacing); the next one is brought forward if it is due earlier than the
 * scheduled send. Null ends training. Bursts are left alone.
 *
 * @example
 * ```ts
 * import type { AssociationState } from "./association.ts";
 * declare let assoc: AssociationState;
 * declare const now: number;
 * assoc = setTraining(assoc, { intervalSeconds: 16, monotonicSeconds: now });
 * ```
 */
export function setTraining(
  state: AssociationState,
  options: { readonly intervalSeconds: number | null; readonly monotonicSeconds: number },
): AssociationState {
  const interval = options.intervalSeconds === null
    ? null
    : Math.max(BURST_SPACING_SECONDS, options.intervalSeconds);
  if (interval === state.trainingIntervalSeconds) return state;
  let next: AssociationState = { ...state, trainingIntervalSeconds: interval };
  const last = state.lastSendMonotonicSeconds;
  const previous = state.trainingIntervalSeconds;
  if (
    interval === null && previous !== null && last !== null && state.burstRemaining === 0 &&
    Math.abs(state.nextSendMonotonicSeconds - (last + previous)) < 1e-6
  ) {
    // The pending send is a training slot: without training it goes back to the poll's time
    // (else it would start the next poll early).
    return {
      ...next,
      nextSendMonotonicSeconds: Math.max(
        options.monotonicSeconds,
        state.pollStartMonotonicSeconds + pollSeconds(state.poll.pollLog2),
      ),
    };
  }
  if (
    interval !== null && last !== null && state.burstRemaining === 0 &&
    state.demobilisedBy === null && state.nextSendMonotonicSeconds - (last + interval) >= interval
  ) {
    next = {
      ...next,
      nextSendMonotonicSeconds: Math.max(options.monotonicSeconds, last + interval),
    };
  }
  return next;
}
