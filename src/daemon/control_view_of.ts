// Maps what the daemon knows (published snapshot, time keeping, counters) onto the control
// protocol's view, so ntpq, ntpstat and `ntp status` see the running state.
import { PROGRAM_VERSION } from "../core/version.ts";
import type { SystemSnapshot } from "../core/server/types.ts";
import {
  type ControlLeapFile,
  type ControlPeerView,
  type ControlView,
  PeerEvent,
  PeerSelection,
  serverCountersFromRecord,
  SystemEvent,
} from "../core/control/control_view.ts";
import { controlViewFromSnapshot } from "../core/control/view_from_snapshot.ts";
import type { TimeKeepingView } from "./time_keeping.ts";

/** Facts about this process the view needs besides the state. */
export interface ControlViewContext {
  readonly uptimeSeconds: number;
  readonly counters: Record<string, number>;
  /** Smallest configured minpoll (mintc), log2 s. */
  readonly minPollLog2: number;
  /** What the leap-seconds file says now, when one was read. */
  readonly leapFile?: ControlLeapFile;
  /** Leap smearing now, when it is configured. */
  readonly leapSmear?: { readonly intervalSeconds: number; readonly offsetSeconds: number };
}

const build = {
  version: PROGRAM_VERSION,
  processor: Deno.build.arch,
  system: `${Deno.build.os === "linux" ? "Linux" : Deno.build.os}/${Deno.osRelease()}`,
};

/**
 * One association as the control protocol shows it (its peer status word comes from this).
 *
 * @example
 * ```ts
 * import type { TimeKeepingView } from "./time_keeping.ts";
 * declare const view: TimeKeepingView;
 * const peers = view.associations.map(controlPeerOf);
 * ```
 */
export function controlPeerOf(a: TimeKeepingView["associations"][number]): ControlPeerView {
  // Once selected, ntpd's last peer event is sys_peer (ntpq: "sel_sys.peer, 1 event, sys_peer").
  const lastEvent = a.selection === PeerSelection.systemPeer
    ? PeerEvent.systemPeer
    : a.condition === "reachable"
    ? PeerEvent.reachable
    : a.condition === "unreachable"
    ? PeerEvent.unreachable
    : a.condition === "demobilised"
    ? PeerEvent.demobilised
    : PeerEvent.mobilised;
  return {
    associationId: a.associationId,
    sourceAddress: a.endpoint.hostname,
    sourcePort: a.endpoint.port,
    ...(a.endpoint.name !== a.endpoint.hostname ? { hostname: a.endpoint.name } : {}),
    localAddress: a.local.address,
    localPort: a.local.port,
    configured: true,
    leap: a.leap,
    stratum: a.stratum,
    precisionLog2: a.precisionLog2,
    rootDelaySeconds: a.rootDelaySeconds,
    rootDispersionSeconds: a.rootDispersionSeconds,
    referenceId: a.referenceId,
    referenceTime: a.referenceTime,
    hostMode: 3,
    peerMode: 4,
    // ntpd resets ppoll to maxpoll while nothing has been heard (reach 0), so ntpq's poll column,
    // 2^min(ppoll, hpoll), shows the host poll; the unknown peer poll (0) would show "1".
    peerPollLog2: a.reach === 0 ? a.hostPollLog2 : Math.max(0, a.peerPollLog2),
    hostPollLog2: Math.max(0, a.hostPollLog2),
    reach: a.reach,
    unreachPolls: a.unreachPolls,
    delaySeconds: a.delaySeconds,
    offsetSeconds: a.offsetSeconds,
    jitterSeconds: a.jitterSeconds,
    dispersionSeconds: a.dispersionSeconds,
    receiveTime: a.receiveTime,
    transmitTime: a.transmitTime,
    filterDelaySeconds: a.filterDelaySeconds,
    filterOffsetSeconds: a.filterOffsetSeconds,
    filterDispersionSeconds: a.filterDispersionSeconds,
    selection: a.selection,
    flashBits: a.flashBits,
    events: { count: 1, lastCode: lastEvent },
    ...(a.nts === null ? {} : {
      nts: {
        phase: a.nts.phase,
        cookies: a.nts.cookies,
        keServer: a.nts.keServer,
        problem: a.nts.problem ?? "",
        requests: a.nts.counters.requests,
        authenticated: a.nts.counters.authenticated,
        dropped: a.nts.counters.dropped,
        naks: a.nts.counters.naks,
        keyExchanges: a.nts.counters.keyExchanges,
        keyExchangesGood: a.nts.counters.keyExchangesGood,
        keyExchangeFailures: a.nts.counters.keyExchangeFailures,
      },
    }),
  };
}

/**
 * The control view: the system variables as served (the snapshot), the discipline's offset,
 * frequency and jitters, and one peer per association.
 */
export function controlViewOf(
  snapshot: SystemSnapshot,
  timeKeeping: TimeKeepingView | null,
  context: ControlViewContext,
): ControlView {
  const fromSnapshot = controlViewFromSnapshot(snapshot, {
    pollLog2: timeKeeping?.system.pollLog2 ?? context.minPollLog2,
    minPollLog2: context.minPollLog2,
    uptimeSeconds: context.uptimeSeconds,
    counters: serverCountersFromRecord(context.counters),
    ...build,
  });
  const base: ControlView = {
    ...fromSnapshot,
    system: {
      ...fromSnapshot.system,
      ...(context.leapFile === undefined ? {} : { leapFile: context.leapFile }),
      ...(context.leapSmear === undefined ? {} : { leapSmear: context.leapSmear }),
    },
  };
  if (timeKeeping === null || timeKeeping.associations.length === 0) return base;
  const sys = timeKeeping.system;
  const synchronisedToPeer = sys.synchronised && sys.systemPeerAssociationId !== 0;
  return {
    system: {
      ...base.system,
      systemPeerAssociationId: synchronisedToPeer ? sys.systemPeerAssociationId : 0,
      offsetSeconds: sys.offsetSeconds,
      frequencyPpm: sys.frequencyPpm,
      systemJitterSeconds: sys.systemJitterSeconds,
      clockJitterSeconds: sys.clockJitterSeconds,
      clockWanderPpm: Math.abs(sys.frequencyErrorPpm),
      events: {
        count: 1 + sys.stepCount,
        lastCode: synchronisedToPeer
          ? SystemEvent.clockSynchronised
          : snapshot.leap === 3
          ? SystemEvent.noSystemPeer
          : base.system.events.lastCode,
      },
    },
    peers: timeKeeping.associations.map(controlPeerOf),
    clients: [],
  };
}
