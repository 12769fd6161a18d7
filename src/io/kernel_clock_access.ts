// The two kernel clock calls a clock driver makes (read CLOCK_REALTIME, clock_adjtime), behind one injectable record.
import type { ClockReading } from "./clock_driver.ts";
import { readRealtime } from "./clock_realtime.ts";
import { Const, openLibc } from "./libc.ts";

/**
 * clock_adjtime(CLOCK_REALTIME, &timex): reads and (when `modes` != 0) changes the kernel clock.
 * `timex` holds a 208-byte struct timex (see timex.ts) that the call updates in place with the
 * kernel's state. Returns the clock state (TIME_OK .. TIME_ERROR, >= 0) or the negated errno.
 */
export type ClockAdjtime = (timex: Uint8Array) => number;

/**
 * How clock drivers reach the kernel clock. The real one goes through libc; tests pass a
 * simulated kernel (tests/support/simulated_kernel.ts) with the same shape.
 */
export interface KernelClockAccess {
  /** Reads CLOCK_REALTIME. */
  readonly readRealtime: () => ClockReading;
  /** clock_adjtime on CLOCK_REALTIME (see {@link ClockAdjtime}). */
  readonly adjtime: ClockAdjtime;
}

let libcAccess: KernelClockAccess | undefined;

/**
 * The real kernel clock through libc (clock_gettime and clock_adjtime via FFI); one per thread.
 * Needs --allow-ffi and Linux x86_64/aarch64 (throws otherwise). A call with `modes` != 0 fails
 * with -EPERM unless the process holds CAP_SYS_TIME.
 *
 * @example
 * ```ts
 * import { encodeTimex } from "./timex.ts";
 * const access = libcKernelClockAccess();
 * const timex = encodeTimex({}); // modes 0: read only
 * const state = access.adjtime(timex);
 * ```
 */
export function libcKernelClockAccess(): KernelClockAccess {
  if (libcAccess !== undefined) return libcAccess;
  const libc = openLibc();
  libcAccess = {
    readRealtime,
    adjtime: (timex) => {
      const result = libc.symbols.clock_adjtime(Const.CLOCK_REALTIME, timex);
      return result < 0 ? -libc.errno() : result;
    },
  };
  return libcAccess;
}

const errnoTexts: Readonly<Record<number, string>> = {
  1: "EPERM (Operation not permitted)",
  14: "EFAULT (Bad address)",
  22: "EINVAL (Invalid argument)",
  95: "EOPNOTSUPP (Operation not supported)",
};

/** A failed clock_adjtime call: which operation, the errno, and what to do about it. */
export class ClockAdjtimeError extends Error {
  /** The errno the kernel returned (1 = EPERM). */
  readonly errno: number;

  /** Builds the message from the operation ("set the clock frequency") and the errno. */
  constructor(operation: string, errno: number) {
    const what = errnoTexts[errno] ?? `errno ${errno}`;
    const hint = errno === 1
      ? ": this process lacks CAP_SYS_TIME; run it as root or grant CAP_SYS_TIME " +
        "(systemd: AmbientCapabilities=CAP_SYS_TIME), or use the soft clock (--clock soft)"
      : "";
    super(`Cannot ${operation}: clock_adjtime(CLOCK_REALTIME) failed with ${what}${hint}`);
    this.name = "ClockAdjtimeError";
    this.errno = errno;
  }
}
