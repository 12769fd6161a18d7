// A ControlView for a daemon without associations (orphan or unsynchronised), built from the published system snapshot.
import type { SystemSnapshot } from "../server/types.ts";
import {
  type ControlSystemView,
  type ControlView,
  type ServerCounters,
  SystemEvent,
} from "./control_view.ts";

/** What the snapshot does not say about the system. */
export interface SnapshotViewOptions {
  /** System poll interval (tc), log2 s; ntpstat prints 2^tc. */
  readonly pollLog2: number;
  /** Smallest poll interval (mintc), log2 s. */
  readonly minPollLog2: number;
  readonly uptimeSeconds: number;
  readonly counters: ServerCounters;
  /** e.g. "ntp 0.1.0". */
  readonly version: string;
  /** e.g. Deno.build.arch. */
  readonly processor: string;
  /** e.g. `Linux/${Deno.osRelease()}`. */
  readonly system: string;
}

/**
 * The control view of a server with no associations: the snapshot's leap, stratum, refid, root
 * delay/dispersion and reference time; no system peer (clock source unspecified); offset,
 * frequency and jitters 0; one system event, "clock_sync" (5) when the leap bits say
 * synchronised (orphan mode), else "restart" (6); no peers and no client list.
 *
 * @example
 * ```ts
 * import { attachControlServer } from "../../daemon/control_server.ts";
 * import type { Responders } from "../../io/responders_types.ts";
 * import type { SystemSnapshot } from "../server/types.ts";
 * import type { SnapshotViewOptions } from "./view_from_snapshot.ts";
 * declare const responders: Responders;
 * declare let current: SystemSnapshot; // the snapshot last published
 * declare function options(): SnapshotViewOptions;
 * attachControlServer(responders, { view: () => controlViewFromSnapshot(current, options()) });
 * ```
 */
export function controlViewFromSnapshot(
  snapshot: SystemSnapshot,
  options: SnapshotViewOptions,
): ControlView {
  const system: ControlSystemView = {
    leap: snapshot.leap,
    stratum: snapshot.stratum,
    precisionLog2: snapshot.precisionLog2,
    rootDelaySeconds: snapshot.rootDelaySeconds,
    rootDispersionSeconds: snapshot.rootDispersionSeconds,
    referenceId: snapshot.referenceId,
    referenceTime: snapshot.referenceTime,
    pollLog2: options.pollLog2,
    minPollLog2: options.minPollLog2,
    systemPeerAssociationId: 0,
    offsetSeconds: 0,
    frequencyPpm: 0,
    systemJitterSeconds: 0,
    clockJitterSeconds: 0,
    clockWanderPpm: 0,
    version: options.version,
    processor: options.processor,
    system: options.system,
    events: {
      count: 1,
      lastCode: snapshot.leap === 3 ? SystemEvent.restart : SystemEvent.clockSynchronised,
    },
    uptimeSeconds: options.uptimeSeconds,
    counters: options.counters,
  };
  return { system, peers: [], clients: [] };
}
