// What `ntp pick` prints: the table of measurements and verdicts, the summary, the [[server]] block, and the JSON form.
import { candidateLabel } from "../core/pick/candidate.ts";
import type { PickResult } from "../core/pick/pick_upstreams.ts";
import { refidText } from "../core/pick/source_key.ts";
import type { UpstreamConfig } from "../config/ntp_config.ts";
import { upstreamTableLines } from "../config/toml_writer.ts";

const columns = [
  ["#", 2, "right"],
  ["candidate", 26, "left"],
  ["address", 16, "left"],
  ["st", 2, "right"],
  ["refid", 15, "left"],
  ["delay/ms", 9, "right"],
  ["offset/ms", 10, "right"],
  ["jitter/ms", 9, "right"],
  ["ok", 3, "right"],
  ["verdict", 0, "left"],
] as const;

function cell(text: string, width: number, align: "left" | "right"): string {
  return align === "left" ? text.padEnd(width) : text.padStart(width);
}

function row(values: readonly string[]): string {
  return columns.map(([, width, align], i) => cell(values[i] ?? "", width, align)).join(" ")
    .trimEnd();
}

const ms = (seconds: number | null, signed = false): string =>
  seconds === null ? "-" : `${signed && seconds >= 0 ? "+" : ""}${(seconds * 1000).toFixed(3)}`;

/**
 * The table: one row per candidate (picked by rank, spares, then the dropped), with rank,
 * candidate, address, stratum, refid, delay, offset and jitter in milliseconds, valid replies
 * of requests sent, and the verdict with its reason.
 *
 * @example
 * ```ts
 * import type { PickResult } from "../core/pick/pick_upstreams.ts";
 * declare const result: PickResult;
 * console.log(pickTable(result).join("\n"));
 * ```
 */
export function pickTable(result: PickResult): string[] {
  const lines = [row(columns.map(([title]) => title))];
  for (const v of result.verdicts) {
    const f = v.figures;
    lines.push(row([
      v.rank === null ? "-" : String(v.rank),
      candidateLabel(f.candidate),
      f.address ?? "-",
      f.stratum === null ? "-" : String(f.stratum),
      f.referenceId === null || f.stratum === null ? "-" : refidText(f.referenceId, f.stratum),
      ms(f.delaySeconds),
      ms(f.offsetSeconds, true),
      ms(f.jitterSeconds),
      f.sent === 0 ? "-" : `${f.answered}/${f.sent}`,
      v.verdict === "dropped" ? `dropped: ${v.reason}` : v.reason,
    ]));
  }
  return lines;
}

/**
 * One line on how the pick went: how many were picked of how many usable, and the falseticker
 * vote.
 *
 * @example
 * ```ts
 * import type { PickResult } from "../core/pick/pick_upstreams.ts";
 * declare const result: PickResult;
 * pickSummary(result, { count: 5 }); // "picked 5 of 9 usable candidates (14 listed); ..."
 * ```
 */
export function pickSummary(result: PickResult, options: { readonly count: number }): string {
  const usable = result.verdicts.filter((v) => v.verdict !== "dropped").length;
  const vote = result.agreement === null
    ? result.voters < 3
      ? `too few answered (${result.voters}) to tell falsetickers apart`
      : `no majority of the ${result.voters} agree, so no falseticker could be named`
    : `falseticker check: the majority agrees on ${ms(result.agreement.lowSeconds, true)} .. ${
      ms(result.agreement.highSeconds, true)
    } ms`;
  const short = result.picked.length < options.count
    ? ` (wanted ${options.count}: add candidates with --from FILE)`
    : "";
  return `picked ${result.picked.length} of ${usable} usable candidates (${result.verdicts.length} listed)${short}; ${vote}`;
}

/**
 * The `[[server]]` tables of the picked upstreams, ready to paste into ntp.toml.
 *
 * @example
 * ```ts
 * import type { UpstreamConfig } from "../config/ntp_config.ts";
 * declare const upstreams: readonly UpstreamConfig[];
 * console.log(serverBlock(upstreams));
 * ```
 */
export function serverBlock(upstreams: readonly UpstreamConfig[]): string {
  return upstreams.map((u) => upstreamTableLines("server", u).join("\n")).join("\n\n");
}

/**
 * The JSON report: every candidate with its figures (seconds) and verdict, the picked ones in
 * order, the agreement interval and the [[server]] block.
 *
 * @example
 * ```ts
 * import type { UpstreamConfig } from "../config/ntp_config.ts";
 * import type { PickResult } from "../core/pick/pick_upstreams.ts";
 * declare const result: PickResult;
 * declare const upstreams: readonly UpstreamConfig[];
 * console.log(JSON.stringify(pickJson(result, upstreams)));
 * ```
 */
export function pickJson(
  result: PickResult,
  upstreams: readonly UpstreamConfig[],
): Record<string, unknown> {
  return {
    picked: result.picked.map((f) => candidateLabel(f.candidate)),
    agreement: result.agreement,
    voters: result.voters,
    candidates: result.verdicts.map((v) => ({
      candidate: candidateLabel(v.figures.candidate),
      line: v.figures.candidate.line,
      address: v.figures.address,
      verdict: v.verdict,
      rank: v.rank,
      reason: v.reason,
      problem: v.figures.problem,
      sourceKey: v.sourceKey,
      sent: v.figures.sent,
      answered: v.figures.answered,
      stratum: v.figures.stratum,
      refid: v.figures.referenceId === null || v.figures.stratum === null
        ? null
        : refidText(v.figures.referenceId, v.figures.stratum),
      delaySeconds: v.figures.delaySeconds,
      offsetSeconds: v.figures.offsetSeconds,
      jitterSeconds: v.figures.jitterSeconds,
      rootDistanceSeconds: v.figures.rootDistanceSeconds,
      kissCode: v.figures.kissCode,
    })),
    serverBlock: serverBlock(upstreams),
  };
}
