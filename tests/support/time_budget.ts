// Wall-clock budgets in tests, scaled where the CPU is known to be slower: the CI's ARM stage runs the aarch64 Deno under qemu-user (NTP_TEST_TIME_SCALE=20, see scripts/arm64_stage.sh); everywhere else the scale is 1.

/**
 * The factor every wall-clock budget of a test is multiplied by: NTP_TEST_TIME_SCALE (a positive
 * number), else 1. A budget still fails at that scale: it measures the code, not the emulator.
 *
 * @example
 * ```ts
 * const budgetMs = 50 * timeBudgetScale();
 * ```
 */
export function timeBudgetScale(): number {
  const text = Deno.env.get("NTP_TEST_TIME_SCALE");
  const scale = text === undefined ? 1 : Number(text);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}
