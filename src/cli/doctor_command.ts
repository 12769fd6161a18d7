// `ntp doctor`: checks the setup (config, port, capability, rival daemons, upstreams, firewall) and pool readiness, and prints the fix for each finding.
import { parseHostPort } from "../config/addresses.ts";
import { diagnose } from "../core/doctor/diagnose.ts";
import { doctorExitCode, findingsJson, formatFindings } from "../core/doctor/finding.ts";
import { type DoctorOptions, type DoctorTarget, gatherDoctorFacts } from "./doctor_facts.ts";
import { UsageError } from "./errors.ts";
import { flagHelp, parseFlags, secondsFlag, switchFlag, valueFlag } from "./flag_spec.ts";

const doctorFlags = {
  config: valueFlag(
    ["--config"],
    "FILE",
    "the config to check (default: /etc/ntp/ntp.toml, then /etc/ntp.conf)",
    (text) => text,
  ),
  server: valueFlag(
    ["--server"],
    "HOST[:PORT]",
    "the running daemon to read over mode 6 (default: the config's\nfirst listen address, loopback for a wildcard)",
    (text, flag) => target(flag, text),
  ),
  public: valueFlag(
    ["--public"],
    "ADDRESS[:PORT]",
    "this server's public address: query it as a client outside would\n(default: skipped, with a warning)",
    (text, flag) => target(flag, text),
  ),
  json: switchFlag(["--json"], "print one JSON object instead of text"),
  timeout: valueFlag(
    ["--timeout"],
    "SECONDS",
    "wait this long for each answer (default 2)",
    (text, flag) => secondsFlag(flag, text, 60),
  ),
};

/** Help text of `ntp doctor`. */
export const doctorUsage =
  `usage: ntp doctor [--config FILE] [--server HOST[:PORT]] [--public ADDRESS[:PORT]] [--json]
                  [--timeout SECONDS]

${flagHelp(doctorFlags)}

Checks that the config loads; that each listen port can be bound or is held by ntp serve
(and if not, by whom); that CAP_SYS_TIME is held; that no other time daemon runs; that every
upstream resolves and answers; that the firewall lets inbound UDP 123 in; and NTP pool
readiness: synchronised, |offset| well under 25 ms, stratum <= 4, polls at 1024 s, answered
from the public address. Prints one line per check, OK|WARN|FAIL, with the fix under each
WARN and FAIL. Only reads: it never changes the clock, the config or the firewall.
Exit status: 0 no check failed (warnings allowed); 1 a check failed; 2 bad flags.`;

function target(flag: string, text: string): DoctorTarget {
  const parsed = parseHostPort(text, { allowPortZero: false });
  if (!parsed.ok) throw new UsageError(`${flag}: ${parsed.message}`);
  return { host: parsed.value.host, port: parsed.value.port ?? 123 };
}

/**
 * Parses `ntp doctor` flags.
 *
 * @throws {UsageError} On an unknown flag, a missing value, a bad address or a bad number.
 */
export function parseDoctorArgs(
  args: readonly string[],
): DoctorOptions & { readonly json: boolean } {
  const { values } = parseFlags("doctor", doctorFlags, args);
  return {
    configPath: values.config ?? null,
    server: values.server ?? null,
    publicTarget: values.public ?? null,
    json: values.json,
    timeoutSeconds: values.timeout ?? 2,
  };
}

/**
 * Runs `ntp doctor ARGS...`, prints the report and returns the exit code: 0 when no check
 * failed, 1 when one did.
 *
 * @throws {UsageError} On bad flags (the CLI prints usage and exits 2).
 */
export async function runDoctorCommand(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(doctorUsage);
    return 0;
  }
  const options = parseDoctorArgs(args);
  const findings = diagnose(await gatherDoctorFacts(options));
  if (options.json) console.log(JSON.stringify(findingsJson(findings)));
  else console.log(formatFindings(findings).join("\n"));
  return doctorExitCode(findings);
}
