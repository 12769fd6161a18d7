// Doctor check: each configured upstream resolves and answers a client request (stratum, offset, delay), without Kiss-o'-Death.
import { fail, type Finding, ok, warn } from "./finding.ts";

/** How one address of an upstream answered one mode 3 request. */
export type UpstreamAnswer =
  | {
    readonly kind: "ok";
    readonly stratum: number;
    readonly refid: string;
    /** Server minus local clock, seconds (positive: the local clock is behind). */
    readonly offsetSeconds: number;
    readonly delaySeconds: number;
    /** The answer was authenticated with NTS (an NTS upstream). */
    readonly nts?: boolean;
  }
  | { readonly kind: "noAnswer"; readonly timeoutSeconds: number }
  /** An NTS upstream whose key exchange (TCP, TLS, certificate, records) failed. */
  | { readonly kind: "ntsKeyExchange"; readonly reason: string; readonly kePort: number }
  | { readonly kind: "kissOfDeath"; readonly code: string; readonly meaning: string | null }
  | { readonly kind: "unsynchronised"; readonly leap: number; readonly stratum: number }
  | { readonly kind: "invalid"; readonly reason: string };

/** What the doctor learnt about one `[[server]]` or `[[pool]]` entry. */
export interface UpstreamFacts {
  /** As configured (name or IP literal). */
  readonly name: string;
  readonly port: number;
  readonly pool: boolean;
  readonly resolved:
    | { readonly ok: false; readonly message: string }
    | {
      readonly ok: true;
      /** The addresses asked (a server's first, up to a few of a pool's) and their answers. */
      readonly answers: readonly { readonly address: string; readonly answer: UpstreamAnswer }[];
    };
}

/** Above this stratum an upstream makes us serve a stratum the NTP pool does not accept (> 4). */
const maxUpstreamStratumForPool = 3;

function target(name: string, port: number): string {
  const host = name.includes(":") ? `[${name}]` : name;
  return port === 123 ? host : `${host}:${port}`;
}

function answerText(answer: UpstreamAnswer): string {
  switch (answer.kind) {
    case "ok":
      return `stratum ${answer.stratum}, refid ${answer.refid}, offset ${
        answer.offsetSeconds >= 0 ? "+" : ""
      }${answer.offsetSeconds.toFixed(6)} s, delay ${answer.delaySeconds.toFixed(6)} s${
        answer.nts === true ? ", authenticated with NTS" : ""
      }`;
    case "ntsKeyExchange":
      return `NTS-KE failed: ${answer.reason}`;
    case "noAnswer":
      return `no answer within ${answer.timeoutSeconds} s`;
    case "kissOfDeath":
      return `Kiss-o'-Death ${answer.code}${answer.meaning === null ? "" : ` (${answer.meaning})`}`;
    case "unsynchronised":
      return `answers but is not synchronised (leap ${answer.leap}, stratum ${answer.stratum})`;
    case "invalid":
      return `invalid answer: ${answer.reason}`;
  }
}

function fixFor(answer: UpstreamAnswer, where: string): string {
  switch (answer.kind) {
    case "ok":
      return `choose upstreams of stratum 1 to ${maxUpstreamStratumForPool}`;
    case "ntsKeyExchange":
      return `check that nts_ca holds the CA that signed its certificate, that the certificate ` +
        `names it as configured, and that TCP ${answer.kePort} to it is open (try: ntp query ` +
        `${where} --nts --nts-port ${answer.kePort})`;
    case "noAnswer":
      return `check that ${where} runs an NTP server and that UDP to it and back is allowed ` +
        `(try: ntp query ${where}); else replace it`;
    case "kissOfDeath":
      return answer.code === "RATE"
        ? "poll it less often (minpoll 6 or more, no burst) or ask its operator"
        : "it refuses this address: ask its operator, or use another server";
    case "unsynchronised":
      return "use another upstream: this one has no time to give";
    case "invalid":
      return `check that ${where} is an NTP server (try: ntp query ${where})`;
  }
}

function checkOne(facts: UpstreamFacts): Finding {
  const where = target(facts.name, facts.port);
  const check = `${facts.pool ? "pool" : "upstream"} ${where}`;
  if (!facts.resolved.ok) {
    return fail(
      check,
      facts.resolved.message,
      `check the name (getent hosts ${facts.name}) and the resolver (/etc/resolv.conf), or use an IP address`,
    );
  }
  const answers = facts.resolved.answers;
  const good = answers.filter((a) => a.answer.kind === "ok");
  const bad = answers.filter((a) => a.answer.kind !== "ok");
  const listed = (list: typeof answers) =>
    list.map((a) =>
      (answers.length > 1 || a.address !== facts.name ? `${a.address}: ` : "") +
      answerText(a.answer)
    ).join("; ");
  if (answers.length === 0) {
    return fail(check, "resolved to no usable address", "check the name and the address family");
  }
  if (good.length === 0) {
    return fail(check, listed(bad), fixFor(bad[0]!.answer, where));
  }
  if (bad.length > 0) {
    return warn(
      check,
      `${good.length} of ${answers.length} addresses answer; ${listed(bad)}`,
      fixFor(bad[0]!.answer, where),
    );
  }
  const highest = Math.max(
    ...good.map((a) => (a.answer.kind === "ok" ? a.answer.stratum : 0)),
  );
  if (highest > maxUpstreamStratumForPool) {
    return warn(
      check,
      `${listed(good)}: we would serve stratum ${highest + 1}, above the NTP pool's limit of 4`,
      fixFor(good[0]!.answer, where),
    );
  }
  return ok(check, listed(good));
}

/**
 * One finding per configured upstream: OK when it answers (a pool: every address asked);
 * FAIL when it does not resolve or no address answers usably (silence, Kiss-o'-Death,
 * unsynchronised, invalid); WARN when only some pool addresses answer or the stratum is too
 * high for the pool. No upstream at all is one WARN.
 *
 * @example
 * ```ts
 * checkUpstreams([{ name: "192.0.2.1", port: 123, pool: false,
 *   resolved: { ok: true, answers: [{ address: "192.0.2.1",
 *     answer: { kind: "noAnswer", timeoutSeconds: 2 } }] } }])[0]!.status; // "fail"
 * ```
 */
export function checkUpstreams(upstreams: readonly UpstreamFacts[]): Finding[] {
  if (upstreams.length === 0) {
    return [warn(
      "upstreams",
      "no [[server]] or [[pool]] configured: the daemon has no time source",
      'add at least four, e.g. [[pool]] address = "pool.ntp.org" iburst = true, or [[server]] entries',
    )];
  }
  return upstreams.map(checkOne);
}
