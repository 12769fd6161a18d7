// Shared types of the responder: what the I/O layer hands the pure core, and what it gets back.
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";

/** Leap indicator: 0 no warning, 1 last minute has 61 s, 2 last minute has 59 s, 3 unsynchronised. */
export type LeapIndicator = 0 | 1 | 2 | 3;

/** An IP source or destination as raw network-order bytes (4 for IPv4, 16 for IPv6) plus port. */
export interface ClientAddress {
  /** 4 or 6. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is presented as family 4. */
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  /** UDP source port. */
  readonly port: number;
}

/**
 * What the responder advertises about this server, published by the daemon and read by every
 * responder worker. Until synchronised (and outside orphan mode): leap 3, stratum 16, refid INIT.
 */
export interface SystemSnapshot {
  readonly leap: LeapIndicator;
  /** 1..16; 16 means unsynchronised. Clients see 0 only in Kiss-o'-Death packets. */
  readonly stratum: number;
  /** log2 seconds of the clock reading precision, measured at start (e.g. -24). */
  readonly precisionLog2: number;
  /** Reference ID as a big-endian uint32 (IPv4 address, hash of IPv6, or 4 ASCII chars). */
  readonly referenceId: number;
  /** When the clock was last set or corrected (zero timestamp before that). */
  readonly referenceTime: NtpTimestamp;
  /** Total round-trip delay to the primary source, seconds (>= 0). */
  readonly rootDelaySeconds: number;
  /** Total dispersion to the primary source, seconds (>= 0). */
  readonly rootDispersionSeconds: number;
}

/** restrict flags, with ntp.conf's meanings. */
export type RestrictFlag =
  | "ignore"
  | "noserve"
  | "noquery"
  | "nomodify"
  | "notrap"
  | "nopeer"
  | "kod"
  | "limited";

/**
 * One access rule in matching form. `restrict default` becomes one rule per family with an
 * all-zero mask. The most specific matching rule (longest mask) wins, as in ntpd.
 */
export interface RestrictRule {
  readonly family: 4 | 6;
  /** Network bytes (already masked), 4 or 16. */
  readonly network: Uint8Array;
  /** Mask bytes, same length as network. */
  readonly mask: Uint8Array;
  readonly flags: readonly RestrictFlag[];
}

/** Per-client rate limiting, applied to clients whose rule carries `limited`. */
export interface RateLimitPolicy {
  /** Long-term average interval a client may use, log2 seconds (ntp.conf `discard average`, default 3 = 8 s). */
  readonly averageLog2: number;
  /** Minimum spacing of packets, seconds (ntp.conf `discard minimum`); packets closer than this use up burst credit. */
  readonly minimumSeconds: number;
  /** Packets a client may send back to back before being limited (a polite iburst or monitor never hits it). */
  readonly burstPackets: number;
  /** Clients remembered at most (ntp.conf `discard monitor` in ntpd is a size; here an entry count). */
  readonly tableEntries: number;
}

/** Everything the responder's decisions depend on besides the packet and the system snapshot. */
export interface ServerPolicy {
  readonly restrict: readonly RestrictRule[];
  readonly rateLimit: RateLimitPolicy;
}

/** Why a datagram was dropped; each has a counter. */
export type DropReason =
  | "tooShort"
  | "badLength"
  | "badVersion"
  | "badMode"
  | "mode7"
  | "restricted"
  | "rateLimited"
  | "malformedExtension"
  | "controlDenied"
  /** Source port 0: no reply can be sent to it (and sendmmsg would fail the whole batch). */
  | "badPort"
  /** NTS fields incomplete or malformed (or no room for a reply within the request's size). */
  | "ntsMalformed"
  /** The NTS authenticator did not verify (dropped silently, RFC 8915 §5.7 allows a NAK). */
  | "ntsBadAuthenticator";

/** The responder's decision for one datagram. */
export type ServerVerdict =
  /** A reply of `length` bytes has been written to the output buffer except its transmit
   * timestamp (bytes 40..47), which the I/O layer writes immediately before sending.
   * Exception: when `transmitWritten` is true the reply is final and must be sent unchanged:
   * a Kiss-o'-Death (`kissOfDeath`: bytes 40..47 hold the request's transmit timestamp, as
   * ntpd sends a KoD, revealing no time) or an NTS reply (sealed with its transmit time). */
  | {
    readonly action: "reply";
    readonly length: number;
    readonly kissOfDeath: boolean;
    readonly transmitWritten: boolean;
  }
  /** Nothing is sent. */
  | { readonly action: "drop"; readonly reason: DropReason }
  /** A mode 6 control request that passed access checks; the daemon answers it. */
  | { readonly action: "control" };
