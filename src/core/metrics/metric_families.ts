// The Prometheus metric families of a ControlView: names, help, labels and values, the same numbers `ntp status --json` reads over mode 6.
import type { ControlPeerView, ControlView, ServerCounters } from "../control/control_view.ts";
import { PeerSelection } from "../control/control_view.ts";

/** The two Prometheus metric types we expose. */
export type MetricType = "counter" | "gauge";

/** One sample of a family: its label values (every label of the family) and its value. */
export interface MetricSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family: `# HELP`, `# TYPE` and its samples. */
export interface MetricFamily {
  /** Matches [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in `_total`. */
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** The label names every sample carries, in this order. */
  readonly labelNames: readonly string[];
  readonly samples: readonly MetricSample[];
}

/**
 * Where each received packet ended, as `ntp_server_packets_total{outcome}`. The outcomes
 * partition `ntp_server_received_packets_total`: every datagram is counted in exactly one.
 */
export const packetOutcomes: readonly (readonly [string, (c: ServerCounters) => number])[] = [
  ["served", (c) => c.servedPackets],
  ["kod", (c) => c.kodSentPackets],
  ["control", (c) => c.controlRequests],
  ["rate_limited", (c) => c.rateLimitedPackets],
  ["restricted", (c) => c.restrictedPackets],
  ["bad_format", (c) => c.badFormatPackets],
  ["bad_auth", (c) => c.badAuthPackets],
  ["declined", (c) => c.declinedPackets],
];

/**
 * Time requests that passed the access rules, by NTP version, as
 * `ntp_server_time_requests_total{version}` (ntpq sysstats' "current version" and "older
 * version"). Not outcomes: each such request is also counted as served, kod or rate_limited.
 */
export const requestVersions: readonly (readonly [string, (c: ServerCounters) => number])[] = [
  ["current", (c) => c.currentVersionPackets],
  ["older", (c) => c.olderVersionPackets],
];

/** Labels of the per-upstream families. */
const peerLabelNames = ["address", "port", "name"] as const;

function peerLabels(peer: ControlPeerView): Record<string, string> {
  return {
    address: peer.sourceAddress,
    port: String(peer.sourcePort),
    name: peer.hostname !== undefined && peer.hostname !== "" ? peer.hostname : peer.sourceAddress,
  };
}

/** ntpq's poll column, 2^min(ppoll, hpoll) s, with the negative exponents sent as 0 (as mode 6 does). */
function peerPollSeconds(peer: ControlPeerView): number {
  return 2 ** Math.min(Math.max(0, peer.hostPollLog2), Math.max(0, peer.peerPollLog2));
}

/** A family's name and help text. */
interface FamilyName {
  readonly name: string;
  readonly help: string;
}

function gauge({ name, help }: FamilyName, value: number): MetricFamily {
  return { name, help, type: "gauge", labelNames: [], samples: [{ labels: {}, value }] };
}

function peerGauge(
  { name, help }: FamilyName,
  { peers, pick }: {
    readonly peers: readonly ControlPeerView[];
    readonly pick: (peer: ControlPeerView) => number;
  },
): MetricFamily {
  return {
    name,
    help,
    type: "gauge",
    labelNames: peerLabelNames,
    samples: peers.map((peer) => ({ labels: peerLabels(peer), value: pick(peer) })),
  };
}

/**
 * The metric families of one view, in exposition order. Units are in the names (seconds, ppm);
 * signs as in the view (offsets positive when the local clock is behind). `synchronised` is 1
 * when the leap indicator is not 3 (alarm), which is what ntpstat and `ntp status` report.
 * Upstreams carry the labels address (IP literal), port and name (configured name, else the
 * address). Peers listed twice with the same address and port would collide; the daemon never
 * mobilises such a pair.
 *
 * @example
 * ```ts
 * import type { ControlView } from "../control/control_view.ts";
 * declare const view: ControlView; // synchronised at stratum 2
 * const families = metricFamiliesOf(view);
 * families.find((f) => f.name === "ntp_system_stratum")!.samples[0]!.value; // 2
 * ```
 */
export function metricFamiliesOf(view: ControlView): MetricFamily[] {
  const system = view.system;
  const counters = system.counters;
  const peers = view.peers;
  return [
    {
      name: "ntp_build_info",
      help: "Always 1; the version label names the running build.",
      type: "gauge",
      labelNames: ["version"],
      samples: [{ labels: { version: system.version }, value: 1 }],
    },
    gauge(
      { name: "ntp_uptime_seconds", help: "Seconds since the daemon started." },
      system.uptimeSeconds,
    ),
    {
      name: "ntp_server_received_packets_total",
      help: "Datagrams received on the NTP port (time requests, mode 6, junk).",
      type: "counter",
      labelNames: [],
      samples: [{ labels: {}, value: counters.receivedPackets }],
    },
    {
      name: "ntp_server_packets_total",
      help: "Received datagrams by outcome: served (mode 4 reply), kod (Kiss-o'-Death sent), " +
        "control (mode 6 answered), rate_limited, restricted, bad_format, bad_auth (NTS " +
        "authenticator failed), declined (dropped). NTS NAKs count as kod.",
      type: "counter",
      labelNames: ["outcome"],
      samples: packetOutcomes.map(([outcome, pick]) => ({
        labels: { outcome },
        value: pick(counters),
      })),
    },
    {
      name: "ntp_server_time_requests_total",
      help: "Time requests (mode 3) that passed the access rules, by NTP version: current (4) " +
        "or older (1..3). Each is also counted once in ntp_server_packets_total (served, kod " +
        "or rate_limited).",
      type: "counter",
      labelNames: ["version"],
      samples: requestVersions.map(([version, pick]) => ({
        labels: { version },
        value: pick(counters),
      })),
    },
    gauge(
      {
        name: "ntp_server_clients_tracked",
        help: "Client addresses in the rate-limit and monitor tables (ntpq monstats' mru_depth).",
      },
      counters.clientTableEntries,
    ),
    gauge(
      {
        name: "ntp_server_clients_tracked_max",
        help: "Client addresses the tables hold at most (discard monitor per responder thread).",
      },
      counters.clientTableCapacity,
    ),
    {
      name: "ntp_server_clients_recycled_total",
      help: "New clients given the entry of the least recently seen one, the tables being full.",
      type: "counter",
      labelNames: [],
      samples: [{ labels: {}, value: counters.clientsRecycled }],
    },
    {
      name: "ntp_nts_requests_total",
      help: "NTS-protected time requests by outcome: served (authenticated reply), nak (cookie " +
        "not valid here), bad (malformed, unauthenticated or NAKed).",
      type: "counter",
      labelNames: ["outcome"],
      samples: [
        { labels: { outcome: "served" }, value: counters.ntsServedPackets },
        { labels: { outcome: "nak" }, value: counters.ntsNakPackets },
        { labels: { outcome: "bad" }, value: counters.ntsBadPackets },
      ],
    },
    {
      name: "ntp_nts_cookies_made_total",
      help: "NTS cookies made, in NTS replies and NTS-KE answers.",
      type: "counter",
      labelNames: [],
      samples: [{ labels: {}, value: counters.ntsCookiesMade }],
    },
    {
      name: "ntp_nts_ke_total",
      help: "NTS-KE connections by outcome: good (keys and cookies handed out) or bad (TLS " +
        "failure, bad request, timeout, refused by a limit).",
      type: "counter",
      labelNames: ["outcome"],
      samples: [
        { labels: { outcome: "good" }, value: counters.ntsKeGood },
        { labels: { outcome: "bad" }, value: counters.ntsKeBad },
      ],
    },
    gauge({
      name: "ntp_system_synchronised",
      help: "1 when the server answers as synchronised (leap indicator not 3), else 0.",
    }, system.leap === 3 ? 0 : 1),
    gauge({
      name: "ntp_system_leap_indicator",
      help: "Leap indicator served: 0 none, 1 insert, 2 delete, 3 unsynchronised.",
    }, system.leap),
    ...(system.leapFile === undefined ? [] : [
      gauge({
        name: "ntp_leapfile_tai_offset_seconds",
        help: "TAI - UTC now, from the leap-seconds file.",
      }, system.leapFile.taiOffsetSeconds),
      gauge({
        name: "ntp_leapfile_expiry_timestamp_seconds",
        help: "When the leap-seconds file expires (its #@ line), Unix seconds.",
      }, system.leapFile.expiresUnixSeconds),
    ]),
    gauge(
      { name: "ntp_system_stratum", help: "Stratum served (16 = unsynchronised)." },
      system.stratum,
    ),
    gauge({
      name: "ntp_system_offset_seconds",
      help: "Last clock offset in seconds; positive means the local clock was behind.",
    }, system.offsetSeconds),
    gauge({
      name: "ntp_system_frequency_ppm",
      help: "Frequency correction of the clock discipline in ppm.",
    }, system.frequencyPpm),
    gauge({
      name: "ntp_system_jitter_seconds",
      help: "Combined jitter of the selected upstreams in seconds.",
    }, system.systemJitterSeconds),
    gauge({
      name: "ntp_system_clock_jitter_seconds",
      help: "Jitter of the clock discipline in seconds.",
    }, system.clockJitterSeconds),
    gauge({
      name: "ntp_system_root_delay_seconds",
      help: "Root delay served: round trip to the primary reference in seconds.",
    }, system.rootDelaySeconds),
    gauge({
      name: "ntp_system_root_dispersion_seconds",
      help: "Root dispersion served in seconds.",
    }, system.rootDispersionSeconds),
    gauge({
      name: "ntp_system_poll_seconds",
      help: "System poll interval (time constant, ntpstat's polling interval) in seconds.",
    }, 2 ** system.pollLog2),
    peerGauge({
      name: "ntp_peer_offset_seconds",
      help: "Upstream offset in seconds; positive means the local clock is behind it.",
    }, { peers: peers, pick: (p) => p.offsetSeconds }),
    peerGauge({
      name: "ntp_peer_delay_seconds",
      help: "Round-trip delay to the upstream in seconds.",
    }, { peers: peers, pick: (p) => p.delaySeconds }),
    peerGauge({ name: "ntp_peer_jitter_seconds", help: "Upstream jitter in seconds." }, {
      peers: peers,
      pick: (p) => p.jitterSeconds,
    }),
    peerGauge({
      name: "ntp_peer_reach",
      help: "Reachability register of the upstream (0..255; bit 0 = the latest poll answered).",
    }, { peers: peers, pick: (p) => p.reach & 0xff }),
    peerGauge({
      name: "ntp_peer_stratum",
      help: "Stratum the upstream reports (16 until it answered).",
    }, { peers: peers, pick: (p) => p.stratum }),
    peerGauge({
      name: "ntp_peer_poll_seconds",
      help: "Poll interval toward the upstream in seconds.",
    }, { peers: peers, pick: peerPollSeconds }),
    peerGauge({
      name: "ntp_peer_selection",
      help: "Selection status (ntpq tally): 0 rejected, 1 falseticker, 2 excess, 3 outlier, " +
        "4 candidate, 5 backup, 6 system peer, 7 PPS peer.",
    }, { peers: peers, pick: (p) => p.selection }),
    peerGauge({
      name: "ntp_peer_system_peer",
      help: "1 for the upstream the clock is synchronised to, else 0.",
    }, { peers: peers, pick: (p) => (p.selection === PeerSelection.systemPeer ? 1 : 0) }),
    ...ntsPeerFamilies(peers.filter((p) => p.nts !== undefined)),
  ];
}

/** The NTS upstreams' families (none without NTS upstreams). */
function ntsPeerFamilies(ntsPeers: readonly ControlPeerView[]): MetricFamily[] {
  if (ntsPeers.length === 0) return [];
  const counter = (
    { name, help }: FamilyName,
    pick: (nts: NonNullable<ControlPeerView["nts"]>) => number,
  ): MetricFamily => ({
    ...peerGauge({ name, help }, { peers: ntsPeers, pick: (p) => pick(p.nts!) }),
    type: "counter",
  });
  return [
    peerGauge({
      name: "ntp_peer_nts_ready",
      help: "1 when the NTS upstream holds keys and cookies (its key exchange succeeded), else 0.",
    }, { peers: ntsPeers, pick: (p) => (p.nts!.phase === "ready" ? 1 : 0) }),
    peerGauge({
      name: "ntp_peer_nts_cookies",
      help: "Unused NTS cookies held for the upstream (0..8).",
    }, { peers: ntsPeers, pick: (p) => p.nts!.cookies }),
    counter({
      name: "ntp_peer_nts_authenticated_total",
      help: "Replies of the NTS upstream that authenticated and reached the clock filter.",
    }, (n) => n.authenticated),
    counter({
      name: "ntp_peer_nts_dropped_total",
      help: "Replies from the NTS upstream's address dropped: not authenticated, another " +
        "request's, or malformed.",
    }, (n) => n.dropped),
    counter({
      name: "ntp_peer_nts_naks_total",
      help: "NTS NAKs from the upstream (each starts a new key exchange).",
    }, (n) => n.naks),
    counter({
      name: "ntp_peer_nts_key_exchanges_total",
      help: "NTS key exchanges started with the upstream.",
    }, (n) => n.keyExchanges),
    counter({
      name: "ntp_peer_nts_key_exchange_failures_total",
      help: "NTS key exchanges with the upstream that failed.",
    }, (n) => n.keyExchangeFailures),
  ];
}
