// Doctor check: the leap-seconds file (configured, or tzdata's) reads, its hash matches, and it has not expired (warn within 30 days, as ntpd does).
import type { LeapFileReading } from "../leap/leap_seconds_file.ts";
import { leapStatusAt, ntpdLeapTime } from "../leap/leap_status.ts";
import { fail, type Finding, ok, warn } from "./finding.ts";

/** What the doctor found about the leap-seconds file. */
export interface LeapFileFacts {
  readonly path: string;
  /** From the config's `leapfile` (else tzdata's default, found on the machine). */
  readonly configured: boolean;
  /** The reading, or why the file could not be read. */
  readonly reading: LeapFileReading | { readonly ok: false; readonly unreadable: string };
  readonly nowUnixSeconds: number;
}

/** Warn this long before the file expires. */
export const LEAP_FILE_WARN_SECONDS = 30 * 86_400;

const fix = "install a current file: apt upgrade tzdata (Debian, Ubuntu) or fetch " +
  "https://data.iana.org/time-zones/tzdb/leap-seconds.list";

function day(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/**
 * The "leapfile" finding: FAIL when a configured file cannot be read, is damaged (its line) or has
 * expired; WARN when it expires within 30 days, or when tzdata's file (not configured) is damaged
 * or expired; OK with TAI-UTC and the expiry otherwise. Null facts (no file configured and none
 * found): a WARN saying leap seconds come from the upstreams alone.
 *
 * @example
 * ```ts
 * checkLeapFile(null).status; // "warn"
 * ```
 */
export function checkLeapFile(facts: LeapFileFacts | null): Finding {
  const check = "leapfile";
  if (facts === null) {
    return warn(
      check,
      "none configured and /usr/share/zoneinfo/leap-seconds.list not found: leap seconds " +
        "are known only from the upstreams",
      `${fix}, and set leapfile to it`,
    );
  }
  const bad = facts.configured ? fail : warn;
  const reading = facts.reading;
  if (!reading.ok) {
    const detail = "unreadable" in reading
      ? `${facts.path}: cannot read it: ${reading.unreadable}`
      : reading.problems.map((p) => `${facts.path}:${p.line}: ${p.message}`).join("; ");
    return bad(check, detail, fix);
  }
  const status = leapStatusAt(reading.table, facts.nowUnixSeconds);
  const summary = `${facts.path}: TAI-UTC ${status.taiOffsetSeconds} s, last leap ${
    day(status.lastLeapUnixSeconds)
  }`;
  if (status.expired) {
    return bad(
      check,
      `${summary}; expired on ${day(status.expiresUnixSeconds)} (ntpd's expire=${
        ntpdLeapTime(status.expiresUnixSeconds)
      }): leap seconds announced after that are not known from it`,
      fix,
    );
  }
  if (status.expiresUnixSeconds - facts.nowUnixSeconds <= LEAP_FILE_WARN_SECONDS) {
    return warn(check, `${summary}; expires on ${day(status.expiresUnixSeconds)}`, fix);
  }
  return ok(check, `${summary}; valid until ${day(status.expiresUnixSeconds)}`);
}
