// Source selection end to end: fitness, intersection, excess, cluster, combine and the system peer with hysteresis; the tally codes ntpq shows.
import type { LeapIndicator } from "../server/types.ts";
import { cluster } from "./cluster.ts";
import { combine } from "./combine.ts";
import { intersect } from "./intersection.ts";
import { MAX_COMBINED_SURVIVORS, MIN_DISTANCE_SECONDS } from "./ntp_constants.ts";

/**
 * Selection status of an association, numbered as ntpd's CTL_PST_SEL_* (the `sel` field of the
 * peer status word); ntpq shows it as the tally character {@link tallyCharacter}.
 */
export const Selection = {
  /** " " not a candidate: unfit, unreachable, noselect. */
  rejected: 0,
  /** "x" falseticker: outside the intersection. */
  falseticker: 1,
  /** "." excess: a truechimer beyond the first maxclock by metric. */
  excess: 2,
  /** "-" outlier: discarded by the cluster algorithm. */
  outlier: 3,
  /** "+" candidate: a survivor combined into the system offset. */
  candidate: 4,
  /** "#" backup: a survivor not combined (beyond the first six by metric). */
  backup: 5,
  /** "*" the system peer. */
  systemPeer: 6,
  /** "o" PPS peer (never chosen here: there is no PPS support). */
  ppsPeer: 7,
} as const;

/** One of the {@link Selection} values. */
export type SelectionCode = (typeof Selection)[keyof typeof Selection];

/**
 * The tally character ntpq prints for a selection code (" x.-+#*o"); any number is taken as the
 * 3-bit `sel` field of a peer status word, as read off the wire.
 *
 * @example
 * ```ts
 * tallyCharacter(Selection.systemPeer); // "*"
 * ```
 */
export function tallyCharacter(code: SelectionCode | number): string {
  return " x.-+#*o"[code & 7] as string;
}

/** One association as selection sees it. */
export interface SelectionSource {
  readonly id: number;
  /** False for unfit sources (see source_fitness.ts): they get " " and take no further part. */
  readonly fit: boolean;
  /** Filter offset referred to now, seconds (positive: local clock behind). */
  readonly offsetSeconds: number;
  /** Root distance now, seconds. */
  readonly rootDistanceSeconds: number;
  /** Root distance without the growth since the last poll, seconds (for the hysteresis). */
  readonly baseDistanceSeconds: number;
  /** Peer jitter, seconds. */
  readonly jitterSeconds: number;
  readonly stratum: number;
  readonly leap: LeapIndicator;
  readonly prefer: boolean;
  /** Answered at least one of its last three polls (reach & 7 != 0). */
  readonly answeredRecently: boolean;
}

/** ntp.conf `tos` settings that steer selection. */
export interface SelectionSettings {
  /** Fewest survivors needed for a system peer (`tos minsane`, default 1). */
  readonly minSane: number;
  /** Fewest survivors the cluster algorithm keeps (`tos minclock`, default 3). */
  readonly minClock: number;
  /** Most truechimers considered (`tos maxclock`, default 10). */
  readonly maxClock: number;
  /** Local precision, log2 seconds. */
  readonly precisionLog2: number;
}

/** The outcome of one selection round. */
export interface SelectionResult {
  /** Every input id with its selection code. */
  readonly codes: ReadonlyMap<number, SelectionCode>;
  /** The system peer, or null (no majority, too few survivors, no fit source). */
  readonly systemPeerId: number | null;
  /** Sources whose offsets make up the system offset: the combined survivors, or the prefer peer alone. */
  readonly contributorIds: readonly number[];
  /** Combined offset, seconds; null without a system peer. */
  readonly offsetSeconds: number | null;
  /** System jitter: sqrt(peer jitter^2 + combine jitter^2), seconds; 0 without a system peer. */
  readonly jitterSeconds: number;
  /** Leap warning most survivors agree on (0 when no majority announces one). */
  readonly leap: 0 | 1 | 2;
  /** Truechimers found by the intersection algorithm. */
  readonly truechimerCount: number;
  /** Survivors of the cluster algorithm. */
  readonly survivorCount: number;
}

/** The ordering metric: stratum * 1 ms + root distance (ntpd 4.2.8). */
function metric(source: SelectionSource): number {
  return source.stratum * MIN_DISTANCE_SECONDS + source.rootDistanceSeconds;
}

/** Margin by which a new source must beat the old system peer's base distance, seconds (chrony's reselectdist). */
const reselectSeconds = 100e-6;

function chooseSystemPeer(
  survivors: readonly SelectionSource[],
  previousId: number | null,
): SelectionSource {
  const preferred = survivors.find((s) => s.prefer);
  if (preferred) return preferred;
  const best = survivors[0] as SelectionSource;
  const previous = survivors.find((s) => s.id === previousId);
  if (
    previous && previous !== best && previous.answeredRecently &&
    previous.stratum <= best.stratum &&
    previous.baseDistanceSeconds <= 2 * best.baseDistanceSeconds + reselectSeconds
  ) {
    return previous;
  }
  return best;
}

function leapVote(survivors: readonly SelectionSource[]): 0 | 1 | 2 {
  for (const leap of [1, 2] as const) {
    const votes = survivors.filter((s) => s.leap === leap).length;
    if (2 * votes > survivors.length) return leap;
  }
  return 0;
}

/**
 * Runs RFC 5905 §11.2 over `sources`: unfit ones are rejected; the intersection algorithm marks
 * falsetickers; truechimers beyond `maxClock` (by metric stratum * 1 ms + root distance) are
 * excess; the cluster algorithm prunes outliers down to `minClock`; with at least `minSane`
 * survivors a system peer is chosen and the survivors (first six by metric) are combined.
 *
 * System peer: a surviving prefer peer always wins (and its offset alone is used, as ntpd
 * does). Otherwise the best by metric, unless the previous system peer survived, answered one of
 * its last three polls, has no higher stratum, and its base distance is at most twice the best's
 * plus 100 us: then it is kept (anti-clockhop).
 *
 * @example
 * ```ts
 * import type { SelectionSource } from "./select_sources.ts";
 * declare const sources: readonly SelectionSource[];
 * const result = selectSources(sources, { minSane: 1, minClock: 3, maxClock: 10, precisionLog2: -20 }, null);
 * result.systemPeerId;
 * ```
 */
export function selectSources(
  sources: readonly SelectionSource[],
  settings: SelectionSettings,
  previousSystemPeerId: number | null,
): SelectionResult {
  const codes = new Map<number, SelectionCode>(sources.map((s) => [s.id, Selection.rejected]));
  const none = (truechimerCount: number, survivorCount: number): SelectionResult => ({
    codes,
    systemPeerId: null,
    contributorIds: [],
    offsetSeconds: null,
    jitterSeconds: 0,
    leap: 0,
    truechimerCount,
    survivorCount,
  });
  const fit = sources.filter((s) => s.fit);
  const intersection = intersect(fit);
  if (!intersection.majority) {
    for (const s of fit) codes.set(s.id, Selection.falseticker);
    return none(0, 0);
  }
  for (const id of intersection.falsetickers) codes.set(id, Selection.falseticker);
  const truechimers = fit
    .filter((s) => intersection.truechimers.includes(s.id))
    .sort((a, b) => metric(a) - metric(b));
  const considered = truechimers.slice(0, Math.max(1, settings.maxClock));
  for (const s of truechimers.slice(considered.length)) codes.set(s.id, Selection.excess);

  const clustered = cluster(considered, settings);
  for (const id of clustered.outliers) codes.set(id, Selection.outlier);
  const survivors = considered.filter((s) => clustered.survivors.includes(s.id));
  for (const s of survivors) codes.set(s.id, Selection.candidate);
  const combined = survivors.slice(0, MAX_COMBINED_SURVIVORS);
  for (const s of survivors.slice(combined.length)) codes.set(s.id, Selection.backup);
  if (survivors.length === 0 || survivors.length < settings.minSane) {
    return none(truechimers.length, survivors.length);
  }

  const peer = chooseSystemPeer(survivors, previousSystemPeerId);
  codes.set(peer.id, Selection.systemPeer);
  const contributors = peer.prefer
    ? [peer]
    : combined.includes(peer)
    ? combined
    : [peer, ...combined];
  const result = combine(contributors, { systemPeerOffsetSeconds: peer.offsetSeconds });
  return {
    codes,
    systemPeerId: peer.id,
    contributorIds: contributors.map((s) => s.id),
    offsetSeconds: result.offsetSeconds,
    jitterSeconds: Math.sqrt(peer.jitterSeconds ** 2 + result.jitterSeconds ** 2),
    leap: leapVote(combined),
    truechimerCount: truechimers.length,
    survivorCount: survivors.length,
  };
}
