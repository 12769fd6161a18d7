// Chooses the clock driver (--clock auto|kernel|soft) from the process's capabilities.
import type { ClockDriver } from "./clock_driver.ts";
import { createKernelClock } from "./clock_kernel.ts";
import { createSoftClock } from "./clock_soft.ts";
import type { KernelClockAccess } from "./kernel_clock_access.ts";

/** What `--clock` / `[serve] clock` accepts. */
export type ClockDriverChoice = "auto" | "kernel" | "soft";

/** Facts and options for {@link selectClockDriver}. */
export interface SelectClockOptions {
  /** Whether the process holds CAP_SYS_TIME (hasCapability(Capability.sysTime)). */
  readonly holdsSysTime: boolean;
  /** How to reach the kernel; default the real one through libc. Tests pass a simulated kernel. */
  readonly access?: KernelClockAccess;
  /** Starting frequency of the soft clock, ppm (the kernel keeps its own); default 0. */
  readonly softInitialFreqPpm?: number;
}

/** The chosen driver and a sentence saying why, for the start-up log. */
export interface ClockDriverSelection {
  readonly driver: ClockDriver;
  readonly reason: string;
}

/** The choice cannot be honoured: "kernel" without CAP_SYS_TIME. */
export class ClockChoiceError extends Error {
  /** Builds the error for `choice`. */
  constructor(choice: ClockDriverChoice) {
    super(
      `Cannot use the ${choice} clock: this process lacks CAP_SYS_TIME; run it as root or ` +
        `grant CAP_SYS_TIME (systemd: AmbientCapabilities=CAP_SYS_TIME), or use --clock soft`,
    );
    this.name = "ClockChoiceError";
  }
}

/**
 * Picks the driver: "kernel" disciplines the host clock and needs CAP_SYS_TIME (else throws
 * ClockChoiceError); "soft" keeps a private correction and serves corrected time; "auto" takes
 * kernel when CAP_SYS_TIME is held, else soft. Creating a driver changes nothing on the host.
 *
 * @example
 * ```ts
 * import { Capability, hasCapability } from "./capabilities.ts";
 * const { driver, reason } = selectClockDriver("auto", {
 *   holdsSysTime: hasCapability(Capability.sysTime),
 * });
 * ```
 */
export function selectClockDriver(
  choice: ClockDriverChoice,
  options: SelectClockOptions,
): ClockDriverSelection {
  const kernelAccess = options.access === undefined ? {} : { access: options.access };
  const soft = (reason: string): ClockDriverSelection => ({
    driver: createSoftClock({
      ...(options.access === undefined ? {} : { kernel: options.access }),
      initialFreqPpm: options.softInitialFreqPpm ?? 0,
    }),
    reason,
  });
  switch (choice) {
    case "kernel":
      if (!options.holdsSysTime) throw new ClockChoiceError(choice);
      return { driver: createKernelClock(kernelAccess), reason: "clock kernel: configured" };
    case "soft":
      return soft("clock soft: configured; the host clock is left alone");
    case "auto":
      return options.holdsSysTime
        ? {
          driver: createKernelClock(kernelAccess),
          reason: "clock auto: CAP_SYS_TIME held, disciplining the kernel clock",
        }
        : soft("clock auto: no CAP_SYS_TIME, serving soft-corrected time");
  }
}
