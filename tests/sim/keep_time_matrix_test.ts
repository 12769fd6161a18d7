// The keep-time matrix under both clock drivers (soft, and the kernel driver against a simulated kernel): offset RMS and max, frequency error, and honest error bounds (root distance, estimated error, the kernel's maxerror and esterror) in every scenario.
import assert from "node:assert/strict";
import { runScenario, type SeriesPoint } from "../support/sim/scenario.ts";
import {
  FREQUENCY_STEP_AT_SECONDS,
  judgeBound,
  MATRIX,
  type MatrixScenario,
  UPSTREAM_ROOT_DISPERSION_SECONDS,
  windowOf,
} from "./_keep_time_matrix.ts";
import { SEEDS } from "./_scenarios.ts";

/** Coverage every bound must reach. */
const minCoverage = 0.99;
/** How much looser than needed a bound may be. */
const maxLooseness = 8;

/**
 * The root distance without what the upstreams claim for themselves (their root dispersion,
 * 0.5 ms here, larger than any error in the LAN scenarios): what is left, half the path delay
 * plus our own dispersion, must still cover the error, bias (path asymmetry) included.
 */
const ownDistance = (p: SeriesPoint) =>
  p.rootDelaySeconds / 2 + p.rootDispersionSeconds - UPSTREAM_ROOT_DISPERSION_SECONDS;
const halfDelay = (p: SeriesPoint) => p.rootDelaySeconds / 2;

function check(scenario: MatrixScenario, seed: number, driver: "simulated" | "kernel"): void {
  const result = runScenario({ ...scenario.options(seed), driver });
  const bias = scenario.biasSeconds ?? 0;
  const points = windowOf(result, scenario.fromSeconds, scenario.toSeconds);
  const offsets = points.map((p) => p.offsetSeconds - bias);
  const rms = Math.sqrt(offsets.reduce((s, o) => s + o * o, 0) / offsets.length);
  const max = Math.max(...offsets.map(Math.abs));
  const stats = result.stats(scenario.fromSeconds, scenario.toSeconds);
  const distance = judgeBound(points, {
    bound: ownDistance,
    inherited: halfDelay,
    biasSeconds: 0,
  });
  const estimate = judgeBound(points, {
    bound: (p) => p.estimatedErrorSeconds,
    inherited: () => 0,
    biasSeconds: scenario.estimateCoversBias === false ? bias : 0,
  });
  console.log(
    `${scenario.name}, seed ${seed}, ${driver}: sync ${
      result.firstSyncSeconds?.toFixed(2)
    } s, RMS ${(rms * 1e6).toFixed(1)} us, max ${(max * 1e6).toFixed(1)} us, freq RMS ${
      stats.rmsFrequencyErrorPpm.toFixed(3)
    } ppm; root distance covers ${(distance.covered * 100).toFixed(1)}% (${
      distance.looseness.toFixed(1)
    }x), estimated error ${(estimate.covered * 100).toFixed(1)}% (${
      estimate.looseness.toFixed(1)
    }x)`,
  );
  assert.ok(points.length > 100, `${points.length} synchronised points`);
  assert.ok(rms <= scenario.limits.rmsUs * 1e-6, `RMS ${rms}`);
  assert.ok(max <= scenario.limits.maxUs * 1e-6, `max ${max}`);
  assert.ok(
    stats.rmsFrequencyErrorPpm <= scenario.limits.freqRmsPpm,
    `freq RMS ${stats.rmsFrequencyErrorPpm}`,
  );
  assert.ok(distance.covered >= minCoverage, `root distance covered ${distance.covered}`);
  assert.ok(distance.looseness <= maxLooseness, `root distance ${distance.looseness}x`);
  assert.ok(estimate.covered >= minCoverage, `estimated error covered ${estimate.covered}`);
  assert.ok(estimate.looseness <= maxLooseness, `estimated error ${estimate.looseness}x`);
  if (scenario.start !== undefined && result.firstSyncSeconds !== null) {
    const early = windowOf(result, result.firstSyncSeconds, scenario.start.toSeconds);
    assert.ok(early.length > 0, "no samples between the first sync and the end of the start");
    const earlyMax = Math.max(...early.map((p) => Math.abs(p.offsetSeconds - bias)));
    console.log(
      `  from sync to ${scenario.start.toSeconds} s: max ${(earlyMax * 1e6).toFixed(1)} us`,
    );
    assert.ok(earlyMax <= scenario.start.maxUs * 1e-6, `start max ${earlyMax}`);
  }
  if (scenario.frequencyStepPpm !== undefined) {
    const at = FREQUENCY_STEP_AT_SECONDS;
    const pollSeconds = 2 ** Math.max(
      ...(result.series.find((p) => p.trueSeconds >= at)?.pollsLog2 ?? [10]),
    );
    const detected = result.events.find((e) =>
      e.event.kind === "clockChanged" && e.trueSeconds >= at
    );
    const transient = windowOf(result, at, at + 1800);
    assert.ok(transient.length > 0, "no samples after the frequency step");
    const transientMax = Math.max(...transient.map((p) => Math.abs(p.offsetSeconds)));
    console.log(
      `  detected ${
        detected === undefined ? "never" : `after ${(detected.trueSeconds - at).toFixed(0)} s`
      } (poll ${pollSeconds} s), transient max ${(transientMax * 1e6).toFixed(0)} us`,
    );
    // Followed within one poll interval and five minutes: the frequency error is then small.
    const followed = result.stats(at + pollSeconds + 300, at + 1800);
    console.log(
      `  frequency error RMS after that: ${followed.rmsFrequencyErrorPpm.toFixed(3)} ppm`,
    );
    assert.ok(followed.rmsFrequencyErrorPpm <= 0.5, `frequency ${followed.rmsFrequencyErrorPpm}`);
    if (detected !== undefined) assert.ok(detected.trueSeconds - at <= pollSeconds + 60);
    const allowed = Math.abs(scenario.frequencyStepPpm) * 1e-6 * (pollSeconds + 60) + 300e-6;
    assert.ok(transientMax <= allowed, `transient max ${transientMax}, allowed ${allowed}`);
  }
  if (driver === "kernel") {
    // The kernel holds what the time keeper last told it; maxerror grows by 500 us/s on its own.
    const kernelMax = judgeBound(points, {
      bound: (p) => (p.kernelMaxErrorSeconds ?? 0) - UPSTREAM_ROOT_DISPERSION_SECONDS,
      inherited: halfDelay,
      biasSeconds: 0,
    });
    const kernelEst = judgeBound(points, {
      bound: (p) => p.kernelEstErrorSeconds ?? 0,
      inherited: () => 0,
      biasSeconds: scenario.estimateCoversBias === false ? bias : 0,
    });
    assert.ok(kernelMax.covered >= minCoverage, `kernel maxerror covered ${kernelMax.covered}`);
    assert.ok(kernelEst.covered >= minCoverage, `kernel esterror covered ${kernelEst.covered}`);
  }
}

for (const scenario of MATRIX) {
  for (const driver of ["simulated", "kernel"] as const) {
    Deno.test(`keep-time matrix: ${scenario.name} (${driver} clock, ${SEEDS.length} seeds)`, () => {
      for (const seed of SEEDS) check(scenario, seed, driver);
    });
  }
}
