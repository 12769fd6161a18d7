// A candidate upstream as a candidate list names it (see src/config/candidate_list.ts for the file format).

/** One candidate upstream. */
export interface Candidate {
  /** Host name (lower case) or canonical IP literal (IPv6 without brackets). */
  readonly host: string;
  /** UDP port, 123 unless the list gives one. */
  readonly port: number;
  /** 1-based line of the list it came from (0 when it came from elsewhere). */
  readonly line: number;
}

/**
 * How a candidate is written in messages and configs: `host`, `host:port`, `[v6]:port`.
 *
 * @example
 * ```ts
 * candidateLabel({ host: "::1", port: 1123 }); // "[::1]:1123"
 * ```
 */
export function candidateLabel(
  candidate: { readonly host: string; readonly port: number },
): string {
  if (candidate.port === 123) return candidate.host;
  const host = candidate.host.includes(":") ? `[${candidate.host}]` : candidate.host;
  return `${host}:${candidate.port}`;
}
