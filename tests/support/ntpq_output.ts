// Parses what ntpsec's ntpq prints (`-np` billboard rows, `rv` variable lists) into typed fields for assertions.

/** One `ntpq -np` billboard row, split at ntpq's fixed columns (ntpsec's ntpq.py prints them with fixed widths). */
export interface BillboardRow {
  /** Tally character: " x.-+#*o" (`*` = system peer). */
  readonly tally: string;
  readonly remote: string;
  readonly refid: string;
  readonly stratum: number;
  /** Association type character, e.g. "u" (unicast). */
  readonly type: string;
  /** Seconds since the last reply, or null for "-" (never, or just now). */
  readonly whenSeconds: number | null;
  readonly pollSeconds: number;
  /** The reach register as ntpq prints it (octal digits). */
  readonly reachOctal: string;
  /** The reach register's value (parsed from octal). */
  readonly reach: number;
  readonly delayMs: number;
  readonly offsetMs: number;
  readonly jitterMs: number;
}

const whenUnitSeconds: Readonly<Record<string, number>> = { "": 1, m: 60, h: 3600, d: 86400 };

/**
 * Splits a billboard row (80 columns, as `ntpq -np -W 80` prints it) into its fields.
 *
 * @throws {SyntaxError} When a column does not hold what ntpq puts there (e.g. reach not octal).
 *
 * @example
 * ```ts
 * const row = parseBillboardRow(
 *   "*10.123.0.1      127.127.1.1      2 u   12   16  377   0.0486   0.0122   0.0361",
 * );
 * // row.tally === "*", row.reach === 255, row.delayMs === 0.0486
 * ```
 */
export function parseBillboardRow(row: string): BillboardRow {
  const fail = (what: string) => {
    throw new SyntaxError(`Cannot parse billboard row ${JSON.stringify(row)}: ${what}`);
  };
  if (row.length !== 79) fail(`expected 79 characters, got ${row.length}`);
  const tally = row[0]!;
  if (!" x.-+#*o".includes(tally)) fail(`bad tally '${tally}'`);
  const when = row.slice(38, 42).trim();
  const whenMatch = /^(\d+)([mhd]?)$/.exec(when);
  if (when !== "-" && whenMatch === null) fail(`bad when '${when}'`);
  const reachOctal = row.slice(49, 52).trim();
  if (!/^[0-7]{1,3}$/.test(reachOctal)) fail(`reach '${reachOctal}' is not octal`);
  const number = (from: number, to: number, what: string) => {
    const text = row.slice(from, to).trim();
    const value = Number(text);
    if (text === "" || !Number.isFinite(value)) fail(`bad ${what} '${text}'`);
    return value;
  };
  return {
    tally,
    remote: row.slice(1, 16).trim(),
    refid: row.slice(17, 32).trim(),
    stratum: number(33, 35, "stratum"),
    type: row[36]!,
    whenSeconds: whenMatch === null
      ? null
      : Number(whenMatch[1]) * whenUnitSeconds[whenMatch[2] ?? ""]!,
    pollSeconds: number(43, 47, "poll"),
    reachOctal,
    reach: Number.parseInt(reachOctal, 8),
    delayMs: number(53, 61, "delay"),
    offsetMs: number(62, 70, "offset"),
    jitterMs: number(71, 79, "jitter"),
  };
}

/** The `associd=N status=XXXX words...` first line of `ntpq -c rv` output. */
export interface RvHeader {
  readonly associationId: number;
  /** The status word, from its four hex digits. */
  readonly status: number;
  /** ntpq's decoding of the status word, e.g. "leap_none, sync_ntp, 1 event, clock_sync". */
  readonly decoded: string;
}

/**
 * Reads the variables of `ntpq -c rv` / `-c 'rv &N'` output: `name=value` items separated by
 * ", " over several lines (values as ntpq displays them, e.g. `reach` in octal, `reftime` as
 * "hex ISO", strings with their quotes). The `associd=` header line is returned separately.
 *
 * @example
 * ```ts
 * const { header, variables } = parseNtpqVariables(result.stdout);
 * // header?.associationId === 0, variables.get("stratum") === "3"
 * ```
 */
export function parseNtpqVariables(
  stdout: string,
): { header: RvHeader | null; variables: Map<string, string> } {
  let header: RvHeader | null = null;
  const body: string[] = [];
  for (const line of stdout.split("\n")) {
    const match = /^associd=(\d+) status=([0-9a-f]{4}) (.*?),?$/.exec(line);
    if (match !== null) {
      header = {
        associationId: Number(match[1]),
        status: Number.parseInt(match[2]!, 16),
        decoded: match[3]!,
      };
    } else if (!/^primary timeout/.test(line)) {
      body.push(line);
    }
  }
  const variables = new Map<string, string>();
  for (const item of body.join(" ").matchAll(/([A-Za-z_][\w.]*)\s*=("[^"]*"|[^,]*)/g)) {
    variables.set(item[1]!, item[2]!.trim());
  }
  return { header, variables };
}
