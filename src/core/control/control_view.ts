// What the control protocol reports (system, associations, server counters, recent clients), in units; the daemon fills it in.
import type { LeapIndicator, RestrictFlag } from "../server/types.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";

/** System event codes of the system status word (ntpd's EVNT_*); ntpq names them. */
export const SystemEvent = {
  unspecified: 0,
  frequencyNotSet: 1,
  frequencySet: 2,
  spikeDetected: 3,
  frequencyMode: 4,
  clockSynchronised: 5,
  restart: 6,
  panicStop: 7,
  noSystemPeer: 8,
  leapArmed: 9,
  leapDisarmed: 10,
  leapEvent: 11,
  clockStepped: 12,
  kernel: 13,
  taiChanged: 14,
  staleLeapValues: 15,
} as const;

/** Peer event codes of the peer status word (ntpd's PEVNT_*). */
export const PeerEvent = {
  unspecified: 0,
  mobilised: 1,
  demobilised: 2,
  unreachable: 3,
  reachable: 4,
  restart: 5,
  noReply: 6,
  rateExceeded: 7,
  accessDenied: 8,
  leapArmed: 9,
  systemPeer: 10,
  clockEvent: 11,
  badAuth: 12,
  popcorn: 13,
  interleaveMode: 14,
  interleaveError: 15,
} as const;

/**
 * Selection status of an association, the `sel` field of the peer status word: the
 * discipline's own codes (ntpq shows them as the tally character, see tallyCharacter()).
 */
export { Selection as PeerSelection } from "../discipline/select_sources.ts";

/** An event counter (0..15, saturating) and the code of the most recent event. */
export interface EventRecord {
  readonly count: number;
  readonly lastCode: number;
}

/** Packet counters of the time service, as `ntpq -c sysstats` shows them (ntpd's ss_* variables). */
export interface ServerCounters {
  /** Every datagram received on the NTP port (time requests, control, junk). */
  readonly receivedPackets: number;
  /** Time requests answered with a normal mode 4 reply (ntpd's "processed for time"). */
  readonly servedPackets: number;
  /** Kiss-o'-Death replies sent. */
  readonly kodSentPackets: number;
  /** Requests dropped by rate limiting (no reply, or the KoD counted above). */
  readonly rateLimitedPackets: number;
  /** Requests dropped by `restrict` (ignore, noserve, noquery). */
  readonly restrictedPackets: number;
  /** Datagrams dropped as malformed: too short, bad length, bad version, bad mode, bad extension. */
  readonly badFormatPackets: number;
  /** Requests declined by policy that are not access rules (mode 7, source port 0). */
  readonly declinedPackets: number;
  /** Mode 6 requests received from allowed sources. */
  readonly controlRequests: number;
  /**
   * Time requests of version 4 that passed the access rules (ntpd's "current version",
   * ss_thisver). Not an outcome: such a request is also served, sent a KoD or rate limited.
   */
  readonly currentVersionPackets: number;
  /** Likewise for versions 1..3 (ntpd's "older version", ss_oldver). */
  readonly olderVersionPackets: number;
  /** Of those, version 1 (ntpsec's "NTPv1 clients", ss_ver1client). */
  readonly version1ClientPackets: number;
  /** Requests dropped because their authentication failed (NTS authenticator; ss_badauth). */
  readonly badAuthPackets: number;
  /** NTS: authenticated requests answered (also in servedPackets; ntpsec's nts_server_send). */
  readonly ntsServedPackets: number;
  /** NTS NAKs sent (also in kodSentPackets; ntpsec's nts_cookie_decode_error). */
  readonly ntsNakPackets: number;
  /** NTS requests malformed, unauthenticated or NAKed (ntpsec's nts_server_recv_bad). */
  readonly ntsBadPackets: number;
  /** Cookies made, in NTS replies and NTS-KE answers (ntpsec's nts_cookie_make). */
  readonly ntsCookiesMade: number;
  /** NTS-KE exchanges that handed out keys and cookies (ntpsec's nts_ke_serves_good). */
  readonly ntsKeGood: number;
  /** NTS-KE connections that ended otherwise: TLS failure, bad request, timeout, refused. */
  readonly ntsKeBad: number;
  /** Clients in the rate-limit/monitor tables of all responder threads (ntpq's mru_depth). */
  readonly clientTableEntries: number;
  /** Clients those tables hold at most (`discard monitor` per thread; mru_maxdepth). */
  readonly clientTableCapacity: number;
  /** Bytes the tables take, allocated once at start (mru_maxmem). */
  readonly clientTableBytes: number;
  /** Requests whose client had an entry (mru_exists). */
  readonly clientsExisting: number;
  /** New clients given a free entry (mru_new). */
  readonly clientsNew: number;
  /** New clients given the entry of the least recently seen one, the table being full (mru_recyclefull). */
  readonly clientsRecycled: number;
  /** Seconds since the least recently seen client was seen (mru_oldest_age). */
  readonly clientTableOldestAgeSeconds: number;
}

/** The system (association 0) as ntpq's `rv` and ntpstat read it. */
export interface ControlSystemView {
  readonly leap: LeapIndicator;
  /** 1..16 (16 = unsynchronised). */
  readonly stratum: number;
  /** log2 seconds. */
  readonly precisionLog2: number;
  /** Seconds, >= 0. */
  readonly rootDelaySeconds: number;
  /** Seconds, >= 0. */
  readonly rootDispersionSeconds: number;
  /** Big-endian uint32 (IPv4 address, IPv6 hash, or ASCII code such as INIT). */
  readonly referenceId: number;
  readonly referenceTime: NtpTimestamp;
  /** System poll interval (ntpd's time constant `tc`), log2 seconds; ntpstat prints 2^tc. */
  readonly pollLog2: number;
  /** Smallest time constant allowed (`mintc`), log2 seconds. */
  readonly minPollLog2: number;
  /** Association id of the system peer, 0 when there is none. */
  readonly systemPeerAssociationId: number;
  /** Last clock offset, seconds (positive: the local clock was behind). */
  readonly offsetSeconds: number;
  /** Frequency correction, ppm. */
  readonly frequencyPpm: number;
  /** Combined jitter of the survivors, seconds. */
  readonly systemJitterSeconds: number;
  /** Jitter of the clock discipline, seconds. */
  readonly clockJitterSeconds: number;
  /** Frequency wander, ppm. */
  readonly clockWanderPpm: number;
  /** e.g. "ntp 0.1.0". */
  readonly version: string;
  /** Machine, e.g. "x86_64". */
  readonly processor: string;
  /** Operating system and release, e.g. "Linux/6.1.0". */
  readonly system: string;
  readonly events: EventRecord;
  /** Seconds since the daemon started. */
  readonly uptimeSeconds: number;
  readonly counters: ServerCounters;
  /** What the leap-seconds file says (ntpd's `tai`, `leapsec`, `expire`); absent without one. */
  readonly leapFile?: ControlLeapFile;
  /**
   * Leap smearing (NTPsec's `leapsmearinterval` and `leapsmearoffset`); absent when it is off.
   * `offsetSeconds` is what a smearing listen address adds to the time now.
   */
  readonly leapSmear?: { readonly intervalSeconds: number; readonly offsetSeconds: number };
}

/** The leap-seconds file as mode 6 shows it. */
export interface ControlLeapFile {
  /** TAI - UTC now, seconds. */
  readonly taiOffsetSeconds: number;
  /** The latest leap in the file, Unix seconds. */
  readonly lastLeapUnixSeconds: number;
  /** The file's expiry, Unix seconds. */
  readonly expiresUnixSeconds: number;
}

/** One association (upstream server) as `ntpq -p` and `rv &N` read it. */
export interface ControlPeerView {
  /** 1..65535, stable for the association's life. */
  readonly associationId: number;
  /** IP literal of the server ("192.0.2.1", "2001:db8::1"). */
  readonly sourceAddress: string;
  readonly sourcePort: number;
  /** The configured name, if any (ntpq's `srchost`). */
  readonly hostname?: string;
  /** Our local address used for it, or null when not bound yet. */
  readonly localAddress: string | null;
  readonly localPort: number;
  /** Configured by the operator (ntpd's FLAG_CONFIG): the peer is listed by `ntpq -p`. */
  readonly configured: boolean;
  /** Leap indicator the server sent. */
  readonly leap: LeapIndicator;
  /** The server's stratum (16 until it answered). */
  readonly stratum: number;
  readonly precisionLog2: number;
  readonly rootDelaySeconds: number;
  readonly rootDispersionSeconds: number;
  /** The server's refid (big-endian uint32); "INIT" before the first answer. */
  readonly referenceId: number;
  readonly referenceTime: NtpTimestamp;
  /** Our mode toward it: 3 client (default), 1 symmetric active, 5 broadcast server, 6 broadcast client. */
  readonly hostMode: number;
  /** The mode of its last packet (4 for a server). */
  readonly peerMode: number;
  /** The server's poll exponent (log2 s). */
  readonly peerPollLog2: number;
  /** Our poll exponent toward it (log2 s). */
  readonly hostPollLog2: number;
  /** Reachability register, uint8, most recent poll in bit 0. */
  readonly reach: number;
  /** Polls since the last answer. */
  readonly unreachPolls: number;
  /** Seconds, >= 0. */
  readonly delaySeconds: number;
  /** Seconds, positive: our clock is behind this server. */
  readonly offsetSeconds: number;
  /** Seconds, >= 0. */
  readonly jitterSeconds: number;
  /** Seconds, >= 0. */
  readonly dispersionSeconds: number;
  /** When its last packet arrived (our receive timestamp); zero timestamp if never. ntpq's "when" is now minus this. */
  readonly receiveTime: NtpTimestamp;
  /** Its last packet's transmit timestamp; zero if never. */
  readonly transmitTime: NtpTimestamp;
  /** The clock filter, newest first (up to 8 each), seconds. */
  readonly filterDelaySeconds: readonly number[];
  readonly filterOffsetSeconds: readonly number[];
  readonly filterDispersionSeconds: readonly number[];
  /** 0..7, see {@link PeerSelection}. */
  readonly selection: number;
  /** ntpd's flash bits (packet tests that failed on the last packet); 0 = ok. */
  readonly flashBits: number;
  readonly events: EventRecord;
  /** NTS (RFC 8915) of this association; absent for plain NTP. */
  readonly nts?: ControlPeerNts;
}

/** The NTS session of one association, as mode 6 shows it. */
export interface ControlPeerNts {
  /** "ready", "key exchange", "no cookies" or "failed". */
  readonly phase: string;
  readonly cookies: number;
  /** "host:port" of the NTS-KE server. */
  readonly keServer: string;
  /** Why it cannot be used or was last refused; "" when nothing is wrong. */
  readonly problem: string;
  /** NTS requests sent. */
  readonly requests: number;
  readonly authenticated: number;
  readonly dropped: number;
  readonly naks: number;
  readonly keyExchanges: number;
  /** Key exchanges that succeeded. */
  readonly keyExchangesGood: number;
  readonly keyExchangeFailures: number;
}

/** One client of the recently-used list (`ntpq -c mrulist`). */
export interface MruEntry {
  /** IP literal of the client. */
  readonly address: string;
  readonly port: number;
  readonly firstSeen: NtpTimestamp;
  readonly lastSeen: NtpTimestamp;
  /** Packets received from it. */
  readonly packets: number;
  /** NTP mode of its last packet (3 client, 6 control, ...). */
  readonly mode: number;
  /** NTP version of its last packet. */
  readonly version: number;
  /** The restrict flags that applied to it (ntpq shows K for kod, L for limited). */
  readonly restrictFlags: readonly RestrictFlag[];
  /** Packets not answered (rate limited or denied). */
  readonly droppedPackets: number;
}

/** Everything the control protocol answers from, taken once per request. */
export interface ControlView {
  readonly system: ControlSystemView;
  /** Associations in ascending association id order. */
  readonly peers: readonly ControlPeerView[];
  /**
   * Recently seen clients, any order, at most one per address and port; READ_MRU pages through
   * them oldest first (any number: ntpq continues until it has them all).
   */
  readonly clients: readonly MruEntry[];
}

const zeroCounters: ServerCounters = Object.freeze({
  receivedPackets: 0,
  servedPackets: 0,
  kodSentPackets: 0,
  rateLimitedPackets: 0,
  restrictedPackets: 0,
  badFormatPackets: 0,
  declinedPackets: 0,
  controlRequests: 0,
  currentVersionPackets: 0,
  olderVersionPackets: 0,
  version1ClientPackets: 0,
  badAuthPackets: 0,
  ntsServedPackets: 0,
  ntsNakPackets: 0,
  ntsBadPackets: 0,
  ntsCookiesMade: 0,
  ntsKeGood: 0,
  ntsKeBad: 0,
  clientTableEntries: 0,
  clientTableCapacity: 0,
  clientTableBytes: 0,
  clientsExisting: 0,
  clientsNew: 0,
  clientsRecycled: 0,
  clientTableOldestAgeSeconds: 0,
});

/** All-zero {@link ServerCounters}. */
export const ZERO_SERVER_COUNTERS: ServerCounters = zeroCounters;

/**
 * Maps the responders' counter record (`Responders.counters()`: received, served, kodSent,
 * control, drop*, currentVersion, olderVersion, nts*), with the NTS-KE server's (ntsKe*:
 * Connections, KeysIssued, CookiesIssued, Open) merged in, onto {@link ServerCounters}.
 * Missing names count as 0.
 *
 * @example
 * ```ts
 * import type { Responders } from "../../io/responders_types.ts";
 * declare const responders: Responders;
 * const counters = serverCountersFromRecord(responders.counters());
 * ```
 */
export function serverCountersFromRecord(record: Readonly<Record<string, number>>): ServerCounters {
  const n = (name: string) => record[name] ?? 0;
  return {
    receivedPackets: n("received"),
    servedPackets: n("served"),
    kodSentPackets: n("kodSent") + n("ntsNakSent"),
    rateLimitedPackets: n("dropRateLimited"),
    restrictedPackets: n("dropRestricted") + n("dropControlDenied"),
    badFormatPackets: n("dropTooShort") + n("dropBadLength") + n("dropBadVersion") +
      n("dropBadMode") + n("dropMalformedExtension") + n("dropNtsMalformed"),
    declinedPackets: n("dropMode7") + n("dropBadPort"),
    controlRequests: n("control"),
    currentVersionPackets: n("currentVersion"),
    olderVersionPackets: n("olderVersion"),
    version1ClientPackets: n("version1"),
    badAuthPackets: n("dropNtsBadAuthenticator"),
    ntsServedPackets: n("ntsServed"),
    ntsNakPackets: n("ntsNakSent"),
    ntsBadPackets: n("ntsNakSent") + n("dropNtsMalformed") + n("dropNtsBadAuthenticator"),
    ntsCookiesMade: n("ntsCookiesIssued") + n("ntsKeCookiesIssued"),
    ntsKeGood: n("ntsKeKeysIssued"),
    ntsKeBad: n("ntsKeConnections") - n("ntsKeKeysIssued") - n("ntsKeOpen"),
    clientTableEntries: n("clientTableEntries"),
    clientTableCapacity: n("clientTableCapacity"),
    clientTableBytes: n("clientTableBytes"),
    clientsExisting: n("clientsExisting"),
    clientsNew: n("clientsNew"),
    clientsRecycled: n("clientsRecycled"),
    clientTableOldestAgeSeconds: n("clientTableOldestAgeSeconds"),
  };
}
