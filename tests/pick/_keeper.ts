// Drives a real time keeper for the replacement tests: servers that answer (at an offset), stay silent, or kiss.
import {
  createTimeKeeper,
  DEFAULT_STARTUP_WAIT_SECONDS,
  DEFAULT_TOS,
  onPacket,
  onTimer,
  onTransmitted,
  type TimeKeeperState,
} from "../../src/core/client/time_keeper.ts";
import { defaultDisciplineSettings } from "../../src/core/discipline/clock_discipline.ts";
import type { NtpPacket } from "../../src/core/packet/ntp_packet.ts";
import { at, reply } from "../core/client/_replies.ts";

/** How server `id` behaves: answer at an offset (seconds), stay silent, or reply with header overrides. */
export type Behaviour =
  | { readonly kind: "answer"; readonly offsetSeconds: number }
  | { readonly kind: "silent" }
  | { readonly kind: "reply"; readonly overrides: Partial<NtpPacket> };

/** A keeper with `count` associations (ids 1..count) polling every 8 s (minpoll = maxpoll = 3). */
export function keeperWith(count: number): TimeKeeperState {
  return createTimeKeeper({
    associations: Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      address: new Uint8Array([10, 0, 0, i + 1]),
      version: 4,
      minPollLog2: 3,
      maxPollLog2: 3,
      iburst: false,
      burst: false,
      prefer: false,
      noselect: false,
    })),
    ...DEFAULT_TOS,
    discipline: defaultDisciplineSettings,
    precisionLog2: -20,
    driftPpm: null,
    currentFrequencyPpm: 0,
    randomSeed: 5,
    localReferenceIds: [],
    startupWaitSeconds: DEFAULT_STARTUP_WAIT_SECONDS,
  }, { monotonicSeconds: 0 }).state;
}

/**
 * Runs the keeper from `fromSeconds` to `toSeconds` in 0.5 s steps: every request is answered at
 * once per `behaviour(id)`; `observe` is called after every transition.
 */
export function run(
  start: TimeKeeperState,
  options: {
    readonly fromSeconds: number;
    readonly toSeconds: number;
    readonly behaviour: (id: number) => Behaviour;
    readonly observe?: (keeper: TimeKeeperState, now: number) => void;
  },
): TimeKeeperState {
  let keeper = start;
  for (let now = options.fromSeconds; now <= options.toSeconds; now += 0.5) {
    const out = onTimer(keeper, { monotonicSeconds: now });
    keeper = out.state;
    options.observe?.(keeper, now);
    for (const action of out.actions) {
      if (action.kind !== "send") continue;
      const id = action.associationId;
      keeper = onTransmitted(keeper, { associationId: id, transmitTime: at(now) });
      const b = options.behaviour(id);
      if (b.kind === "silent") continue;
      const offset = b.kind === "answer" ? b.offsetSeconds : 0;
      const bytes = reply(
        at(now),
        { t2: at(now + 0.001 + offset), t3: at(now + 0.0011 + offset) },
        b.kind === "reply" ? b.overrides : {},
      );
      keeper = onPacket(keeper, bytes, {
        associationId: id,
        receiveTime: at(now + 0.0021),
        monotonicSeconds: now + 0.0021,
      }).state;
      options.observe?.(keeper, now + 0.0021);
    }
  }
  return keeper;
}
