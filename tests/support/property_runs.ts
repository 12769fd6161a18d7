// How many fast-check runs a property gets: all of them natively, a tenth under qemu-user.

import { underQemuUser } from "./under_qemu.ts";

/**
 * The fast-check `numRuns` for a property that runs `nativeRuns` times natively. Under qemu-user
 * ({@link underQemuUser}), where the tests run about 28x slower (scripts/arm64_stage.sh) and the
 * x86_64 stage has already checked the property in full, a tenth of them, at least `atLeast`
 * (default 50) and never more than `nativeRuns`: enough to catch what differs by architecture,
 * within the stage's time budget. A test that asserts it saw every kind of outcome checks that
 * only natively (`if (underQemuUser()) return;` before those checks).
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * fc.assert(fc.property(fc.integer(), (n) => n + 0 === n), { numRuns: propertyRuns(5000) });
 * ```
 */
export function propertyRuns(nativeRuns: number, atLeast = 50): number {
  if (!underQemuUser()) return nativeRuns;
  return Math.min(nativeRuns, Math.max(atLeast, Math.ceil(nativeRuns / 10)));
}
