// Resolves an upstream server name to addresses (IP literals as is, then /etc/hosts, then DNS), honouring -4/-6.
//
// Order as glibc with "hosts: files dns": the hosts file answers first (no network, no
// timeout), then DNS (Deno.resolveDns). "localhost" is always loopback (RFC 6761), even
// without a hosts entry. Every failure is returned as a value with a message, never thrown.
import { formatIpAddress, parseIpv4, parseIpv6 } from "../core/address/ip_text.ts";

/** One address a name resolved to, ready for a socket. */
export interface ResolvedAddress {
  /** IP literal in canonical text ("192.0.2.1", "2001:db8::1"; IPv6 without brackets). */
  readonly hostname: string;
  readonly family: 4 | 6;
}

/** Where the addresses came from. */
export type ResolveSource = "literal" | "hosts" | "dns";

/** The outcome of {@link resolveServerName}: addresses (never empty), or why there are none. */
export type ResolveOutcome =
  | {
    readonly ok: true;
    readonly addresses: readonly ResolvedAddress[];
    readonly source: ResolveSource;
  }
  | { readonly ok: false; readonly message: string };

/** A DNS lookup of one record type; rejects when there is no answer. */
export type DnsLookup = (
  name: string,
  recordType: "A" | "AAAA",
  signal: AbortSignal,
) => Promise<string[]>;

/** Options for {@link resolveServerName}. */
export interface ResolveOptions {
  /** 4 or 6 to use only that family (ntp.conf -4 / -6); null or absent for both. */
  readonly family?: 4 | 6 | null;
  /** Give up on DNS after this many milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** The DNS lookup; default Deno.resolveDns. */
  readonly dns?: DnsLookup;
  /** Reads the hosts file; default Deno.readTextFile("/etc/hosts") ("" when unreadable). */
  readonly readHosts?: () => Promise<string>;
}

/**
 * Parses a literal IPv4 (dotted quad) or IPv6 address, with or without brackets, into its
 * canonical form; null when the text is not one.
 *
 * @example
 * ```ts
 * parseIpLiteral("[2001:DB8::1]"); // { hostname: "2001:db8::1", family: 6 }
 * parseIpLiteral("ntp.example");   // null
 * ```
 */
export function parseIpLiteral(text: string): ResolvedAddress | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const v4 = parseIpv4(bare);
  if (v4 !== null) return { hostname: formatIpAddress(v4), family: 4 };
  const v6 = parseIpv6(bare);
  if (v6 !== null) return { hostname: formatIpAddress(v6), family: 6 };
  return null;
}

function wanted(family: 4 | 6 | null, candidate: 4 | 6): boolean {
  return family === null || family === candidate;
}

/**
 * Looks a name up in hosts-file text ("ADDRESS NAME [ALIASES...]" lines, # comments), case
 * insensitively, in file order with duplicates removed; IPv4 first when both families are
 * wanted. "localhost" falls back to 127.0.0.1 / ::1 when the file does not list it.
 *
 * @example
 * ```ts
 * lookupHostsText("127.0.0.1 localhost\n::1 localhost ip6-localhost\n", "localhost", 6);
 * // [{ hostname: "::1", family: 6 }]
 * ```
 */
export function lookupHostsText(
  text: string,
  name: string,
  family: 4 | 6 | null,
): ResolvedAddress[] {
  const target = name.toLowerCase().replace(/\.$/, "");
  const found: ResolvedAddress[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [addressText, ...names] = line.split(/\s+/);
    if (!names.some((entry) => entry.toLowerCase().replace(/\.$/, "") === target)) continue;
    const address = parseIpLiteral(addressText ?? "");
    if (address === null || !wanted(family, address.family)) continue;
    if (found.some((seen) => seen.hostname === address.hostname)) continue;
    found.push(address);
  }
  if (found.length === 0 && (target === "localhost" || target.endsWith(".localhost"))) {
    if (wanted(family, 4)) found.push({ hostname: "127.0.0.1", family: 4 });
    if (wanted(family, 6)) found.push({ hostname: "::1", family: 6 });
  }
  return found.sort((a, b) => a.family - b.family);
}

const defaultDns: DnsLookup = (name, recordType, signal) =>
  Deno.resolveDns(name, recordType, { signal });

async function defaultReadHosts(): Promise<string> {
  try {
    // Without read permission (a program run with only --allow-net) DNS alone: no prompt.
    const permission = await Deno.permissions.query({ name: "read", path: "/etc/hosts" });
    if (permission.state !== "granted") return "";
    return await Deno.readTextFile("/etc/hosts");
  } catch {
    return "";
  }
}

/** Why one DNS lookup failed, in words for the log (never the resolver library's own text). */
type DnsProblem =
  | { readonly kind: "noRecord" }
  | { readonly kind: "timeout"; readonly text: string }
  | { readonly kind: "other"; readonly text: string };

/**
 * Classifies a failed lookup: no record (NXDOMAIN or an empty answer), no answer in time (our
 * deadline or the resolver's), a refused or unreachable server, or else the error's kind.
 */
function dnsProblem(
  error: unknown,
  context: { readonly aborted: boolean; readonly timeoutMs: number },
): DnsProblem {
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  if (context.aborted || name === "TimedOut" || /timed out/i.test(message)) {
    const seconds = context.timeoutMs / 1000;
    return {
      kind: "timeout",
      text: `no answer from DNS within ${
        Number.isInteger(seconds) ? seconds : seconds.toFixed(2)
      } s`,
    };
  }
  if (name === "NotFound" || /no records found|NXDomain/i.test(message)) {
    return { kind: "noRecord" };
  }
  if (name === "ConnectionRefused" || /refused/i.test(message)) {
    return { kind: "other", text: "the DNS server refused the query" };
  }
  if (name === "PermissionDenied" || name === "NotCapable") {
    return { kind: "other", text: "not allowed to use DNS" };
  }
  const cleaned = message.replace(/^proto error:\s*/i, "").replace(/\s+for Query \{.*$/s, "");
  return { kind: "other", text: cleaned.slice(0, 80) };
}

/**
 * "svl1.ntp.se does not resolve (no A or AAAA record)", "... (no answer from DNS within 5 s)",
 * or a mix per record type when the lookups failed differently.
 */
function dnsFailureMessage(
  name: string,
  types: readonly ("A" | "AAAA")[],
  problems: readonly (DnsProblem | null)[],
): string {
  const failed = problems.map((p, i) => ({ type: types[i] as string, problem: p }));
  const isNoRecord = (p: DnsProblem | null) => p === null || p.kind === "noRecord";
  if (failed.every((f) => isNoRecord(f.problem))) {
    return `${name} does not resolve (no ${types.join(" or ")} record)`;
  }
  const texts = failed.map(({ type, problem }) => {
    if (problem === null || problem.kind === "noRecord") return `no ${type} record`;
    const mixed = failed.some((f) => f.problem?.kind !== problem.kind || isNoRecord(f.problem));
    return mixed ? `${type}: ${problem.text}` : problem.text;
  });
  return `${name} does not resolve (${[...new Set(texts)].join("; ")})`;
}

/**
 * Resolves an upstream server name to addresses: an IP literal passes through (checked against
 * a forced family), then the hosts file, then DNS (A and/or AAAA, with a timeout). Never
 * rejects: failures come back as `{ ok: false, message }`.
 *
 * @example
 * ```ts
 * const outcome = await resolveServerName("localhost", { family: 4 });
 * if (outcome.ok) console.log(outcome.addresses[0]!.hostname); // "127.0.0.1"
 * else console.warn(outcome.message);
 * ```
 */
export async function resolveServerName(
  name: string,
  options: ResolveOptions = {},
): Promise<ResolveOutcome> {
  const family = options.family ?? null;
  const literal = parseIpLiteral(name);
  if (literal !== null) {
    if (!wanted(family, literal.family)) {
      return {
        ok: false,
        message: `Cannot use ${name} as an IPv${family} server: it is an IPv${literal.family} ` +
          "address",
      };
    }
    return { ok: true, addresses: [literal], source: "literal" };
  }
  if (name === "" || name.includes("%") || /[\s/]/.test(name)) {
    return { ok: false, message: `Cannot resolve '${name}': not a host name or IP address` };
  }
  const hosts = lookupHostsText(await (options.readHosts ?? defaultReadHosts)(), name, family);
  if (hosts.length > 0) return { ok: true, addresses: hosts, source: "hosts" };

  const dns = options.dns ?? defaultDns;
  const controller = new AbortController();
  const timeoutMs = options.timeoutMs ?? 5000;
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const types = (["A", "AAAA"] as const).filter((type) => wanted(family, type === "A" ? 4 : 6));
  const problems: (DnsProblem | null)[] = types.map(() => null);
  try {
    const answers = await Promise.all(types.map(async (type, index) => {
      try {
        return await dns(name, type, controller.signal);
      } catch (error) {
        problems[index] = dnsProblem(error, { aborted: controller.signal.aborted, timeoutMs });
        return [];
      }
    }));
    const addresses: ResolvedAddress[] = [];
    for (const text of answers.flat()) {
      const address = parseIpLiteral(text);
      if (address === null || !wanted(family, address.family)) continue;
      if (!addresses.some((seen) => seen.hostname === address.hostname)) addresses.push(address);
    }
    if (addresses.length > 0) {
      return { ok: true, addresses: addresses.sort((a, b) => a.family - b.family), source: "dns" };
    }
    return { ok: false, message: dnsFailureMessage(name, types, problems) };
  } finally {
    clearTimeout(timer);
  }
}
