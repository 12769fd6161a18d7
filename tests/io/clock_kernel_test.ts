// Tests the kernel clock driver against the simulated kernel, and reads the real kernel (modes = 0 only).
import assert from "node:assert/strict";
import {
  createKernelClock,
  readKernelClockState,
  syncStatusFields,
} from "../../src/io/clock_kernel.ts";
import { ClockAdjtimeError, libcKernelClockAccess } from "../../src/io/kernel_clock_access.ts";
import { Adj, Sta, TimeState } from "../../src/io/timex.ts";
import { createSimulatedKernel } from "../support/simulated_kernel.ts";

const pythonReader = new URL("../support/adjtimex_read.py", import.meta.url).pathname;

Deno.test("setFrequencyPpm() writes ADJ_FREQUENCY in 2^-16 ppm and returns what the kernel kept", () => {
  const kernel = createSimulatedKernel();
  const clock = createKernelClock({ access: kernel.access });
  assert.equal(clock.setFrequencyPpm(-12.5), -12.5);
  assert.equal(kernel.state.freq, -819_200);
  const call = kernel.calls.at(-1)!;
  assert.equal(call.modes, Adj.FREQUENCY);
  assert.equal(call.freq, -819_200);
  assert.equal(clock.getFrequencyPpm(), -12.5);
  assert.equal(kernel.calls.at(-1)!.modes, 0, "getFrequencyPpm() only reads");
  const quantised = clock.setFrequencyPpm(1.0000001);
  assert.equal(quantised, Math.round(1.0000001 * 65536) / 65536);
});

Deno.test("setFrequencyPpm() clamps to +-500 ppm and rejects NaN", () => {
  const kernel = createSimulatedKernel();
  const clock = createKernelClock({ access: kernel.access });
  assert.equal(clock.setFrequencyPpm(900), 500);
  assert.equal(kernel.state.freq, 500 * 65536);
  assert.equal(clock.setFrequencyPpm(-1e9), -500);
  assert.equal(kernel.state.freq, -500 * 65536);
  const calls = kernel.calls.length;
  assert.throws(() => clock.setFrequencyPpm(Number.NaN), RangeError);
  assert.equal(kernel.calls.length, calls, "nothing reached the kernel");
});

Deno.test("a frequency set through the driver makes the simulated clock run at that rate", () => {
  const kernel = createSimulatedKernel();
  const clock = createKernelClock({ access: kernel.access });
  clock.setFrequencyPpm(100);
  const before = clock.now();
  kernel.advanceSeconds(1000);
  const after = clock.now();
  const elapsed = after.unixSeconds - before.unixSeconds +
    (after.nanoseconds - before.nanoseconds) * 1e-9;
  assert.ok(Math.abs(elapsed - 1000.1) < 1e-9, `elapsed ${elapsed}`);
});

Deno.test("stepSeconds() uses ADJ_SETOFFSET | ADJ_NANO with normalised nanoseconds", () => {
  const kernel = createSimulatedKernel({ startUnixSeconds: 1_800_000_000 });
  const clock = createKernelClock({ access: kernel.access });
  clock.stepSeconds(-0.25);
  const call = kernel.calls.at(-1)!;
  assert.equal(call.modes, Adj.SETOFFSET | Adj.NANO);
  assert.equal(call.timeSeconds, -1);
  assert.equal(call.timeFraction, 750_000_000);
  assert.deepEqual(clock.now(), { unixSeconds: 1_799_999_999, nanoseconds: 750_000_000 });
  clock.stepSeconds(2.000000001);
  assert.deepEqual(clock.now(), { unixSeconds: 1_800_000_001, nanoseconds: 750_000_001 });
  const calls = kernel.calls.length;
  clock.stepSeconds(0);
  assert.equal(kernel.calls.length, calls, "a zero step is not sent");
  assert.ok((kernel.state.status & Sta.NANO) !== 0, "ADJ_NANO switched the kernel to ns");
});

Deno.test("setSyncStatus() clears STA_UNSYNC and sets maxerror, esterror and the leap bits", () => {
  const kernel = createSimulatedKernel({ initial: { status: Sta.UNSYNC | Sta.PLL } });
  const clock = createKernelClock({ access: kernel.access });
  clock.setSyncStatus({
    synchronised: true,
    leap: 1,
    maxErrorSeconds: 0.0125,
    estErrorSeconds: 0.000_25,
  });
  assert.equal(kernel.state.status, Sta.INS, "STA_UNSYNC and STA_PLL cleared, STA_INS set");
  assert.equal(kernel.state.maxerror, 12_500);
  assert.equal(kernel.state.esterror, 250);
  const state = clock.readState();
  assert.equal(state.synchronised, true);
  assert.equal(state.leap, 1);
  assert.equal(state.state, TimeState.INS);
  assert.equal(state.maxErrorSeconds, 0.0125);

  clock.setSyncStatus({ synchronised: true, leap: 2, maxErrorSeconds: 0.01, estErrorSeconds: 0 });
  assert.equal(kernel.state.status, Sta.DEL);
  clock.setSyncStatus({ synchronised: true, leap: 0, maxErrorSeconds: 0.01, estErrorSeconds: 0 });
  assert.equal(kernel.state.status, 0);
  assert.equal(clock.readState().state, TimeState.OK);

  clock.setSyncStatus({ synchronised: false, leap: 0, maxErrorSeconds: 0.01, estErrorSeconds: 0 });
  assert.equal(kernel.state.status, Sta.UNSYNC);
  assert.equal(kernel.state.maxerror, 16_000_000);
  assert.equal(kernel.state.esterror, 16_000_000);
  assert.equal(clock.readState().state, TimeState.ERROR);
});

Deno.test("syncStatusFields() treats a maxerror of 16 s or more as unsynchronised, as chrony does", () => {
  const fields = syncStatusFields({
    synchronised: true,
    leap: 0,
    maxErrorSeconds: 20,
    estErrorSeconds: 30,
  });
  assert.equal(fields.status, Sta.UNSYNC);
  assert.equal(fields.maxerror, 16_000_000);
  assert.equal(fields.esterror, 16_000_000);
  assert.equal(fields.modes, Adj.STATUS | Adj.MAXERROR | Adj.ESTERROR);
});

Deno.test("the simulated kernel sets STA_UNSYNC again when maxerror grows past 16 s", () => {
  const kernel = createSimulatedKernel();
  const clock = createKernelClock({ access: kernel.access });
  clock.setSyncStatus({ synchronised: true, leap: 0, maxErrorSeconds: 0.5, estErrorSeconds: 0 });
  kernel.advanceSeconds(1000);
  assert.equal(clock.readState().maxErrorSeconds, 1.0);
  assert.equal(clock.readState().synchronised, true);
  kernel.advanceSeconds(40_000);
  assert.equal(clock.readState().synchronised, false);
});

Deno.test("initialise() clears a leftover PLL offset, turns the PLL off and marks the clock unsynchronised", () => {
  const kernel = createSimulatedKernel({
    initial: { status: Sta.PLL, offset: 5000, freq: 3 * 65536, maxerror: 1000 },
  });
  const clock = createKernelClock({ access: kernel.access });
  clock.initialise();
  assert.equal(kernel.state.offset, 0);
  assert.equal(kernel.state.status, Sta.UNSYNC);
  assert.equal(kernel.state.maxerror, 16_000_000);
  assert.equal(kernel.state.freq, 3 * 65536, "the frequency is kept");
});

Deno.test("without CAP_SYS_TIME every change fails with a ClockAdjtimeError naming the fix", () => {
  const kernel = createSimulatedKernel({ holdsSysTime: false });
  const clock = createKernelClock({ access: kernel.access });
  assert.equal(clock.getFrequencyPpm(), 0, "reading needs no capability");
  assert.equal(clock.readState().synchronised, false);
  for (
    const change of [
      () => clock.setFrequencyPpm(1),
      () => clock.stepSeconds(1),
      () =>
        clock.setSyncStatus({
          synchronised: true,
          leap: 0,
          maxErrorSeconds: 1,
          estErrorSeconds: 1,
        }),
      () => clock.initialise(),
    ]
  ) {
    assert.throws(change, (error: unknown) => {
      assert.ok(error instanceof ClockAdjtimeError);
      assert.equal(error.errno, 1);
      assert.match(error.message, /EPERM \(Operation not permitted\)/);
      assert.match(error.message, /CAP_SYS_TIME/);
      assert.match(error.message, /--clock soft/);
      return true;
    });
  }
  assert.equal(kernel.state.freq, 0);
});

Deno.test("an EINVAL from the kernel becomes a ClockAdjtimeError, not a silent success", () => {
  const kernel = createSimulatedKernel();
  const access = {
    readRealtime: kernel.access.readRealtime,
    adjtime: (timex: Uint8Array) => (new DataView(timex.buffer).getUint32(0, true) === 0 ? 0 : -22),
  };
  const clock = createKernelClock({ access });
  assert.throws(() => clock.stepSeconds(1), /Cannot step the clock by 1 s: .*EINVAL/);
});

async function pythonState(): Promise<Record<string, number>> {
  const output = await new Deno.Command("/usr/bin/python3", {
    args: [pythonReader, "--json"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test("readKernelClockState() reads the real kernel exactly as adjtimex_read.py does", async () => {
  const before = await pythonState();
  const state = readKernelClockState();
  const after = await pythonState();
  assert.deepEqual(after, before, "the kernel state did not change during the test");
  assert.equal(state.freqPpm * 65536, before.freq);
  assert.equal(state.status, before.status);
  assert.equal(state.timeConstant, before.constant);
  assert.equal(state.tickMicroseconds, before.tick);
  assert.equal(state.state, before.state);
  assert.equal(Math.round(state.maxErrorSeconds * 1e6), before.maxerror);
  assert.equal(Math.round(state.estErrorSeconds * 1e6), before.esterror);
  assert.equal(state.synchronised, ((before.status ?? 0) & Sta.UNSYNC) === 0);
});

Deno.test("the real kernel driver's now() follows CLOCK_REALTIME and its reads change nothing", async () => {
  const before = await pythonState();
  const clock = createKernelClock({ access: libcKernelClockAccess() });
  const now = clock.now();
  const dateSeconds = Date.now() / 1000;
  assert.ok(Math.abs(now.unixSeconds + now.nanoseconds * 1e-9 - dateSeconds) < 0.01);
  assert.equal(clock.getFrequencyPpm() * 65536, before.freq);
  assert.equal(clock.readState().status, before.status);
  assert.deepEqual(await pythonState(), before);
});
