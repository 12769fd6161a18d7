// Tests which clock driver --clock auto|kernel|soft picks for a process with and without CAP_SYS_TIME.
import assert from "node:assert/strict";
import { ClockChoiceError, selectClockDriver } from "../../src/io/select_clock_driver.ts";
import { createSimulatedKernel } from "../support/simulated_kernel.ts";

Deno.test("auto picks the kernel driver when CAP_SYS_TIME is held", () => {
  const kernel = createSimulatedKernel();
  const { driver, reason } = selectClockDriver("auto", {
    holdsSysTime: true,
    access: kernel.access,
  });
  assert.equal(driver.kind, "kernel");
  assert.match(reason, /CAP_SYS_TIME held/);
  driver.setFrequencyPpm(7);
  assert.equal(kernel.state.freq, 7 * 65536, "the kernel driver uses the access it was given");
});

Deno.test("auto picks the soft driver without CAP_SYS_TIME and starts it at the drift frequency", () => {
  const kernel = createSimulatedKernel({ holdsSysTime: false });
  const { driver, reason } = selectClockDriver("auto", {
    holdsSysTime: false,
    access: kernel.access,
    softInitialFreqPpm: -3.25,
  });
  assert.equal(driver.kind, "soft");
  assert.match(reason, /no CAP_SYS_TIME/);
  assert.equal(driver.getFrequencyPpm(), -3.25);
  driver.stepSeconds(1);
  assert.equal(kernel.calls.length, 0);
});

Deno.test("soft is honoured even with CAP_SYS_TIME", () => {
  const kernel = createSimulatedKernel();
  assert.equal(
    selectClockDriver("soft", { holdsSysTime: true, access: kernel.access }).driver.kind,
    "soft",
  );
});

Deno.test("kernel without CAP_SYS_TIME is refused with a message naming the fix", () => {
  assert.throws(
    () => selectClockDriver("kernel", { holdsSysTime: false }),
    (error: unknown) =>
      error instanceof ClockChoiceError && /lacks CAP_SYS_TIME/.test(error.message) &&
      /--clock soft/.test(error.message),
  );
  const kernel = createSimulatedKernel();
  assert.equal(
    selectClockDriver("kernel", { holdsSysTime: true, access: kernel.access }).driver.kind,
    "kernel",
  );
});
