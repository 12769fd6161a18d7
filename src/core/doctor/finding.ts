// What `ntp doctor` reports: one finding per check (OK, WARN or FAIL, a detail and the fix), its text lines, JSON and exit code.

/** How a check came out. WARN: could not tell, or not ready yet; FAIL: something to fix. */
export type FindingStatus = "ok" | "warn" | "fail";

/** The outcome of one check. */
export interface Finding {
  readonly status: FindingStatus;
  /** Short name of what was checked ("config", "listen 0.0.0.0:123", "upstream a.example"). */
  readonly check: string;
  /** What was found, one line. */
  readonly detail: string;
  /** What to do about it (a command where there is one); null for OK. */
  readonly fix: string | null;
}

/** A passing finding. */
export function ok(check: string, detail: string): Finding {
  return { status: "ok", check, detail, fix: null };
}

/** A warning: not proven broken, with what to do or how to check by hand. */
export function warn(check: string, detail: string, fix: string): Finding {
  return { status: "warn", check, detail, fix };
}

/** A failure, with the fix. */
export function fail(check: string, detail: string, fix: string): Finding {
  return { status: "fail", check, detail, fix };
}

/**
 * The doctor's exit code: 1 when any check failed, else 0 (warnings do not fail: they mark what
 * could not be proven, such as an unknown firewall or a server still settling).
 */
export function doctorExitCode(findings: readonly Finding[]): 0 | 1 {
  return findings.some((finding) => finding.status === "fail") ? 1 : 0;
}

const labels: Readonly<Record<FindingStatus, string>> = { ok: "OK", warn: "WARN", fail: "FAIL" };

/**
 * The text report: one line per check, `OK|WARN|FAIL  check  detail` with the status padded to
 * four characters and the check names to a common width, and under each WARN and FAIL an
 * indented `fix: ...` line; then a summary line.
 *
 * @example
 * ```ts
 * formatFindings([fail("capability", "CAP_SYS_TIME is not held", "run it as root")]);
 * // ["FAIL  capability  CAP_SYS_TIME is not held", "      fix: run it as root", "", "1 failed, 0 warnings, 0 ok"]
 * ```
 */
export function formatFindings(findings: readonly Finding[]): string[] {
  const width = Math.max(0, ...findings.map((finding) => finding.check.length));
  const lines: string[] = [];
  for (const finding of findings) {
    lines.push(
      `${labels[finding.status].padEnd(4)}  ${finding.check.padEnd(width)}  ${finding.detail}`
        .trimEnd(),
    );
    if (finding.fix !== null) lines.push(`      fix: ${finding.fix}`);
  }
  const count = (status: FindingStatus) => findings.filter((f) => f.status === status).length;
  lines.push(
    "",
    `${count("fail")} failed, ${count("warn")} warning${count("warn") === 1 ? "" : "s"}, ${
      count("ok")
    } ok`,
  );
  return lines;
}

/** The JSON report: `ok` (no failure), `exitCode` and every finding. */
export function findingsJson(findings: readonly Finding[]): Record<string, unknown> {
  const exitCode = doctorExitCode(findings);
  return { ok: exitCode === 0, exitCode, checks: findings.map((finding) => ({ ...finding })) };
}
