// Replaces the upstream servers of a config text in place (TOML [[server]] tables, ntp.conf `server` lines), keeping everything else and its comments.
import type { UpstreamConfig } from "./ntp_config.ts";
import type { ConfigFormat } from "./parse_config.ts";
import { upstreamTableLines } from "./toml_writer.ts";

/** Marks the comment line written above the new servers; an old one is replaced, not kept. */
export const PICK_NOTE_PREFIX = "# picked by ntp pick";

const pickNote = /^\s*# picked by ntp pick\b/;

/** Options of {@link replaceServers}. */
export interface ReplaceServersOptions {
  readonly format: ConfigFormat;
  /** Text after {@link PICK_NOTE_PREFIX} on the comment line above the servers (e.g. " on 2025-01-01"). */
  readonly note?: string;
}

/** The ntp.conf line of one upstream: `server [-4|-6] ADDRESS [port N] [options]`. */
function ntpConfLine(upstream: UpstreamConfig): string {
  const isName = !/^[0-9.]+$/.test(upstream.host) && !upstream.host.includes(":");
  const words = ["server"];
  if (isName && upstream.family !== null) words.push(`-${upstream.family}`);
  const host = upstream.host.includes(":") ? `[${upstream.host}]` : upstream.host;
  // With nts, NTPsec reads HOST:PORT as the NTS-KE port.
  words.push(
    upstream.nts !== null && upstream.nts.keServer === null && upstream.nts.kePort !== 4460
      ? `${host}:${upstream.nts.kePort}`
      : upstream.host,
  );
  if (upstream.port !== 123) words.push("port", String(upstream.port));
  for (const flag of ["iburst", "burst", "prefer", "noselect"] as const) {
    if (upstream[flag]) words.push(flag);
  }
  if (upstream.minPollLog2 !== 6) words.push("minpoll", String(upstream.minPollLog2));
  if (upstream.maxPollLog2 !== 10) words.push("maxpoll", String(upstream.maxPollLog2));
  if (upstream.version !== 4) words.push("version", String(upstream.version));
  if (upstream.nts !== null) {
    words.push("nts");
    if (upstream.nts.caFile !== null) words.push("ca", upstream.nts.caFile);
    if (upstream.nts.keServer !== null) {
      const keHost = upstream.nts.keServer.includes(":")
        ? `[${upstream.nts.keServer}]`
        : upstream.nts.keServer;
      words.push("ask", upstream.nts.kePort === 4460 ? keHost : `${keHost}:${upstream.nts.kePort}`);
    }
    if (!upstream.nts.verifyCertificate) words.push("noval");
  }
  return words.join(" ");
}

/** Per line: is it a table header (outside multi-line strings and arrays), and which. */
function tomlHeaders(lines: readonly string[]): ({ name: string; array: boolean } | null)[] {
  const result: ({ name: string; array: boolean } | null)[] = [];
  let depth = 0;
  let multiline: string | null = null;
  for (const line of lines) {
    if (multiline === null && depth === 0) {
      const header = /^\s*(\[\[?)\s*([A-Za-z0-9_.\-"' ]+?)\s*\]\]?\s*(#.*)?$/.exec(line);
      if (header !== null) {
        result.push({ name: header[2]!.replace(/["']/g, ""), array: header[1] === "[[" });
        continue;
      }
    }
    result.push(null);
    // Track multi-line strings and arrays so that their lines are never taken for headers.
    for (let i = 0; i < line.length; i++) {
      const rest = line.slice(i);
      if (multiline !== null) {
        if (rest.startsWith(multiline)) {
          i += 2;
          multiline = null;
        }
        continue;
      }
      const c = line[i];
      if (c === "#") break;
      if (rest.startsWith('"""') || rest.startsWith("'''")) {
        multiline = rest.slice(0, 3);
        i += 2;
      } else if (c === '"' || c === "'") {
        let j = i + 1;
        while (j < line.length && line[j] !== c) j += c === '"' && line[j] === "\\" ? 2 : 1;
        i = j;
      } else if (c === "[") depth++;
      else if (c === "]") depth = Math.max(0, depth - 1);
    }
  }
  return result;
}

function isCommentOrBlank(line: string): boolean {
  return /^\s*(#.*)?$/.test(line);
}

function replaceTomlServers(text: string, blocks: string[][], note: string[]): string {
  const lines = text.split("\n");
  const headers = tomlHeaders(lines);
  const remove = new Array<boolean>(lines.length).fill(false);
  let insertAt: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    if (pickNote.test(lines[i]!)) remove[i] = true;
    const header = headers[i];
    if (header?.array !== true || header.name !== "server") continue;
    let end = i + 1;
    while (end < lines.length && headers[end] === null) end++;
    // Comments and blank lines at the end belong to what follows.
    while (end > i + 1 && isCommentOrBlank(lines[end - 1]!)) end--;
    for (let k = i; k < end; k++) remove[k] = true;
    insertAt ??= i;
  }
  if (insertAt === null) {
    const firstHeader = headers.findIndex((h) => h !== null);
    if (firstHeader === -1) {
      insertAt = lines.at(-1) === "" ? lines.length - 1 : lines.length;
    } else {
      insertAt = firstHeader;
      while (insertAt > 0 && /^\s*#/.test(lines[insertAt - 1]!)) insertAt--;
    }
  }
  const at = insertAt;
  const inserted = [...note, ...blocks.flatMap((block, i) => (i === 0 ? block : ["", ...block]))];
  const before = lines.slice(0, at).filter((_, k) => !remove[k]);
  const after = lines.slice(at).filter((_, k) => !remove[at + k]);
  return assemble(before, inserted, after, { spaced: true });
}

/**
 * before + inserted + after. TOML: a blank line separates `inserted` from a key or table line next
 * to it (a comment just above stays attached). Both: one final newline.
 */
function assemble(
  before: string[],
  inserted: string[],
  after: string[],
  options: { readonly spaced: boolean },
): string {
  const last = before.at(-1);
  const first = after.find((line, i) => line !== "" || i < after.length - 1);
  const lines = [
    ...before,
    ...(options.spaced && last !== undefined && !isCommentOrBlank(last) ? [""] : []),
    ...inserted,
    ...(options.spaced && first !== undefined && first.trim() !== "" ? [""] : []),
    ...after,
  ];
  while (lines.length > 1 && lines.at(-1) === "" && lines.at(-2)!.trim() === "") lines.pop();
  if (lines.at(-1) !== "") lines.push("");
  return collapseBlankRuns(lines).join("\n");
}

/** Joins runs of blank lines left where tables were removed into one blank line. */
function collapseBlankRuns(lines: readonly string[]): string[] {
  return lines.filter((line, i) =>
    !(line.trim() === "" && i > 0 && lines[i - 1]!.trim() === "" && i < lines.length - 1)
  );
}

function replaceNtpConfServers(text: string, serverLines: string[], note: string[]): string {
  const lines = text.split("\n");
  const isServer = (line: string) => /^\s*server\s/i.test(line) || /^\s*server$/i.test(line);
  let insertAt = lines.findIndex(isServer);
  if (insertAt === -1) {
    const lastPool = lines.findLastIndex((line) => /^\s*pool\s/i.test(line));
    insertAt = lastPool !== -1
      ? lastPool + 1
      : lines.findIndex((line) => !isCommentOrBlank(line)) === -1
      ? (lines.at(-1) === "" ? lines.length - 1 : lines.length)
      : lines.findIndex((line) => !isCommentOrBlank(line));
  }
  const keep = (line: string) => !isServer(line) && !pickNote.test(line);
  const before = lines.slice(0, insertAt).filter(keep);
  const after = lines.slice(insertAt).filter(keep);
  return assemble(before, [...note, ...serverLines], after, { spaced: false });
}

/**
 * Replaces every `[[server]]` table of a TOML config (every `server` line of an ntp.conf) with
 * `servers`, written where the first one was (TOML without servers: before the first table; ntp.conf
 * without servers: after the last `pool` line, else before the first directive). Everything
 * else, comments included, is kept as it was; a comment line starting with
 * {@link PICK_NOTE_PREFIX} goes above the new servers (an earlier one is removed).
 *
 * @example
 * ```ts
 * import type { UpstreamConfig } from "./ntp_config.ts";
 * const original = await Deno.readTextFile("/etc/ntp/ntp.toml");
 * declare const upstream: UpstreamConfig;
 * const text = replaceServers(original, [upstream], { format: "toml", note: " from candidates.txt" });
 * ```
 */
export function replaceServers(
  text: string,
  servers: readonly UpstreamConfig[],
  options: ReplaceServersOptions,
): string {
  const note = options.note === undefined ? [] : [`${PICK_NOTE_PREFIX}${options.note}`];
  if (options.format === "ntp.conf") {
    return replaceNtpConfServers(text, servers.map(ntpConfLine), note);
  }
  return replaceTomlServers(text, servers.map((s) => upstreamTableLines("server", s)), note);
}
