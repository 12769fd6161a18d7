// A seeded pseudo-random generator for the simulation (mulberry32), with uniform, normal and exponential draws.

/** Draws from one seeded stream; the same seed always gives the same sequence. */
export interface SimRandom {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number;
  /** Exponential with the given mean (>= 0). */
  exponential(mean: number): number;
}

/**
 * A mulberry32 stream with Box-Muller normals.
 *
 * @example
 * ```ts
 * const random = createRandom(42);
 * random.uniform(); // the same value for every run with seed 42
 * ```
 */
export function createRandom(seed: number): SimRandom {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    uniform,
    normal: () => {
      const u = 1 - uniform();
      const v = uniform();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    exponential: (mean) => (mean <= 0 ? 0 : -mean * Math.log(1 - uniform())),
  };
}
