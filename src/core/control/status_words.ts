// The system and peer status words of mode 6 responses: building them from the view and taking them apart.
import type { LeapIndicator } from "../server/types.ts";
import type { ControlPeerView, ControlSystemView } from "./control_view.ts";

/** Clock source codes of the system status word; ntpstat names them. */
export const ClockSource = {
  unspecified: 0,
  atomicClock: 1,
  vlfRadio: 2,
  hfRadio: 3,
  uhfRadio: 4,
  localNet: 5,
  /** Synchronised to another NTP server: ntpstat prints "NTP server (refid)". */
  ntpServer: 6,
  udpTime: 7,
  wristwatch: 8,
  modem: 9,
} as const;

/** The parts of a system status word. */
export interface SystemStatus {
  readonly leap: LeapIndicator;
  /** 0..63, see {@link ClockSource}. */
  readonly clockSource: number;
  readonly eventCount: number;
  readonly eventCode: number;
}

/** The parts of a peer status word. */
export interface PeerStatus {
  readonly configured: boolean;
  readonly authEnabled: boolean;
  readonly authentic: boolean;
  readonly reachable: boolean;
  readonly broadcast: boolean;
  /** 0..7, see PeerSelection. */
  readonly selection: number;
  readonly eventCount: number;
  readonly eventCode: number;
}

/**
 * The system status word: leap (bits 15-14), clock source (13-8), event counter (7-4) and last
 * event code (3-0). The clock source is "NTP server" (6) when there is a system peer, else
 * unspecified (0), as classic ntpd reports it.
 *
 * @example
 * ```ts
 * import type { ControlView } from "./control_view.ts";
 * declare const view: ControlView;
 * systemStatusWord(view.system); // 0x0615: leap 0, NTP server, 1 event, clock_sync
 * ```
 */
export function systemStatusWord(system: ControlSystemView): number {
  const source = system.systemPeerAssociationId !== 0
    ? ClockSource.ntpServer
    : ClockSource.unspecified;
  return ((system.leap & 3) << 14) | (source << 8) | (nibble(system.events.count) << 4) |
    (system.events.lastCode & 0xf);
}

/**
 * The peer status word: configured (bit 15), auth enabled (14, NTS associations), authentic (13,
 * set as ntpd does for peers without authentication; for NTS once replies verify), reachable (12, reach != 0), broadcast (11), selection
 * (10-8), event counter (7-4), last event code (3-0).
 *
 * @example
 * ```ts
 * import type { ControlPeerView } from "./control_view.ts";
 * declare const peer: ControlPeerView;
 * peerStatusWord(peer); // 0xb61a: configured, reachable, sys.peer, 1 event, sys_peer
 * ```
 */
export function peerStatusWord(peer: ControlPeerView): number {
  // An NTS association has authentication enabled; it is authentic once its replies verify and
  // nothing is wrong since (ntpq's `associations` then shows auth "ok", else "bad").
  const auth = peer.nts === undefined
    ? 0x20
    : 0x40 | (peer.nts.problem === "" && peer.nts.authenticated > 0 ? 0x20 : 0);
  const statusBits = (peer.configured ? 0x80 : 0) | auth | ((peer.reach & 0xff) !== 0 ? 0x10 : 0) |
    (peer.selection & 7);
  return (statusBits << 8) | (nibble(peer.events.count) << 4) | (peer.events.lastCode & 0xf);
}

/**
 * Splits a system status word into its fields.
 *
 * @example
 * ```ts
 * decodeSystemStatus(0xc016).leap; // 3
 * ```
 */
export function decodeSystemStatus(word: number): SystemStatus {
  return {
    leap: ((word >>> 14) & 3) as LeapIndicator,
    clockSource: (word >>> 8) & 0x3f,
    eventCount: (word >>> 4) & 0xf,
    eventCode: word & 0xf,
  };
}

/**
 * Splits a peer status word into its fields.
 *
 * @example
 * ```ts
 * decodePeerStatus(0xb61a).selection; // 6
 * ```
 */
export function decodePeerStatus(word: number): PeerStatus {
  const bits = (word >>> 8) & 0xff;
  return {
    configured: (bits & 0x80) !== 0,
    authEnabled: (bits & 0x40) !== 0,
    authentic: (bits & 0x20) !== 0,
    reachable: (bits & 0x10) !== 0,
    broadcast: (bits & 0x08) !== 0,
    selection: bits & 7,
    eventCount: (word >>> 4) & 0xf,
    eventCode: word & 0xf,
  };
}

function nibble(count: number): number {
  if (!(count > 0)) return 0;
  return count >= 15 ? 15 : Math.floor(count);
}
