// What the server advertises (leap, stratum, refid, root distance) given its synchronisation
// state and ntpd's orphan mode; pure, with the current time passed in.
import type { LeapIndicator, SystemSnapshot } from "../server/types.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";

/** refid "INIT" as a big-endian uint32: what an unsynchronised server shows. */
export const refidInit = 0x494e4954;
/** refid 127.0.0.1, which ntpd uses in orphan mode above stratum 1. */
export const refidLoopback = 0x7f000001;
/** refid "ORPH", which ntpd uses in orphan mode at stratum 1. */
export const refidOrphan = 0x4f525048;

/** ntp.conf `tos orphan N orphanwait S`. */
export interface OrphanSettings {
  /** Stratum served while in orphan mode (1..15). */
  readonly stratum: number;
  /** Seconds after start before orphan mode may begin (ntpd's default is 300). */
  readonly waitSeconds: number;
}

/** The synchronisation the discipline currently reports; null fields mean "none yet". */
export interface SyncState {
  /** Seconds since the daemon started (monotonic). */
  readonly uptimeSeconds: number;
  /** The current time, for the reference timestamp in orphan mode. */
  readonly now: NtpTimestamp;
  /** Measured clock reading precision, log2 seconds. */
  readonly precisionLog2: number;
  /** Set when a system peer is selected; absent while unsynchronised. */
  readonly synchronised?: {
    readonly leap: LeapIndicator;
    readonly stratum: number;
    readonly referenceId: number;
    readonly referenceTime: NtpTimestamp;
    readonly rootDelaySeconds: number;
    readonly rootDispersionSeconds: number;
  };
}

const zeroTimestamp: NtpTimestamp = { seconds: 0, fraction: 0 };

/**
 * The snapshot responders publish. Synchronised: the discipline's values. Otherwise, with
 * orphan mode configured and its wait over, the local clock at the orphan stratum with LI=0
 * (as ntpd does when no upstream is usable); otherwise LI=3, stratum 16, refid INIT.
 */
export function systemSnapshot(sync: SyncState, orphan: OrphanSettings | null): SystemSnapshot {
  if (sync.synchronised) {
    return { ...sync.synchronised, precisionLog2: sync.precisionLog2 };
  }
  if (orphan && sync.uptimeSeconds >= orphan.waitSeconds) {
    return {
      leap: 0,
      stratum: orphan.stratum,
      precisionLog2: sync.precisionLog2,
      referenceId: orphan.stratum > 1 ? refidLoopback : refidOrphan,
      referenceTime: sync.now,
      rootDelaySeconds: 0,
      rootDispersionSeconds: 0,
    };
  }
  return {
    leap: 3,
    stratum: 16,
    precisionLog2: sync.precisionLog2,
    referenceId: refidInit,
    referenceTime: zeroTimestamp,
    rootDelaySeconds: 0,
    rootDispersionSeconds: 0,
  };
}
