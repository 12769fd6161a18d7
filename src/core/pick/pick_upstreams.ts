// Chooses upstreams from measured candidates: drops the unusable and the falsetickers, ranks by delay then jitter, prefers diverse sources.
import { intersect, type SourceInterval } from "../discipline/intersection.ts";
import type { CandidateFigures } from "./candidate_figures.ts";
import { candidateLabel } from "./candidate.ts";
import { sourceKey } from "./source_key.ts";

/** Fewest and most upstreams `ntp pick` chooses, and its default. */
export const PICK_COUNT = Object.freeze({ min: 4, max: 7, default: 5 });

/** Delays closer than this rank as equal, and jitter decides between them, seconds. */
export const DELAY_RESOLUTION_SECONDS = 0.001;

/** An interval of a source already trusted (the daemon's current upstreams), same clock as the figures. */
export interface ReferenceInterval {
  readonly offsetSeconds: number;
  readonly rootDistanceSeconds: number;
}

/** Options of {@link pickUpstreams}. */
export interface PickOptions {
  /** How many to choose (>= 1). */
  readonly count: number;
  /** Source keys (see source_key.ts) already in use: candidates with another key go first. */
  readonly takenSourceKeys?: readonly string[];
  /** Intervals of trusted sources that join the falseticker vote (they are never dropped). */
  readonly referenceIntervals?: readonly ReferenceInterval[];
  /**
   * Candidates that pass `test` rank before all others (`ntp pick --nts`: those whose NTS-KE
   * succeeded); their reasons say `label`.
   */
  readonly preferred?: {
    readonly test: (figures: CandidateFigures) => boolean;
    readonly label: string;
  };
}

/** What became of one candidate. */
export interface CandidateVerdict {
  readonly figures: CandidateFigures;
  /** picked: chosen; spare: usable but not chosen; dropped: unusable or a falseticker. */
  readonly verdict: "picked" | "spare" | "dropped";
  /** Position among the usable ones by delay then jitter (1 = best), null when dropped. */
  readonly rank: number | null;
  /** Why, for people: "nearest", "falseticker: ...", "Kiss-o'-Death RATE ...". */
  readonly reason: string;
  /** The reference it follows (source_key.ts), null without a valid reply. */
  readonly sourceKey: string | null;
}

/** The outcome of {@link pickUpstreams}. */
export interface PickResult {
  /** Picked by rank, then spares by rank, then the dropped in list order. */
  readonly verdicts: readonly CandidateVerdict[];
  /** The chosen figures, best first. */
  readonly picked: readonly CandidateFigures[];
  /** The interval the majority agrees on, seconds; null when there was no majority (or no one to ask). */
  readonly agreement: { readonly lowSeconds: number; readonly highSeconds: number } | null;
  /** Usable candidates (and references) that took part in the falseticker vote. */
  readonly voters: number;
}

function signed(seconds: number): string {
  return `${seconds >= 0 ? "+" : ""}${seconds.toFixed(6)}`;
}

/** Orders usable candidates: delay (to the millisecond), then jitter, then delay, then list order. */
function byRank(a: CandidateFigures, b: CandidateFigures): number {
  const bucket = (f: CandidateFigures) =>
    Math.floor((f.delaySeconds ?? 0) / DELAY_RESOLUTION_SECONDS);
  return bucket(a) - bucket(b) || (a.jitterSeconds ?? 0) - (b.jitterSeconds ?? 0) ||
    (a.delaySeconds ?? 0) - (b.delaySeconds ?? 0) || a.candidate.line - b.candidate.line;
}

/** The key of a usable candidate (it has a stratum and refid). */
function keyOf(f: CandidateFigures): string | null {
  return f.stratum === null || f.referenceId === null
    ? null
    : sourceKey({ host: f.candidate.host, stratum: f.stratum, referenceId: f.referenceId });
}

/**
 * Chooses `count` upstreams:
 * 1. unusable candidates (see candidate_figures.ts) are dropped;
 * 2. the usable ones (with the reference intervals) vote with the intersection algorithm on
 *    offset +- root distance; those outside the majority's interval are dropped as falsetickers
 *    (with no majority nobody can be called one, and none is dropped);
 * 3. the rest are ranked by delay, to the millisecond, then jitter (the `preferred` ones first);
 * 4. in rank order, candidates whose source key is not yet taken (by an earlier pick or
 *    `takenSourceKeys`) are picked first; if that gives fewer than `count`, the best of the
 *    others fill up. So a pick rests on as many different references as the list offers.
 *
 * @example
 * ```ts
 * import { candidateFigures, type ProbeOutcome } from "./candidate_figures.ts";
 * declare const outcomes: readonly ProbeOutcome[];
 * const { picked, verdicts } = pickUpstreams(outcomes.map(candidateFigures), { count: 5 });
 * ```
 */
export function pickUpstreams(
  figures: readonly CandidateFigures[],
  options: PickOptions,
): PickResult {
  const usable = figures.filter((f) => f.problem === null);
  const references = options.referenceIntervals ?? [];
  const intervals: SourceInterval[] = [
    ...usable.map((f, id) => ({
      id,
      offsetSeconds: f.offsetSeconds ?? 0,
      rootDistanceSeconds: f.rootDistanceSeconds ?? Infinity,
    })),
    ...references.map((r, i) => ({ ...r, id: -1 - i })),
  ];
  const vote = intervals.length === 0 ? { majority: false as const } : intersect(intervals);
  const agreement = vote.majority
    ? { lowSeconds: vote.lowSeconds, highSeconds: vote.highSeconds }
    : null;
  const agreeing = vote.majority ? vote.truechimers.length : 0;
  const falsetickers = new Set(vote.majority ? vote.falsetickers.filter((id) => id >= 0) : []);
  const preferred = options.preferred;
  const first = (f: CandidateFigures) => (preferred?.test(f) === true ? 0 : 1);
  const truechimers = usable.filter((_, id) => !falsetickers.has(id)).sort((a, b) =>
    first(a) - first(b) || byRank(a, b)
  );

  const taken = new Set(options.takenSourceKeys ?? []);
  const chosen = new Set<CandidateFigures>();
  const sharedWith = new Map<CandidateFigures, CandidateFigures | "taken">();
  const owner = new Map<string, CandidateFigures>();
  for (const f of truechimers) {
    if (chosen.size >= options.count) break;
    const key = keyOf(f);
    if (key !== null && (taken.has(key) || owner.has(key))) {
      sharedWith.set(f, owner.get(key) ?? "taken");
      continue;
    }
    chosen.add(f);
    if (key !== null) owner.set(key, f);
  }
  for (const f of truechimers) {
    if (chosen.size >= options.count) break;
    chosen.add(f);
  }

  const verdictOf = (f: CandidateFigures, rank: number): CandidateVerdict => {
    const key = keyOf(f);
    const shared = sharedWith.get(f);
    const label = preferred?.test(f) === true ? `, ${preferred.label}` : "";
    const sameSource =
      (shared === undefined
        ? ""
        : shared === "taken"
        ? `; its source ${key} is already in use`
        : `; same source ${key} as ${candidateLabel(shared.candidate)}`) + label;
    if (chosen.has(f)) {
      return {
        figures: f,
        verdict: "picked",
        rank,
        reason: rank === 1 ? `picked: nearest${sameSource}` : `picked: rank ${rank}${sameSource}`,
        sourceKey: key,
      };
    }
    return {
      figures: f,
      verdict: "spare",
      rank,
      reason: shared !== undefined
        ? `spare: rank ${rank}${sameSource}`
        : `spare: rank ${rank}, ${options.count} already picked${label}`,
      sourceKey: key,
    };
  };
  const ranked = truechimers.map((f, i) => verdictOf(f, i + 1));
  const dropped: CandidateVerdict[] = figures
    .filter((f) => f.problem !== null || falsetickers.has(usable.indexOf(f)))
    .map((f) => ({
      figures: f,
      verdict: "dropped",
      rank: null,
      reason: f.problem !== null
        ? f.problemText
        : `falseticker: offset ${signed(f.offsetSeconds ?? 0)} s is outside ${
          signed(agreement?.lowSeconds ?? 0)
        } .. ${
          signed(agreement?.highSeconds ?? 0)
        } s, where ${agreeing} of ${intervals.length} sources agree`,
      sourceKey: keyOf(f),
    }));
  return {
    verdicts: [
      ...ranked.filter((v) => v.verdict === "picked"),
      ...ranked.filter((v) => v.verdict === "spare"),
      ...dropped,
    ],
    picked: ranked.filter((v) => v.verdict === "picked").map((v) => v.figures),
    agreement,
    voters: intervals.length,
  };
}
