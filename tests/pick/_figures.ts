// Builders of candidate figures and probe samples for the pick tests.
import type { CandidateFigures } from "../../src/core/pick/candidate_figures.ts";
import { refidFromAscii } from "../../src/core/packet/refid.ts";

/** A usable candidate on line `line` of a list, 127.0.0.1:(11000 + line), with the given figures (seconds). */
export function usable(
  line: number,
  figures: {
    readonly delaySeconds: number;
    readonly offsetSeconds?: number;
    readonly jitterSeconds?: number;
    readonly stratum?: number;
    readonly referenceId?: number;
    readonly host?: string;
    readonly rootDistanceSeconds?: number;
  },
): CandidateFigures {
  const jitter = figures.jitterSeconds ?? 0.0001;
  return {
    candidate: { host: figures.host ?? "127.0.0.1", port: 11000 + line, line },
    address: "127.0.0.1",
    problem: null,
    problemText: "",
    sent: 4,
    answered: 4,
    delaySeconds: figures.delaySeconds,
    offsetSeconds: figures.offsetSeconds ?? 0,
    jitterSeconds: jitter,
    stratum: figures.stratum ?? 1,
    referenceId: figures.referenceId ?? refidFromAscii("GPS"),
    rootDelaySeconds: 0,
    rootDispersionSeconds: 0.0001,
    rootDistanceSeconds: figures.rootDistanceSeconds ??
      Math.max(0.001, figures.delaySeconds / 2 + 0.0001 + jitter),
    kissCode: null,
  };
}

/** An unusable candidate on line `line`. */
export function unusable(
  line: number,
  problem: NonNullable<CandidateFigures["problem"]>,
): CandidateFigures {
  return {
    candidate: { host: "127.0.0.1", port: 11000 + line, line },
    address: "127.0.0.1",
    problem,
    problemText: `${problem} for the test`,
    sent: 4,
    answered: 0,
    delaySeconds: null,
    offsetSeconds: null,
    jitterSeconds: null,
    stratum: null,
    referenceId: null,
    rootDelaySeconds: null,
    rootDispersionSeconds: null,
    rootDistanceSeconds: null,
    kissCode: null,
  };
}
