// What the time keeper shows: per-association status (ntpq -p / rv &N), system status (ntpq rv) and the SyncState for responders.
import { filterRegisters } from "../discipline/clock_filter.ts";
import type { DisciplineState } from "../discipline/clock_discipline.ts";
import { Selection, type SelectionCode, tallyCharacter } from "../discipline/select_sources.ts";
import type { SyncState } from "../discipline/system_state.ts";
import { rootDispersionAt, synchronisedVariables } from "../discipline/system_reference.ts";
import type { LeapIndicator } from "../server/types.ts";
import { type NtpTimestamp, ZERO_TIMESTAMP } from "../time/ntp_timestamp.ts";
import { displayedHeader } from "./association.ts";
import { peerFigures } from "./peer_figures.ts";
import type { TimeKeeperState } from "./time_keeper_state.ts";

/** One association as ntpq shows it (`ntpq -p`, `rv &N`). */
export interface AssociationStatus {
  readonly associationId: number;
  /** "init" never answered; "reachable"; "unreachable" answered before but reach is 0 now; "demobilised". */
  readonly condition: "init" | "reachable" | "unreachable" | "demobilised";
  readonly selection: SelectionCode;
  /** ntpq's tally character (" x.-+#*o"). */
  readonly tally: string;
  readonly reach: number;
  readonly unreachPolls: number;
  readonly hostPollLog2: number;
  readonly peerPollLog2: number;
  /** Seconds since the last valid reply (ntpq's "when"), null if none. */
  readonly whenSeconds: number | null;
  /** Filter offset referred to the clock now, seconds (positive: our clock is behind). */
  readonly offsetSeconds: number;
  readonly delaySeconds: number;
  readonly jitterSeconds: number;
  readonly dispersionSeconds: number;
  /** Root distance, seconds (Infinity before a sample). */
  readonly rootDistanceSeconds: number;
  readonly leap: LeapIndicator;
  readonly stratum: number;
  readonly precisionLog2: number;
  readonly rootDelaySeconds: number;
  readonly rootDispersionSeconds: number;
  readonly referenceId: number;
  readonly referenceTime: NtpTimestamp;
  /** Our receive timestamp of its last reply (zero if never). */
  readonly receiveTime: NtpTimestamp;
  /** Its last transmit timestamp (zero if never). */
  readonly transmitTime: NtpTimestamp;
  /** Filter registers newest first, seconds. */
  readonly filterDelaySeconds: readonly number[];
  readonly filterOffsetSeconds: readonly number[];
  readonly filterDispersionSeconds: readonly number[];
  readonly flashBits: number;
  /** The kiss code that demobilised it, if any. */
  readonly demobilisedBy: string | null;
}

/**
 * Every association's status at `monotonicSeconds`, in configuration order.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number; // monotonic seconds
 * for (const a of associationStatuses(keeper, { monotonicSeconds: now })) console.log(a.tally, a.associationId);
 * ```
 */
export function associationStatuses(
  state: TimeKeeperState,
  options: { readonly monotonicSeconds: number },
): AssociationStatus[] {
  const now = options.monotonicSeconds;
  return peerFigures(state, now).map((f) => {
    const a = f.association;
    const header = displayedHeader(a);
    const selection = state.selection?.codes.get(a.config.id) ?? Selection.rejected;
    const registers = filterRegisters(a.filter, { monotonicSeconds: now });
    const condition = a.demobilisedBy !== null
      ? "demobilised"
      : a.reach !== 0
      ? "reachable"
      : a.lastReceiveMonotonicSeconds === null
      ? "init"
      : "unreachable";
    return {
      associationId: a.config.id,
      condition,
      selection,
      tally: tallyCharacter(selection),
      reach: a.reach,
      unreachPolls: a.unreachPolls,
      hostPollLog2: a.poll.pollLog2,
      peerPollLog2: header.pollLog2,
      whenSeconds: a.lastReceiveMonotonicSeconds === null
        ? null
        : now - a.lastReceiveMonotonicSeconds,
      offsetSeconds: f.offsetSeconds,
      delaySeconds: f.delaySeconds,
      jitterSeconds: f.jitterSeconds,
      dispersionSeconds: f.dispersionSeconds,
      rootDistanceSeconds: f.rootDistanceSeconds,
      leap: header.leap,
      stratum: header.stratum,
      precisionLog2: header.precisionLog2,
      rootDelaySeconds: header.rootDelaySeconds,
      rootDispersionSeconds: header.rootDispersionSeconds,
      referenceId: header.referenceId,
      referenceTime: header.referenceTime,
      receiveTime: a.lastReceiveTime ?? ZERO_TIMESTAMP,
      transmitTime: a.lastServerTransmit ?? ZERO_TIMESTAMP,
      filterDelaySeconds: registers.delaySeconds,
      filterOffsetSeconds: registers.offsetSeconds,
      filterDispersionSeconds: registers.dispersionSeconds,
      flashBits: a.flashBits,
      demobilisedBy: a.demobilisedBy,
    };
  });
}

/** The system as ntpq's `rv` shows it. */
export interface SystemStatus {
  readonly synchronised: boolean;
  /** 3 while unsynchronised. */
  readonly leap: LeapIndicator;
  /** 16 while unsynchronised. */
  readonly stratum: number;
  readonly referenceId: number;
  readonly referenceTime: NtpTimestamp;
  readonly rootDelaySeconds: number;
  /** Grown to now. */
  readonly rootDispersionSeconds: number;
  /** The system peer's association id, 0 for none. */
  readonly systemPeerAssociationId: number;
  /** Last offset estimate of the discipline, seconds (positive: clock was behind). */
  readonly offsetSeconds: number;
  /** Frequency correction estimate, ppm (what the drift file should hold). */
  readonly frequencyPpm: number;
  /** Standard error of frequencyPpm, ppm (shown as ntpq's clk_wander). */
  readonly frequencyErrorPpm: number;
  readonly systemJitterSeconds: number;
  /** RMS residual of the discipline's fit, seconds. */
  readonly clockJitterSeconds: number;
  /** The system peer's poll (or the smallest poll in use), log2 seconds. */
  readonly pollLog2: number;
  readonly disciplinePhase: DisciplineState["phase"];
  readonly stepCount: number;
}

/**
 * The system variables at `monotonicSeconds`.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number;
 * const sys = systemStatus(keeper, { monotonicSeconds: now });
 * ```
 */
export function systemStatus(
  state: TimeKeeperState,
  options: { readonly monotonicSeconds: number },
): SystemStatus {
  const ref = state.reference;
  const peerId = state.selection?.systemPeerId ?? null;
  const peer = state.associations.find((a) => a.config.id === peerId);
  const polls = state.associations.map((a) => a.poll.pollLog2);
  const synced = state.synchronised && ref !== null;
  return {
    synchronised: synced,
    leap: synced ? ref.leap : 3,
    stratum: synced ? ref.stratum : 16,
    referenceId: synced ? ref.referenceId : 0x494e4954,
    referenceTime: ref?.referenceTime ?? ZERO_TIMESTAMP,
    rootDelaySeconds: ref?.rootDelaySeconds ?? 0,
    rootDispersionSeconds: ref === null ? 0 : rootDispersionAt(ref, options),
    systemPeerAssociationId: peerId ?? 0,
    offsetSeconds: state.discipline.offsetSeconds,
    frequencyPpm: state.discipline.frequencyPpm,
    frequencyErrorPpm: state.discipline.frequencyErrorPpm,
    systemJitterSeconds: state.selection?.jitterSeconds ?? 0,
    clockJitterSeconds: state.discipline.clockJitterSeconds,
    pollLog2: peer?.poll.pollLog2 ?? (polls.length > 0 ? Math.min(...polls) : 6),
    disciplinePhase: state.discipline.phase,
    stepCount: state.discipline.stepCount,
  };
}

/**
 * The `synchronised` member of system_state.ts's SyncState, or undefined while unsynchronised.
 *
 * @example
 * ```ts
 * import type { TimeKeeperState } from "./time_keeper_state.ts";
 * import type { SyncState } from "../discipline/system_state.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare const keeper: TimeKeeperState;
 * declare const now: number; // monotonic seconds
 * declare const uptimeSeconds: number;
 * declare const wallNow: NtpTimestamp;
 * const precisionLog2 = -20;
 * const synchronised = synchronisedState(keeper, { monotonicSeconds: now });
 * const sync: SyncState = { uptimeSeconds, now: wallNow, precisionLog2, ...(synchronised ? { synchronised } : {}) };
 * ```
 */
export function synchronisedState(
  state: TimeKeeperState,
  options: { readonly monotonicSeconds: number },
): SyncState["synchronised"] {
  if (!state.synchronised || state.reference === null) return undefined;
  return synchronisedVariables(state.reference, options);
}
