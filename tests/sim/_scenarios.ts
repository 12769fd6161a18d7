// Shared scenario pieces for the simulation tests: the acceptance network, clock and server sets, and a stats printer.
import type { ScenarioOptions, ScenarioResult, ScenarioServer } from "../support/sim/scenario.ts";

/** One-way 100 us plus exponential queueing jitter of mean 20 us in each direction. */
export const lanLink = { delaySeconds: 100e-6, jitterMeanSeconds: 20e-6 } as const;

/** The local clock starts 100 ms ahead and 50 ppm fast, with a noisy oscillator's wander (1e-3 ppm/sqrt(s)). */
export const acceptanceClock = {
  initialOffsetSeconds: 0.1,
  frequencyErrorPpm: 50,
  wanderPpmPerSqrtSecond: 0.001,
} as const;

/** `count` healthy stratum 1 servers on the LAN link. */
export function healthyServers(count: number): ScenarioServer[] {
  return Array.from({ length: count }, () => ({ server: { stratum: 1 }, link: lanLink }));
}

/** The acceptance scenario: four servers, 100 ms / 50 ppm start, six hours. */
export function acceptanceScenario(
  seed: number,
  overrides: Partial<ScenarioOptions> = {},
): ScenarioOptions {
  return {
    servers: healthyServers(4),
    clock: acceptanceClock,
    durationSeconds: 6 * 3600,
    seed,
    ...overrides,
  };
}

/** Seeds every scenario runs with (different noise, same limits). */
export const SEEDS = [1, 2, 3] as const;

/** A one-line summary for the test log (numbers reported by the tests). */
export function summary(
  name: string,
  result: ScenarioResult,
  fromSeconds: number,
  toSeconds = Infinity,
): string {
  const s = result.stats(fromSeconds, toSeconds);
  const sync = result.firstSyncSeconds === null
    ? "never"
    : `${result.firstSyncSeconds.toFixed(2)} s`;
  return `${name}: sync ${sync}, offset RMS ${(s.rmsOffsetSeconds * 1e6).toFixed(1)} us, max ${
    (s.maxAbsOffsetSeconds * 1e6).toFixed(1)
  } us, freq RMS ${s.rmsFrequencyErrorPpm.toFixed(4)} ppm, max ${
    s.maxAbsFrequencyErrorPpm.toFixed(3)
  } ppm, driver steps ${result.clock.steps.filter((x) => x.byDriver).length}`;
}
