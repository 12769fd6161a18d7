// Poll interval control of an association: ntpd's jiggle counter (climb while stable, drop when not) and the RATE kiss back-off.

/** The poll exponent and what steers it. */
export interface PollControl {
  /** Current poll exponent, log2 seconds. */
  readonly pollLog2: number;
  /** Lowest poll allowed now: minpoll, raised by RATE kisses, log2 seconds. */
  readonly floorLog2: number;
  /** Highest poll allowed (maxpoll), log2 seconds. */
  readonly ceilingLog2: number;
  /** ntpd's jiggle counter (CLOCK_LIMIT is its bound). */
  readonly counter: number;
}

/** Counter bound at which the poll changes (ntpd's CLOCK_LIMIT). */
export const POLL_COUNTER_LIMIT = 30;

/** A sample within this many jitters of the previous estimate counts as stable (ntpd's CLOCK_PGATE). */
export const POLL_GATE = 4;

/**
 * Starts at minpoll.
 *
 * @example
 * ```ts
 * initialPollControl({ minPollLog2: 6, maxPollLog2: 10 }); // poll 6
 * ```
 */
export function initialPollControl(
  options: { readonly minPollLog2: number; readonly maxPollLog2: number },
): PollControl {
  const ceiling = Math.max(options.minPollLog2, options.maxPollLog2);
  return {
    pollLog2: options.minPollLog2,
    floorLog2: options.minPollLog2,
    ceilingLog2: ceiling,
    counter: 0,
  };
}

/**
 * Whether a new sample agrees with the previous filter estimate: |difference| below
 * {@link POLL_GATE} times the jitter (at least the precision).
 *
 * @example
 * ```ts
 * isStableSample({ differenceSeconds: 1e-5, jitterSeconds: 1e-5, precisionLog2: -20 }); // true
 * ```
 */
export function isStableSample(options: {
  readonly differenceSeconds: number;
  readonly jitterSeconds: number;
  readonly precisionLog2: number;
}): boolean {
  const scale = Math.max(options.jitterSeconds, Math.pow(2, options.precisionLog2));
  return Math.abs(options.differenceSeconds) < POLL_GATE * scale;
}

/**
 * ntpd's poll adaptation: a stable sample adds the poll exponent to the counter, an unstable one
 * subtracts twice that; past +-{@link POLL_COUNTER_LIMIT} the poll goes up or down by one
 * (within floor..ceiling) and the counter restarts.
 *
 * @example
 * ```ts
 * let poll = initialPollControl({ minPollLog2: 6, maxPollLog2: 10 });
 * for (let i = 0; i < 6; i++) poll = adaptPoll(poll, { stable: true }); // poll 7
 * ```
 */
export function adaptPoll(poll: PollControl, options: { readonly stable: boolean }): PollControl {
  const step = Math.max(1, poll.pollLog2);
  if (options.stable) {
    const counter = poll.counter + step;
    if (counter <= POLL_COUNTER_LIMIT) return { ...poll, counter };
    return { ...poll, pollLog2: Math.min(poll.ceilingLog2, poll.pollLog2 + 1), counter: 0 };
  }
  const counter = poll.counter - 2 * step;
  if (counter >= -POLL_COUNTER_LIMIT) return { ...poll, counter };
  return { ...poll, pollLog2: Math.max(poll.floorLog2, poll.pollLog2 - 1), counter: 0 };
}

/**
 * Reaction to a RATE kiss (RFC 5905 §7.4: reduce the rate): the poll at least doubles and is at
 * least the server's poll, up to maxpoll (not the discipline's lower ceiling: the server's wish
 * comes first); the floor rises with it so adaptation does not undo it.
 *
 * @example
 * ```ts
 * const poll = initialPollControl({ minPollLog2: 6, maxPollLog2: 10 });
 * backOffForRate(poll, { serverPollLog2: 4, maxPollLog2: 10 }).pollLog2; // 7
 * ```
 */
export function backOffForRate(
  poll: PollControl,
  options: { readonly serverPollLog2: number; readonly maxPollLog2: number },
): PollControl {
  const top = Math.max(poll.ceilingLog2, options.maxPollLog2);
  const pollLog2 = Math.min(top, Math.max(poll.pollLog2 + 1, options.serverPollLog2));
  return {
    ...poll,
    pollLog2,
    floorLog2: Math.max(poll.floorLog2, pollLog2),
    ceilingLog2: Math.max(poll.ceilingLog2, pollLog2),
    counter: 0,
  };
}

/**
 * Applies a system-wide poll ceiling (from the discipline, see usefulPollCeilingLog2) on top of
 * maxpoll: the effective ceiling is min(maxpoll, ceiling) but never below the floor; a poll above
 * it comes down at once. `ceilingLog2` null restores maxpoll.
 *
 * @example
 * ```ts
 * const poll = initialPollControl({ minPollLog2: 6, maxPollLog2: 10 });
 * limitPoll(poll, { maxPollLog2: 10, ceilingLog2: 9 }).ceilingLog2; // 9
 * ```
 */
export function limitPoll(
  poll: PollControl,
  options: { readonly maxPollLog2: number; readonly ceilingLog2: number | null },
): PollControl {
  const wanted = options.ceilingLog2 === null
    ? options.maxPollLog2
    : Math.min(options.maxPollLog2, options.ceilingLog2);
  const ceilingLog2 = Math.max(poll.floorLog2, wanted);
  if (ceilingLog2 === poll.ceilingLog2 && poll.pollLog2 <= ceilingLog2) return poll;
  return { ...poll, ceilingLog2, pollLog2: Math.min(poll.pollLog2, ceilingLog2) };
}

/**
 * Back-off for a source that has not answered for many polls (ntpd bumps the poll once
 * NTP_UNREACH polls went unanswered): one step up, at most maxpoll.
 *
 * @example
 * ```ts
 * const poll = initialPollControl({ minPollLog2: 6, maxPollLog2: 10 });
 * backOffUnreachable(poll).pollLog2; // 7
 * ```
 */
export function backOffUnreachable(poll: PollControl): PollControl {
  return { ...poll, pollLog2: Math.min(poll.ceilingLog2, poll.pollLog2 + 1), counter: 0 };
}
