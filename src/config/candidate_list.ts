// Reads a candidate list (conf/candidates.txt): one HOST[:PORT] per line, `#` comments, blank lines ignored.
import type { Candidate } from "../core/pick/candidate.ts";
import { parseHostPort } from "./addresses.ts";

/** A line that could not be read, with the reason. */
export interface CandidateListProblem {
  readonly line: number;
  readonly message: string;
}

/** The candidates of a list (duplicates removed, first one kept) and the lines that were not used. */
export interface CandidateList {
  readonly candidates: readonly Candidate[];
  readonly problems: readonly CandidateListProblem[];
}

/** Default NTP port. */
const ntpPort = 123;

/**
 * Parses candidate list text. Each line holds one `HOST`, `HOST:PORT`, `IPv6` or `[IPv6]:PORT`;
 * anything after `#` is a comment. A bad line, or a second word on a line, is reported and
 * skipped; a repeated HOST:PORT is reported and the first one kept.
 *
 * @example
 * ```ts
 * parseCandidateList("ptbtime1.ptb.de  # PTB\n127.0.0.1:11123\n").candidates;
 * // [{ host: "ptbtime1.ptb.de", port: 123, line: 1 }, { host: "127.0.0.1", port: 11123, line: 2 }]
 * ```
 */
export function parseCandidateList(text: string): CandidateList {
  const candidates: Candidate[] = [];
  const problems: CandidateListProblem[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const hash = raw.indexOf("#");
    const words = (hash === -1 ? raw : raw.slice(0, hash)).trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    if (words.length > 1) {
      problems.push({
        line,
        message: `expected one HOST[:PORT] per line, got ${words.length} words ("${
          words.join(" ")
        }")`,
      });
      return;
    }
    const parsed = parseHostPort(words[0]!, { allowPortZero: false });
    if (!parsed.ok) {
      problems.push({ line, message: parsed.message });
      return;
    }
    const host = parsed.value.host;
    const port = parsed.value.port ?? ntpPort;
    const key = `${host}|${port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ line, message: `${words[0]} is listed twice (also line ${first})` });
      return;
    }
    seen.set(key, line);
    candidates.push({ host, port, line });
  });
  return { candidates, problems };
}
