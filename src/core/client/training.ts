// Training: extra requests from iburst associations while the samples alone do not yet know the frequency well enough for the poll (see time_keeper.ts).
import { frequencyPollCeilingLog2 } from "../discipline/clock_discipline.ts";
import { pollSeconds } from "../time/poll.ts";
import { EXTRA_REQUEST_SPACING_SECONDS, setTraining } from "./association_schedule.ts";
import type { TimeKeeperState } from "./time_keeper_state.ts";

/** Shortest spacing of training requests, seconds (association.ts EXTRA_REQUEST_SPACING_SECONDS). */
export const TRAINING_INTERVAL_SECONDS = EXTRA_REQUEST_SPACING_SECONDS;

/**
 * Training goes on while the frequency's standard error would move the phase by more than this
 * fraction of one sample's noise over the association's poll. A whole sample's noise (the
 * poll ceiling's own rule) stopped training after ~40 s on a 2.5 +- 0.5 ms path with the
 * frequency still 2-4 ppm off, which the 64 s polls then carried as 200-500 us of error for
 * minutes (the real keep-time benchmark's fresh runs, and the simulator's: 40 seeds, error from 60
 * to 300 s, worst RMS 358 us, median 120 us); a quarter gave worst 170 us, median 90 us, for 71
 * requests in the first 10 minutes instead of 60 (four servers).
 */
export const TRAINING_NOISE_FRACTION = 0.25;

/** Training happens only this long after the time keeper starts, seconds. */
export const TRAINING_WINDOW_SECONDS = 900;

/**
 * Sets each association's training interval (see the file header): 2^ceiling s from the
 * samples' own frequency error (its drift within TRAINING_NOISE_FRACTION of a sample's noise),
 * at least TRAINING_INTERVAL_SECONDS, while that is shorter than its poll, within the training
 * window, for iburst associations that were not told to slow down; otherwise none.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare let keeper: TimeKeeperState;
 * declare const now: number; // monotonic seconds
 * keeper = train(keeper, now);
 * ```
 */
export function train(state: TimeKeeperState, now: number): TimeKeeperState {
  const inWindow = now - state.startMonotonicSeconds < TRAINING_WINDOW_SECONDS;
  const ceiling = inWindow
    ? frequencyPollCeilingLog2(state.discipline, {
      measuredOnly: true,
      noiseFraction: TRAINING_NOISE_FRACTION,
    })
    : null;
  const associations = state.associations.map((a) => {
    let interval: number | null = null;
    // Never for a source that asked us to slow down (a RATE kiss, ever).
    const slowedDown = a.rateLimited || a.poll.floorLog2 > a.config.minPollLog2 ||
      a.kissReported !== null;
    if (ceiling !== null && a.config.iburst && !slowedDown) {
      const wanted = Math.max(TRAINING_INTERVAL_SECONDS, 2 ** ceiling);
      if (wanted < pollSeconds(a.poll.pollLog2)) interval = wanted;
    }
    return setTraining(a, { intervalSeconds: interval, monotonicSeconds: now });
  });
  return associations.every((a, i) => a === state.associations[i])
    ? state
    : { ...state, associations };
}
