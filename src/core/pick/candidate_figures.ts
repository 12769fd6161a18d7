// Sums up the probes of one candidate: usable or why not, and its delay, offset, jitter, stratum, refid and root distance.
import { MIN_DISTANCE_SECONDS } from "../discipline/ntp_constants.ts";
import { KISS_CODES } from "../packet/kiss_code.ts";
import type { Candidate } from "./candidate.ts";
import type { ProbeSample } from "./probe_sample.ts";

/** What became of probing one candidate (what the I/O side hands over). */
export interface ProbeOutcome {
  readonly candidate: Candidate;
  /** The IP literal probed (IPv6 without brackets), or null when there was none. */
  readonly address: string | null;
  /** Why it was not probed: the name did not resolve, or an earlier candidate has the same address. */
  readonly skipped:
    | { readonly kind: "unresolved"; readonly message: string }
    | { readonly kind: "duplicate"; readonly of: Candidate }
    | null;
  /** One per request sent, in order (a Kiss-o'-Death ends the probing of that server). */
  readonly samples: readonly ProbeSample[];
}

/** Why a candidate cannot be used at all. */
export type CandidateProblem =
  | "unresolved"
  | "duplicate"
  | "unreachable"
  | "kissOfDeath"
  | "unsynchronised"
  | "invalid";

/** One candidate's figures; the numbers come from its answered samples (null when there are none). */
export interface CandidateFigures {
  readonly candidate: Candidate;
  readonly address: string | null;
  /** Null when usable. */
  readonly problem: CandidateProblem | null;
  /** Why it is unusable, for people ("no answer to 4 requests"); "" when usable. */
  readonly problemText: string;
  readonly sent: number;
  /** Valid time replies. */
  readonly answered: number;
  /** The smallest delay of the valid replies, seconds. */
  readonly delaySeconds: number | null;
  /** The offset of the reply with the smallest delay, seconds (positive: the local clock is behind). */
  readonly offsetSeconds: number | null;
  /**
   * RMS difference of the other replies' offsets from that one (ntpd's peer jitter), leaving out
   * the worst quarter of the replies by delay, seconds.
   */
  readonly jitterSeconds: number | null;
  /** Of the last reply with a header (valid or unsynchronised). */
  readonly stratum: number | null;
  readonly referenceId: number | null;
  readonly rootDelaySeconds: number | null;
  readonly rootDispersionSeconds: number | null;
  /** (root delay + delay) / 2 + root dispersion + jitter, at least 1 ms: the half width of its interval. */
  readonly rootDistanceSeconds: number | null;
  /** The kiss code received, if any. */
  readonly kissCode: string | null;
}

/** Fewest valid replies (of the requests sent) for a candidate to count as reachable. */
export const MIN_ANSWERED_SAMPLES = 2;

type OkSample = Extract<ProbeSample, { kind: "ok" }>;

/**
 * Sums up a probe. In order: skipped (unresolved, duplicate address); a Kiss-o'-Death in any
 * reply; fewer than {@link MIN_ANSWERED_SAMPLES} valid replies (unsynchronised when it answered
 * as such, invalid when its replies failed the packet tests, else unreachable); otherwise usable,
 * with the figures of its valid replies.
 *
 * @example
 * ```ts
 * import type { ProbeOutcome } from "./candidate_figures.ts";
 * declare const outcome: ProbeOutcome;
 * const figures = candidateFigures(outcome);
 * if (figures.problem === null) console.log(figures.delaySeconds);
 * ```
 */
export function candidateFigures(outcome: ProbeOutcome): CandidateFigures {
  const samples = outcome.samples;
  const ok = samples.filter((s): s is OkSample => s.kind === "ok");
  const best = ok.reduce<OkSample | null>(
    (a, b) => (a === null || b.delaySeconds < a.delaySeconds ? b : a),
    null,
  );
  // The worst quarter by delay is left out: a first or queued packet says more about the path
  // (ARP, NAT set-up, a busy receiver) than about the server.
  const kept = [...ok].sort((a, b) => a.delaySeconds - b.delaySeconds)
    .slice(0, Math.max(2, ok.length - Math.floor(ok.length / 4)));
  const jitter = best === null || kept.length < 2 ? null : Math.sqrt(
    kept.filter((s) => s !== best).reduce(
      (sum, s) => sum + (s.offsetSeconds - best.offsetSeconds) ** 2,
      0,
    ) / (kept.length - 1),
  );
  const headed = [...samples].reverse().find((s) => s.kind === "ok" || s.kind === "unsynchronised");
  const last = ok.at(-1) ?? null;
  const kiss = samples.find((s) => s.kind === "kissOfDeath");
  const base = {
    candidate: outcome.candidate,
    address: outcome.address,
    sent: samples.length,
    answered: ok.length,
    delaySeconds: best?.delaySeconds ?? null,
    offsetSeconds: best?.offsetSeconds ?? null,
    jitterSeconds: jitter ?? (best === null ? null : 0),
    stratum: headed === undefined ? null : headed.stratum,
    referenceId: last?.referenceId ?? null,
    rootDelaySeconds: last?.rootDelaySeconds ?? null,
    rootDispersionSeconds: last?.rootDispersionSeconds ?? null,
    rootDistanceSeconds: best === null || last === null ? null : Math.max(
      MIN_DISTANCE_SECONDS,
      (last.rootDelaySeconds + best.delaySeconds) / 2 + last.rootDispersionSeconds + (jitter ?? 0),
    ),
    kissCode: kiss?.kind === "kissOfDeath" ? kiss.code : null,
  };
  const fail = (problem: CandidateProblem, problemText: string): CandidateFigures => ({
    ...base,
    problem,
    problemText,
  });
  const skipped = outcome.skipped;
  if (skipped?.kind === "unresolved") return fail("unresolved", skipped.message);
  if (skipped?.kind === "duplicate") {
    return fail("duplicate", `same address as ${skipped.of.host} (line ${skipped.of.line})`);
  }
  if (kiss?.kind === "kissOfDeath") {
    const meaning = KISS_CODES[kiss.code];
    return fail(
      "kissOfDeath",
      `Kiss-o'-Death ${kiss.code}${meaning === undefined ? "" : ` (${meaning})`}`,
    );
  }
  if (ok.length < MIN_ANSWERED_SAMPLES) {
    const unsynced = samples.find((s) => s.kind === "unsynchronised");
    if (unsynced?.kind === "unsynchronised") {
      return fail(
        "unsynchronised",
        `not synchronised (leap ${unsynced.leap}, stratum ${unsynced.stratum})`,
      );
    }
    const invalid = samples.find((s) => s.kind === "invalid");
    if (invalid?.kind === "invalid") {
      return fail("invalid", `invalid replies (${invalid.reason})`);
    }
    return fail(
      "unreachable",
      ok.length === 0
        ? `no answer to ${samples.length} request${samples.length === 1 ? "" : "s"}`
        : `answered only ${ok.length} of ${samples.length} requests`,
    );
  }
  return { ...base, problem: null, problemText: "" };
}
