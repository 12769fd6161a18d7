// The keep-time benchmark's truth: the time the reference servers keep, as an offset from this host's kernel clock that drifts and may change its rate once.

/**
 * How the reference time runs relative to the kernel clock (CLOCK_REALTIME): at
 * `startUnixSeconds` it is `offsetSeconds` ahead, and it gains `ratePpm` (from `rateStep.atSeconds`
 * after the start on: `rateStep.ratePpm`). A client disciplining a soft clock from these
 * references sees its own clock `offsetSeconds` behind and `ratePpm` slow: the situation of a
 * machine whose clock is off, without touching the machine's clock.
 */
export interface ReferencePlan {
  readonly startUnixSeconds: number;
  readonly offsetSeconds: number;
  readonly ratePpm: number;
  readonly rateStep?: { readonly atSeconds: number; readonly ratePpm: number };
}

/**
 * Reference time minus kernel time at kernel time `kernelUnixSeconds`, seconds.
 *
 * @example
 * ```ts
 * referenceOffsetAt({ startUnixSeconds: 0, offsetSeconds: 0.037, ratePpm: 20 }, 100); // 0.039
 * ```
 */
export function referenceOffsetAt(plan: ReferencePlan, kernelUnixSeconds: number): number {
  const elapsed = kernelUnixSeconds - plan.startUnixSeconds;
  const step = plan.rateStep;
  if (step === undefined || elapsed <= step.atSeconds) {
    return plan.offsetSeconds + plan.ratePpm * 1e-6 * elapsed;
  }
  return plan.offsetSeconds + plan.ratePpm * 1e-6 * step.atSeconds +
    step.ratePpm * 1e-6 * (elapsed - step.atSeconds);
}
