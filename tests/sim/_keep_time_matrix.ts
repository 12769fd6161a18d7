// The keep-time scenario matrix: every situation a client meets (fresh start, wrong drift files, frequency steps, wander, spikes, asymmetry, loss, falsetickers, a jumping upstream, holdover, large initial offsets, long polls, a jittery WAN path) with the windows and limits the tests assert.
import type { ScenarioOptions, ScenarioResult, SeriesPoint } from "../support/sim/scenario.ts";
import { acceptanceClock, healthyServers, lanLink } from "./_scenarios.ts";

const hour = 3600;

/** 2.5 +- 0.5 ms each way: 2 ms plus uniform 0..1 ms (the path of the real benchmark). */
export const wanLink = { delaySeconds: 2e-3, jitterUniformSeconds: 1e-3 } as const;

/** The clock behind a WAN path in the real benchmark: 37 ms behind, 20 ppm slow. */
export const wanClock = { initialOffsetSeconds: -0.037, frequencyErrorPpm: -20 } as const;

/** Root dispersion the simulated servers report (sim_server.ts default), seconds. */
export const UPSTREAM_ROOT_DISPERSION_SECONDS = 0.0005;

/** One scenario of the matrix and what is asserted about it. */
export interface MatrixScenario {
  readonly name: string;
  readonly options: (seed: number) => ScenarioOptions;
  /** Statistics window, true seconds. */
  readonly fromSeconds: number;
  readonly toSeconds?: number;
  /** The error no client can remove (half a path asymmetry), subtracted before the limits. */
  readonly biasSeconds?: number;
  /** Limits on the window: offset RMS and largest offset (us), frequency error RMS (ppm). */
  readonly limits: { readonly rmsUs: number; readonly maxUs: number; readonly freqRmsPpm: number };
  /** The first minutes, from the first sync on (stale drift files show here): largest offset. */
  readonly start?: { readonly toSeconds: number; readonly maxUs: number };
  /**
   * A frequency step of `stepPpm` at FREQUENCY_STEP_AT_SECONDS: it must be followed (frequency
   * error RMS <= 0.5 ppm from one poll interval plus 5 minutes after it on), detected (if at all:
   * a small step may be absorbed by the fit) within one poll interval plus 60 s, and the offset
   * meanwhile stay within |step| times that plus 300 us: no client can see a change before its
   * next sample.
   */
  readonly frequencyStepPpm?: number;
  /**
   * False when the estimated error need not cover the error (a constant path asymmetry: no
   * client can see it; the root distance, which holds half the root delay, must still cover it).
   */
  readonly estimateCoversBias?: boolean;
}

const lanServers = (count: number) => healthyServers(count);

function base(seed: number, overrides: Partial<ScenarioOptions>): ScenarioOptions {
  return {
    servers: lanServers(4),
    clock: acceptanceClock,
    durationSeconds: 2 * hour,
    seed,
    ...overrides,
  };
}

/** The frequency step scenarios' change: at 3 h, when most polls have climbed to 512-1024 s. */
export const FREQUENCY_STEP_AT_SECONDS = 3 * hour;

/** The holdover scenario's outage: every server silent from 2 h to 3 h. */
export const OUTAGE = { fromSeconds: 2 * hour, toSeconds: 3 * hour } as const;

/**
 * The matrix. Limits are the measured worst of three seeds with both drivers, rounded up by a
 * fifth to a half (see the figures each test prints); the targets (100 us RMS, 500 us
 * max) hold everywhere except where noted. Since the poll ceiling counts every source's samples
 * (the polls reach 512-1024 s on these LAN paths, about 100-170 requests a day per upstream
 * instead of 540-660), the RMS figures are about 1.5-2 times those of polls held at 128-256 s.
 */
export const MATRIX: readonly MatrixScenario[] = [
  {
    name: "fresh start (100 ms, 50 ppm off)",
    options: (seed) => base(seed, {}),
    fromSeconds: 60,
    limits: { rmsUs: 40, maxUs: 120, freqRmsPpm: 0.1 },
  },
  ...[10, -10, 50, -50, 200, -200].map((offPpm): MatrixScenario => ({
    name: `drift file ${offPpm > 0 ? "+" : ""}${offPpm} ppm off`,
    // The oscillator is 50 ppm fast: the right drift file says -50.
    options: (seed) => base(seed, { driftPpm: -50 + offPpm }),
    fromSeconds: 60,
    limits: { rmsUs: 40, maxUs: 120, freqRmsPpm: 0.1 },
    // Measured (seeds 1-3, from sync to 600 s): +-10: 26-56 us, +-50: 101-198 us, +-200: 408-784 us.
    start: {
      toSeconds: 600,
      maxUs: Math.abs(offPpm) <= 10 ? 100 : Math.abs(offPpm) <= 50 ? 300 : 1200,
    },
  })),
  ...[5, -5, 30, -30].map((stepPpm): MatrixScenario => ({
    name: `frequency step of ${stepPpm > 0 ? "+" : ""}${stepPpm} ppm at 3 h, settled`,
    options: (seed) =>
      base(seed, {
        durationSeconds: 6 * hour,
        interventions: [{
          atSeconds: FREQUENCY_STEP_AT_SECONDS,
          run: (clock) => clock.shiftFrequency(stepPpm),
        }],
      }),
    fromSeconds: FREQUENCY_STEP_AT_SECONDS + 1800,
    limits: { rmsUs: 65, maxUs: 250, freqRmsPpm: 0.2 },
    frequencyStepPpm: stepPpm,
  })),
  {
    name: "wander 0.01 ppm/sqrt(s) (ten times the acceptance oscillator's)",
    options: (seed) =>
      base(seed, {
        clock: { ...acceptanceClock, wanderPpmPerSqrtSecond: 0.01 },
        durationSeconds: 6 * hour,
      }),
    fromSeconds: 600,
    limits: { rmsUs: 65, maxUs: 250, freqRmsPpm: 0.4 },
  },
  {
    name: "delay spikes: 5 % of requests +50 ms on the way out",
    options: (seed) =>
      base(seed, {
        servers: lanServers(4).map((s) => ({
          ...s,
          link: { ...lanLink, spikeProbability: 0.05, spikeSeconds: 0.05 },
        })),
        durationSeconds: 6 * hour,
      }),
    fromSeconds: 60,
    limits: { rmsUs: 55, maxUs: 170, freqRmsPpm: 0.1 },
  },
  {
    name: "constant asymmetry of 1 ms (the clock is set 500 us ahead)",
    options: (seed) =>
      base(seed, {
        servers: lanServers(4).map((s) => ({ ...s, link: { ...lanLink, asymmetrySeconds: 1e-3 } })),
        durationSeconds: 6 * hour,
      }),
    fromSeconds: 60,
    biasSeconds: 0.5e-3,
    limits: { rmsUs: 50, maxUs: 140, freqRmsPpm: 0.1 },
    estimateCoversBias: false,
  },
  {
    name: "30 % loss each way",
    options: (seed) =>
      base(seed, {
        servers: lanServers(4).map((s) => ({ ...s, link: { ...lanLink, lossProbability: 0.3 } })),
        durationSeconds: 6 * hour,
      }),
    fromSeconds: 60,
    limits: { rmsUs: 70, maxUs: 240, freqRmsPpm: 0.1 },
  },
  ...[1, 0.02].map((offSeconds): MatrixScenario => ({
    name: `one falseticker ${offSeconds * 1e3} ms off among four`,
    options: (seed) =>
      base(seed, {
        servers: [...lanServers(3), {
          server: { stratum: 1, offsetSeconds: offSeconds },
          link: lanLink,
        }],
        durationSeconds: 6 * hour,
      }),
    fromSeconds: 60,
    limits: { rmsUs: 70, maxUs: 230, freqRmsPpm: 0.1 },
  })),
  {
    name: "one upstream steps by 50 ms at 2 h and stays there",
    options: (seed) =>
      base(seed, {
        servers: [{
          server: { stratum: 1, offsetSeconds: (t: number) => t >= 2 * hour ? 0.05 : 0 },
          link: lanLink,
        }, ...lanServers(3)],
        durationSeconds: 6 * hour,
      }),
    fromSeconds: 60,
    limits: { rmsUs: 65, maxUs: 160, freqRmsPpm: 0.1 },
  },
  {
    name: "every upstream silent from 2 h to 3 h (holdover) and back",
    options: (seed) =>
      base(seed, {
        servers: lanServers(4).map((s) => ({
          ...s,
          link: { ...lanLink, outages: [OUTAGE] },
        })),
        durationSeconds: 5 * hour,
      }),
    fromSeconds: 60,
    limits: { rmsUs: 100, maxUs: 400, freqRmsPpm: 0.1 },
  },
  ...[5, -600].map((offSeconds): MatrixScenario => ({
    name: `initial offset ${offSeconds > 0 ? "+" : ""}${offSeconds} s`,
    options: (seed) =>
      base(seed, { clock: { ...acceptanceClock, initialOffsetSeconds: offSeconds } }),
    fromSeconds: 60,
    limits: { rmsUs: 40, maxUs: 120, freqRmsPpm: 0.1 },
  })),
  {
    name: "1024 s polls (minpoll = maxpoll = 10) over 24 h",
    options: (seed) =>
      base(seed, {
        servers: lanServers(4).map((s) => ({
          ...s,
          association: { minPollLog2: 10, maxPollLog2: 10 },
        })),
        durationSeconds: 24 * hour,
      }),
    fromSeconds: 3 * hour,
    limits: { rmsUs: 70, maxUs: 400, freqRmsPpm: 0.1 },
  },
  {
    name: "2.5 +- 0.5 ms path, clock 37 ms and 20 ppm off, fresh start",
    options: (seed) =>
      base(seed, {
        servers: healthyServers(4).map((s) => ({ ...s, link: wanLink })),
        clock: wanClock,
      }),
    fromSeconds: 60,
    limits: { rmsUs: 150, maxUs: 450, freqRmsPpm: 0.4 },
    // Measured from sync to 600 s: 291-322 us.
    start: { toSeconds: 600, maxUs: 500 },
  },
  {
    name: "2.5 +- 0.5 ms path, clock 37 ms and 20 ppm off, drift file 31 ppm off",
    options: (seed) =>
      base(seed, {
        servers: healthyServers(4).map((s) => ({ ...s, link: wanLink })),
        clock: wanClock,
        driftPpm: 20 + 31,
      }),
    fromSeconds: 60,
    limits: { rmsUs: 150, maxUs: 450, freqRmsPpm: 0.4 },
    // Measured from sync to 600 s: 292-652 us (the prior is dropped after 4-26 s).
    start: { toSeconds: 600, maxUs: 1000 },
  },
];

/** The synchronised points of a window. */
export function windowOf(
  result: ScenarioResult,
  fromSeconds: number,
  toSeconds = Infinity,
): SeriesPoint[] {
  return result.series.filter((p) =>
    p.trueSeconds >= fromSeconds && p.trueSeconds <= toSeconds && p.synchronised
  );
}

/** The value at quantile `q` (0..1) of `values`. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** How an error bound fared over a window: the share it covered and how loose it was. */
export interface BoundFigures {
  /** Share of points whose |error| the bound covered, 0..1. */
  readonly covered: number;
  /** Median bound / (p99 of |error| plus what the bound had to inherit). */
  readonly looseness: number;
}

/**
 * Judges a bound: `bound(p)` against |offset - bias| over `points`; `inherited(p)` is what the
 * bound must carry no matter how good the clock is (upstream claims, half the path delay).
 */
export function judgeBound(
  points: readonly SeriesPoint[],
  options: {
    readonly bound: (p: SeriesPoint) => number;
    readonly inherited: (p: SeriesPoint) => number;
    readonly biasSeconds: number;
  },
): BoundFigures {
  const errors = points.map((p) => Math.abs(p.offsetSeconds - options.biasSeconds));
  const covered = points.filter((p, i) => (errors[i] as number) <= options.bound(p)).length;
  const needed = quantile(errors, 0.99) + quantile(points.map(options.inherited), 0.5);
  return {
    covered: points.length === 0 ? 0 : covered / points.length,
    looseness: quantile(points.map(options.bound), 0.5) / needed,
  };
}
