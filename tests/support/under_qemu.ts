// Whether the tests run under qemu-user (the CI's ARM stage), where some kernel features are refused and timings measure the emulator.

/**
 * True under qemu-user: scripts/arm64_stage.sh sets NTP_TEST_UNDER_QEMU=1. There SO_TIMESTAMPNS
 * and socket steering are refused and everything runs about 28x slower, so a test skips what
 * measures the emulator rather than the code (the x86_64 stage checks it in full).
 *
 * @example
 * ```ts
 * const budgetMs = underQemuUser() ? 1000 : 50;
 * console.log(budgetMs);
 * ```
 */
export function underQemuUser(): boolean {
  return Deno.env.get("NTP_TEST_UNDER_QEMU") === "1";
}
