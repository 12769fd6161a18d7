// Doctor checks of NTP pool readiness, from what `ntp status --json` reads: synchronised, |offset| well under 25 ms, stratum <= 4, polls at 1024 s, answered from the public address.
import { fail, type Finding, ok, warn } from "./finding.ts";
import type { UpstreamAnswer } from "./upstream_check.ts";

/** The parts of the daemon's status (as `ntp status --json` reports them) the checks read. */
export interface DaemonStatusFacts {
  /** "HOST:PORT" asked. */
  readonly server: string;
  /** ntpstat's verdict: leap indicator not 3. */
  readonly synchronised: boolean;
  readonly stratum: number | null;
  readonly refid: string | null;
  /** The system peer's association id (the `peer` variable); 0 = none (orphan or unsynchronised). */
  readonly systemPeerAssociationId: number | null;
  /** The system offset, seconds (positive: the local clock was behind). */
  readonly offsetSeconds: number | null;
  /** The system poll interval (2^tc), seconds. */
  readonly pollSeconds: number | null;
  /** The `version` system variable ("ntp 0.1.0"). */
  readonly version: string | null;
}

/** What the doctor learnt for the readiness checks. */
export interface ReadinessFacts {
  /** The daemon's status, or why it could not be read. */
  readonly daemon:
    | { readonly ok: true; readonly status: DaemonStatusFacts }
    | { readonly ok: false; readonly server: string; readonly message: string };
  /** The largest maxpoll configured (log2 s), to tell "not yet" from "never"; null if unknown. */
  readonly maxPollLog2: number | null;
  /** The answer to a query sent to our public address, or null when none was given. */
  readonly public: { readonly target: string; readonly answer: UpstreamAnswer } | null;
  /**
   * With [nts] on and --public given: NTS-KE with our public address on the KE port, certificate
   * checked against the system's trust store as a client would; absent or null otherwise.
   */
  readonly publicNts?: PublicNtsFacts | null;
}

/** How NTS-KE with our public address went. */
export interface PublicNtsFacts {
  /** "host:port" of the attempt. */
  readonly target: string;
  readonly kePort: number;
  readonly outcome:
    | { readonly kind: "ok"; readonly cookies: number }
    /** No TCP connection (refused, or no answer within the timeout: filtered). */
    | { readonly kind: "unreachable"; readonly reason: string }
    /** Connected, but TLS or the NTS-KE records failed (certificate, name, ALPN). */
    | { readonly kind: "refused"; readonly reason: string };
}

/** The "public nts" finding, when there is something to say. */
function publicNtsFinding(facts: ReadinessFacts): Finding[] {
  const nts = facts.publicNts;
  if (nts === undefined || nts === null) return [];
  const check = "public nts";
  switch (nts.outcome.kind) {
    case "ok":
      return [ok(
        check,
        `NTS-KE at ${nts.target} answers: ${nts.outcome.cookies} cookies, ` +
          "its certificate trusted by this system's store",
      )];
    case "unreachable":
      return [fail(
        check,
        `NTS-KE at ${nts.target}: ${nts.outcome.reason}`,
        `let inbound TCP ${nts.kePort} through every firewall on the way (router, cloud ` +
          "security group, this host) and check [nts] listen",
      )];
    case "refused":
      return [warn(
        check,
        `TCP ${nts.kePort} is reachable, but NTS-KE failed: ${nts.outcome.reason}`,
        "clients check the certificate against the name they use and their trust store: use a " +
          "certificate from a public CA for that name (e.g. certbot), renewed in place",
      )];
  }
}

/** The pool's limit is 25 ms; below this the offset is "well under" it. */
const goodOffsetSeconds = 0.010;
const poolOffsetLimitSeconds = 0.025;
const poolMaxStratum = 4;
const settledPollSeconds = 1024;

function ms(seconds: number): string {
  return `${seconds >= 0 ? "+" : ""}${(seconds * 1000).toFixed(3)} ms`;
}

function publicFinding(facts: ReadinessFacts): Finding {
  const check = "public";
  if (facts.public === null) {
    return warn(
      check,
      "skipped: no --public address given, so whether clients outside reach this server is unknown",
      "run ntp doctor --public ADDRESS (this server's public IP or name) from here, or " +
        "ntp query ADDRESS from another network",
    );
  }
  const { target, answer } = facts.public;
  switch (answer.kind) {
    case "ok":
      return ok(
        check,
        `${target} answers: stratum ${answer.stratum}, offset ${ms(answer.offsetSeconds)}, ` +
          `delay ${(answer.delaySeconds * 1000).toFixed(3)} ms`,
      );
    case "noAnswer":
      return fail(
        check,
        `${target}: no answer within ${answer.timeoutSeconds} s`,
        "let inbound UDP 123 through every firewall on the way (router, cloud security group, " +
          "this host) and make sure ntp serve listens on that address",
      );
    case "kissOfDeath":
      return fail(
        check,
        `${target} sent Kiss-o'-Death ${answer.code} to a single request`,
        "loosen the restrict rule matching this address (or [discard] limits); clients get the same",
      );
    case "unsynchronised":
      return fail(
        check,
        `${target} answers unsynchronised (leap ${answer.leap}, stratum ${answer.stratum})`,
        "see the sync finding: the server has no time to give yet",
      );
    case "invalid":
      return fail(
        check,
        `${target}: ${answer.reason}`,
        "check that the address reaches this server and not another one",
      );
    case "ntsKeyExchange":
      return fail(
        check,
        `${target}: NTS-KE failed: ${answer.reason}`,
        `let inbound TCP ${answer.kePort} through every firewall on the way and check the ` +
          "certificate ([nts] cert) names this address",
      );
  }
}

/**
 * The readiness findings: daemon (mode 6 answers), sync (synchronised to an upstream, not
 * orphan), offset (OK under 10 ms, WARN under 25 ms, else FAIL), stratum (<= 4), poll (WARN
 * until 1024 s: a fresh server needs hours to settle) and public (the query to our public
 * address; WARN when skipped), then "public nts" when NTS serves and --public was given (FAIL
 * when TCP to the KE port fails, WARN when TLS or NTS-KE does). When the daemon cannot be read
 * only its FAIL and the public ones are
 * given; when it is not synchronised, offset, stratum and poll are left out.
 *
 * @example
 * ```ts
 * checkReadiness({ daemon: { ok: false, server: "127.0.0.1:123", message: "no answer" },
 *   maxPollLog2: 10, public: null }).map((f) => f.check); // ["daemon", "public"]
 * ```
 */
export function checkReadiness(facts: ReadinessFacts): Finding[] {
  if (!facts.daemon.ok) {
    return [
      fail(
        "daemon",
        `cannot read the daemon at ${facts.daemon.server}: ${facts.daemon.message}`,
        "start it (systemctl start ntp, or ntp serve --config FILE); if it runs, allow mode 6 " +
          "from localhost (restrict 127.0.0.1 and ::1 without noquery) or pass --server HOST:PORT",
      ),
      publicFinding(facts),
      ...publicNtsFinding(facts),
    ];
  }
  const status = facts.daemon.status;
  const findings: Finding[] = [
    ok("daemon", `${status.version ?? "an NTP daemon"} answers mode 6 at ${status.server}`),
  ];
  const peer = status.systemPeerAssociationId ?? 0;
  if (!status.synchronised) {
    findings.push(fail(
      "sync",
      `not synchronised (leap 3, stratum ${status.stratum ?? "?"})`,
      "fix the upstream findings above, then wait: with iburst it synchronises within a minute " +
        "or two (watch: ntp status --watch)",
    ));
    findings.push(publicFinding(facts), ...publicNtsFinding(facts));
    return findings;
  }
  if (peer === 0) {
    findings.push(fail(
      "sync",
      `serving its own clock at stratum ${
        status.stratum ?? "?"
      } (orphan mode), not synchronised to an upstream`,
      "fix the upstream findings above; a pool server must follow real upstreams",
    ));
  } else {
    findings.push(ok(
      "sync",
      `synchronised to ${status.refid ?? "an upstream"} at stratum ${status.stratum ?? "?"}`,
    ));
  }
  const offset = status.offsetSeconds;
  if (offset === null) {
    findings.push(warn("offset", "the daemon does not report an offset", "see ntp status"));
  } else if (Math.abs(offset) < goodOffsetSeconds) {
    findings.push(ok("offset", `${ms(offset)}, well under the pool's 25 ms`));
  } else if (Math.abs(offset) < poolOffsetLimitSeconds) {
    findings.push(warn(
      "offset",
      `${ms(offset)}: under the pool's 25 ms, but not by much`,
      "give it time to settle; if it stays, use closer upstreams (smaller delay, less jitter)",
    ));
  } else {
    findings.push(fail(
      "offset",
      `${ms(offset)}: the pool's monitor scores servers off by 25 ms or more down`,
      "wait for the clock to converge; if it does not, use closer upstreams and check that no " +
        "other program sets the clock",
    ));
  }
  const stratum = status.stratum;
  if (stratum !== null && stratum <= poolMaxStratum) {
    findings.push(ok("stratum", `${stratum} (the pool accepts up to ${poolMaxStratum})`));
  } else {
    findings.push(fail(
      "stratum",
      `${stratum ?? "unknown"}: the pool accepts servers of stratum ${poolMaxStratum} or less`,
      "use upstreams of stratum 1 to 3",
    ));
  }
  const poll = status.pollSeconds;
  if (poll !== null && poll >= settledPollSeconds) {
    findings.push(ok("poll", `${poll} s: settled`));
  } else if (facts.maxPollLog2 !== null && 2 ** facts.maxPollLog2 < settledPollSeconds) {
    findings.push(warn(
      "poll",
      `${poll ?? "?"} s, and maxpoll ${facts.maxPollLog2} (${
        2 ** facts.maxPollLog2
      } s) keeps it below 1024 s`,
      "set maxpoll = 10 (the default) on the upstreams so the server can settle",
    ));
  } else {
    findings.push(warn(
      "poll",
      `${poll ?? "?"} s, not yet 1024 s: the server has not settled`,
      "wait: the poll interval grows to 1024 s over hours of stable synchronisation; join the " +
        "pool after that",
    ));
  }
  findings.push(publicFinding(facts), ...publicNtsFinding(facts));
  return findings;
}
