// Executes a leap second on the soft clock (the kernel inserts its own when STA_INS is set, unless leap smearing has the daemon step it too): at the end of the UTC day of an announcement the served time steps back one second (an insertion repeats 23:59:59) or forward one (a deletion skips 23:59:59), as chronyd does with `leapsecmode step` (what chronyd -x falls back to). The discipline is not told: the upstreams' time scale moves by the same second.
import type { ClockDriver } from "../io/clock_driver.ts";
import { type DaemonTime, systemTime, type TimerHandle } from "./daemon_time.ts";
import { log } from "./logging.ts";
import { DAY_SECONDS, leapDiscontinuityUnixSeconds } from "../core/leap/leap_window.ts";
import type { ArmedLeap } from "../core/leap/leap_smear.ts";

const logger = log("leap");

/** Options of {@link SoftLeapSecond}. */
export interface SoftLeapSecondOptions {
  /**
   * The clock stepped: the soft clock, or the kernel clock while leap smearing (only its reading
   * and its step are used).
   */
  readonly clock: Pick<ClockDriver, "now" | "stepSeconds">;
  /** Names the clock in the log (default "soft clock"). */
  readonly clockName?: string;
  /**
   * Called after the step (to publish the new clock to the responders), and after an insertion
   * once more when the repeated second has passed: the new UTC day, whose announcement (none)
   * is then served at once rather than at the next periodic publication.
   */
  readonly onStep: () => void;
  /**
   * Called before the step, {@link SoftLeapSecond.pending} then saying `executing`; the step
   * follows `settleMs` later (default 0), so that readers of the publication see it first.
   */
  readonly beforeStep?: () => void;
  readonly settleMs?: number;
  readonly time?: DaemonTime;
}

/**
 * Arms a step at the end of the current UTC day (the soft clock's) while a leap is announced,
 * disarms it when the announcement goes away before then, and never executes the same leap twice
 * (after the step the clock reads the last second of the day again).
 *
 * @example
 * ```ts
 * import { createSoftClock } from "../io/clock_soft.ts";
 * const leap = new SoftLeapSecond({ clock: createSoftClock(), onStep: () => {} });
 * leap.announced(1); // called with what is served, at every publication
 * leap.close();
 * ```
 */
export class SoftLeapSecond {
  readonly #options: SoftLeapSecondOptions;
  readonly #time: DaemonTime;
  #armed: { readonly leapUnixSeconds: number; readonly kind: 1 | 2 } | null = null;
  #executing = false;
  #timer: TimerHandle | undefined;
  /** Runs when the second an insertion repeated has passed. */
  #dayTimer: TimerHandle | undefined;
  #executedLeapUnixSeconds: number | null = null;
  #closed = false;

  constructor(options: SoftLeapSecondOptions) {
    this.#options = options;
    this.#time = options.time ?? systemTime;
  }

  /** Takes the announcement now being served (0 none, 1 insert, 2 delete). */
  announced(announcement: 0 | 1 | 2): void {
    if (this.#closed) return;
    const now = this.#nowUnixSeconds();
    // An insertion repeats the day's last second: back one at midnight. A deletion skips it:
    // forward one when 23:59:59 begins.
    const leapUnixSeconds = leapDiscontinuityUnixSeconds(announcement, now);
    if (leapUnixSeconds === null) {
      // Withdrawn before the moment: nothing happens. (At the moment itself the date has moved
      // on and the announcement reads 0: the armed step still runs.)
      if (this.#armed !== null && now < this.#armed.leapUnixSeconds - 1) this.#disarm();
      return;
    }
    if (this.#executedLeapUnixSeconds === leapUnixSeconds || now >= leapUnixSeconds) return;
    if (this.#armed?.leapUnixSeconds === leapUnixSeconds) return;
    this.#disarm();
    this.#armed = { leapUnixSeconds, kind: announcement === 2 ? 2 : 1 };
    logger.info(
      `${this.#options.clockName ?? "soft clock"}: a leap second will be ${
        announcement === 1 ? "inserted" : "deleted"
      } at ${new Date(leapUnixSeconds * 1000).toISOString()} (the served time steps ${
        announcement === 1 ? "back" : "forward"
      } one second)`,
    );
    this.#arm();
  }

  /**
   * The leap armed (its moment, insertion 1 or deletion 2), `executing` while the step is being
   * made; null when none is armed (or it has been executed).
   */
  pending(): ArmedLeap | null {
    const armed = this.#armed;
    return armed === null ? null : { ...armed, executing: this.#executing };
  }

  /** Cancels any armed step. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    if (this.#dayTimer !== undefined) this.#time.clearTimer(this.#dayTimer);
    this.#dayTimer = undefined;
  }

  #nowUnixSeconds(): number {
    const now = this.#options.clock.now();
    return now.unixSeconds + now.nanoseconds / 1e9;
  }

  #arm(): void {
    const armed = this.#armed;
    if (armed === null) return;
    const waitSeconds = armed.leapUnixSeconds - this.#nowUnixSeconds();
    this.#timer = this.#time.setTimer(() => {
      this.#timer = undefined;
      if (this.#armed !== armed) return;
      // A timer may fire a little early: wait out the rest.
      if (this.#nowUnixSeconds() < armed.leapUnixSeconds) {
        this.#arm();
        return;
      }
      if (this.#options.beforeStep === undefined) return this.#step(armed);
      this.#executing = true;
      this.#options.beforeStep();
      this.#timer = this.#time.setTimer(() => {
        this.#timer = undefined;
        if (this.#armed === armed) this.#step(armed);
      }, this.#options.settleMs ?? 0);
      // Within a day by construction; the clamp keeps a clock stepped far back from overflowing
      // setTimeout (2^31 ms): it looks again after a day.
    }, Math.min(DAY_SECONDS * 1000, Math.max(0, Math.ceil(waitSeconds * 1000))));
  }

  #step(armed: { readonly leapUnixSeconds: number; readonly kind: 1 | 2 }): void {
    const name = this.#options.clockName ?? "soft clock";
    try {
      this.#options.clock.stepSeconds(armed.kind === 1 ? -1 : 1);
      logger.info(
        `${name}: leap second ${armed.kind === 1 ? "inserted (23:59:59 repeated)" : "deleted"} ` +
          `at ${new Date(armed.leapUnixSeconds * 1000).toISOString()}`,
      );
    } catch (error) {
      logger.error(`${name}: the leap second could not be executed: ${error}`);
    } finally {
      this.#executing = false;
      this.#armed = null;
      this.#executedLeapUnixSeconds = armed.leapUnixSeconds;
      this.#options.onStep();
      if (armed.kind === 1) this.#whenRepeatedSecondEnds(armed.leapUnixSeconds);
    }
  }

  /** Calls onStep once the clock reads `leapUnixSeconds` again (the repeated second is over). */
  #whenRepeatedSecondEnds(leapUnixSeconds: number): void {
    if (this.#dayTimer !== undefined) this.#time.clearTimer(this.#dayTimer);
    const waitMs = Math.ceil((leapUnixSeconds - this.#nowUnixSeconds()) * 1000);
    this.#dayTimer = this.#time.setTimer(() => {
      this.#dayTimer = undefined;
      if (this.#closed) return;
      // A timer may fire a little early: wait out the rest.
      if (this.#nowUnixSeconds() < leapUnixSeconds) this.#whenRepeatedSecondEnds(leapUnixSeconds);
      else this.#options.onStep();
    }, Math.min(2000, Math.max(0, waitMs)));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#time.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armed = null;
    this.#executing = false;
  }
}

/**
 * The leap bits the kernel clock gets: the decision as it is, or none while leap smearing, when
 * the daemon steps the kernel clock itself (STA_INS would have the kernel step it a second time).
 * The decision is still taken (it keeps the window of dropped samples).
 *
 * @example
 * ```ts
 * const decide = (voted: 0 | 1 | 2) => voted;
 * kernelLeapBits(decide, { smearing: true })(1); // 0
 * kernelLeapBits(decide, { smearing: false })(1); // 1
 * ```
 */
export function kernelLeapBits(
  decide: (voted: 0 | 1 | 2) => 0 | 1 | 2,
  options: { readonly smearing: boolean },
): (voted: 0 | 1 | 2) => 0 | 1 | 2 {
  if (!options.smearing) return decide;
  return (voted) => {
    decide(voted);
    return 0;
  };
}
