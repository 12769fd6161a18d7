// How many fast-check runs a property gets: all of them natively, a tenth under qemu-user.

/**
 * The fast-check `numRuns` for a property that runs `nativeRuns` times natively. Under qemu-user
 * (the ARM stage sets NTP_TEST_UNDER_QEMU=1), where every run is 15-20x slower and the x86_64
 * stage has already checked the property in full, a tenth of them (at least `atLeast`, default
 * 50): enough to catch what differs by architecture, within the stage's time budget. A test that
 * asserts every kind of outcome was seen needs `atLeast` high enough for its rarest kind.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * fc.assert(fc.property(fc.integer(), (n) => n + 0 === n), { numRuns: propertyRuns(5000) });
 * ```
 */
export function propertyRuns(nativeRuns: number, atLeast = 50): number {
  if (Deno.env.get("NTP_TEST_UNDER_QEMU") !== "1") return nativeRuns;
  return Math.min(nativeRuns, Math.max(atLeast, Math.ceil(nativeRuns / 10)));
}
