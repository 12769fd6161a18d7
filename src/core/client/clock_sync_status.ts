// What the time keeper tells the clock driver about synchronisation (the kernel's STA_UNSYNC, maxerror, esterror and leap bits).

/** What the kernel (and adjtimex-based tools such as timedatectl) is told about the sync state. */
export interface ClockSyncStatus {
  /** False sets STA_UNSYNC. */
  readonly synchronised: boolean;
  /** 0 none, 1 insert a second at the end of the day, 2 delete one (STA_INS / STA_DEL). */
  readonly leap: 0 | 1 | 2;
  /** Maximum error, seconds (timex.maxerror). */
  readonly maxErrorSeconds: number;
  /** Estimated error, seconds (timex.esterror). */
  readonly estErrorSeconds: number;
}
