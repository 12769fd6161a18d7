// Fake ControlViews for the control protocol tests: a synchronised server with three upstreams, an unsynchronised one, one with no associations.
import {
  type ControlPeerView,
  type ControlSystemView,
  type ControlView,
  type MruEntry,
  PeerEvent,
  PeerSelection,
  type ServerCounters,
  SystemEvent,
  ZERO_SERVER_COUNTERS,
} from "../../src/core/control/control_view.ts";
import { refidFromAscii, refidFromIPv4 } from "../../src/core/packet/refid.ts";
import { ntpFromUnix, type NtpTimestamp } from "../../src/core/time/ntp_timestamp.ts";

/** Names of the fake views. */
export type FakeViewName = "synced" | "unsynced" | "empty";

/** What a fake view is built from. */
export interface FakeViewInput {
  /** The current time, Unix seconds (peers' receive times are this minus a few seconds). */
  readonly nowUnixSeconds: number;
  readonly counters?: ServerCounters;
  readonly uptimeSeconds?: number;
}

function ago(nowUnixSeconds: number, seconds: number): NtpTimestamp {
  return ntpFromUnix(Math.floor(nowUnixSeconds) - seconds, 250_000_000);
}

function ipv4(text: string): number {
  return refidFromIPv4(Uint8Array.from(text.split(".").map(Number)));
}

const zero: NtpTimestamp = { seconds: 0, fraction: 0 };

type SystemBase = Omit<
  ControlSystemView,
  "leap" | "stratum" | "referenceId" | "referenceTime" | "systemPeerAssociationId" | "events"
>;

function baseSystem(input: FakeViewInput): SystemBase {
  return {
    precisionLog2: -24,
    rootDelaySeconds: 0.002022,
    rootDispersionSeconds: 0.017311,
    pollLog2: 10,
    minPollLog2: 0,
    offsetSeconds: 0.00668,
    frequencyPpm: -12.345678,
    systemJitterSeconds: 0.000798,
    clockJitterSeconds: 0.00006,
    clockWanderPpm: 0.002,
    version: "ntp 0.1.0",
    processor: "x86_64",
    system: "Linux/6.1.0-test",
    uptimeSeconds: input.uptimeSeconds ?? 3725,
    counters: input.counters ?? ZERO_SERVER_COUNTERS,
  };
}

function peer(
  input: FakeViewInput,
  fields: Partial<ControlPeerView> & Pick<ControlPeerView, "associationId" | "sourceAddress">,
): ControlPeerView {
  return {
    sourcePort: 123,
    localAddress: "192.0.2.10",
    localPort: 123,
    configured: true,
    leap: 0,
    stratum: 1,
    precisionLog2: -20,
    rootDelaySeconds: 0,
    rootDispersionSeconds: 0.000244,
    referenceId: refidFromAscii("CDMA"),
    referenceTime: ago(input.nowUnixSeconds, 30),
    hostMode: 3,
    peerMode: 4,
    peerPollLog2: 9,
    hostPollLog2: 9,
    reach: 0xff,
    unreachPolls: 0,
    delaySeconds: 0.002022,
    offsetSeconds: 0.00668,
    jitterSeconds: 0.006798,
    dispersionSeconds: 0.001,
    receiveTime: ago(input.nowUnixSeconds, 41),
    transmitTime: ago(input.nowUnixSeconds, 41),
    filterDelaySeconds: [0.002022, 0.00203, 0.00211],
    filterOffsetSeconds: [0.00668, 0.0061, -0.0003],
    filterDispersionSeconds: [0.001, 0.002, 0.003],
    selection: PeerSelection.candidate,
    flashBits: 0,
    events: { count: 1, lastCode: PeerEvent.reachable },
    ...fields,
  };
}

/** Association ids of the synced view's peers, in order. */
export const syncedAssociationIds = [17767, 17768, 17769] as const;

/** A few recent clients for the mrulist. */
function clients(input: FakeViewInput): MruEntry[] {
  return [
    {
      address: "198.51.100.7",
      port: 41234,
      firstSeen: ago(input.nowUnixSeconds, 600),
      lastSeen: ago(input.nowUnixSeconds, 5),
      packets: 11,
      mode: 3,
      version: 4,
      restrictFlags: ["kod", "limited", "nomodify", "notrap", "nopeer", "noquery"],
      droppedPackets: 0,
    },
    {
      address: "2001:db8::42",
      port: 123,
      firstSeen: ago(input.nowUnixSeconds, 3000),
      lastSeen: ago(input.nowUnixSeconds, 90),
      packets: 40,
      mode: 3,
      version: 3,
      restrictFlags: ["kod", "limited"],
      droppedPackets: 2,
    },
  ];
}

/**
 * The view named `name`:
 * - synced: leap 0, stratum 2, synchronised to 66.220.9.122 (association 17767, `*`), two more
 *   candidates (`+`, `-`), poll 2^10 s, root delay 2.022 ms and dispersion 17.311 ms
 *   (ntpstat: "time correct to within 18 ms");
 * - unsynced: leap 3, stratum 16, refid INIT, two peers never reached (`.INIT.`, reach 0);
 * - empty: orphan-like, leap 0, stratum 10, refid 127.0.0.1, no associations.
 */
export function fakeControlView(name: FakeViewName, input: FakeViewInput): ControlView {
  const base = baseSystem(input);
  if (name === "synced") {
    return {
      system: {
        ...base,
        leap: 0,
        stratum: 2,
        referenceId: ipv4("66.220.9.122"),
        referenceTime: ago(input.nowUnixSeconds, 41),
        systemPeerAssociationId: syncedAssociationIds[0],
        events: { count: 2, lastCode: SystemEvent.clockSynchronised },
      },
      peers: [
        peer(input, {
          associationId: syncedAssociationIds[0],
          sourceAddress: "66.220.9.122",
          selection: PeerSelection.systemPeer,
          events: { count: 2, lastCode: PeerEvent.systemPeer },
        }),
        peer(input, {
          associationId: syncedAssociationIds[1],
          sourceAddress: "216.218.254.202",
          hostname: "clock.sjc.he.net",
          hostPollLog2: 10,
          peerPollLog2: 10,
          delaySeconds: 0.002127,
          offsetSeconds: 0.005663,
          jitterSeconds: 0.00618,
          receiveTime: ago(input.nowUnixSeconds, 77),
        }),
        peer(input, {
          associationId: syncedAssociationIds[2],
          sourceAddress: "204.123.2.72",
          referenceId: refidFromAscii("GPS"),
          delaySeconds: 0.004908,
          offsetSeconds: -0.002753,
          jitterSeconds: 0.005031,
          selection: PeerSelection.outlier,
          receiveTime: ago(input.nowUnixSeconds, 257),
        }),
      ],
      clients: clients(input),
    };
  }
  if (name === "unsynced") {
    const never = {
      leap: 3 as const,
      stratum: 16,
      referenceId: refidFromAscii("INIT"),
      referenceTime: zero,
      reach: 0,
      unreachPolls: 3,
      delaySeconds: 0,
      offsetSeconds: 0,
      jitterSeconds: 0,
      dispersionSeconds: 16,
      receiveTime: zero,
      transmitTime: zero,
      filterDelaySeconds: [],
      filterOffsetSeconds: [],
      filterDispersionSeconds: [],
      selection: PeerSelection.rejected,
      hostPollLog2: 6,
      peerPollLog2: 10,
      events: { count: 1, lastCode: PeerEvent.mobilised },
    };
    return {
      system: {
        ...base,
        leap: 3,
        stratum: 16,
        referenceId: refidFromAscii("INIT"),
        referenceTime: zero,
        pollLog2: 6,
        systemPeerAssociationId: 0,
        rootDelaySeconds: 0,
        rootDispersionSeconds: 0,
        events: { count: 1, lastCode: SystemEvent.frequencyNotSet },
      },
      peers: [
        peer(input, { associationId: 40001, sourceAddress: "192.0.2.1", ...never }),
        peer(input, { associationId: 40002, sourceAddress: "2001:db8::123", ...never }),
      ],
      clients: [],
    };
  }
  return {
    system: {
      ...base,
      leap: 0,
      stratum: 10,
      referenceId: ipv4("127.0.0.1"),
      referenceTime: ago(input.nowUnixSeconds, 1),
      rootDelaySeconds: 0,
      rootDispersionSeconds: 0,
      pollLog2: 6,
      systemPeerAssociationId: 0,
      events: { count: 1, lastCode: SystemEvent.clockSynchronised },
    },
    peers: [],
    clients: [],
  };
}
