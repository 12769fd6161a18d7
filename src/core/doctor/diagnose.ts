// Runs every doctor check over the gathered facts and returns the findings in report order.
import { type CapabilityFacts, checkCapability } from "./capability_check.ts";
import { checkConfig, type ConfigFacts } from "./config_check.ts";
import type { Finding } from "./finding.ts";
import { checkFirewall, type FirewallListing } from "./firewall_check.ts";
import { checkLeapFile, type LeapFileFacts } from "./leap_file_check.ts";
import { checkLeapSmear, type LeapSmearFacts } from "./leap_smear_check.ts";
import { checkListenPort, type ListenPortFacts } from "./listen_port_check.ts";
import { checkNtsCrypto, type NtsCryptoFacts } from "./nts_crypto_check.ts";
import { checkReadiness, type ReadinessFacts } from "./readiness_checks.ts";
import { checkRivalDaemons, type RivalProcess } from "./rival_daemons_check.ts";
import { checkUnitSandbox, type UnitSandboxFacts } from "./unit_sandbox_check.ts";
import { checkUpstreams, type UpstreamFacts } from "./upstream_check.ts";

/** Everything the checks judge, as the CLI gathers it. */
export interface DoctorFacts {
  readonly config: ConfigFacts;
  /** One entry per listen address (port 0 addresses are left out). */
  readonly listen: readonly ListenPortFacts[];
  readonly capability: CapabilityFacts;
  /** Running processes with a time daemon's name. */
  readonly rivals: readonly RivalProcess[];
  readonly upstreams: readonly UpstreamFacts[];
  /** The NTP ports listened on, and the firewall tools' listings. */
  readonly firewall: {
    readonly ports: readonly number[];
    readonly listings: readonly FirewallListing[];
  };
  readonly readiness: ReadinessFacts;
  /** The leap-seconds file (configured, or tzdata's); null when there is none. */
  readonly leapFile: LeapFileFacts | null;
  /** Leap smearing and the smearing listen addresses; null when it is off. */
  readonly leapSmear: LeapSmearFacts | null;
  /** The installed ntp.service's sandbox and the paths the daemon writes; null: no unit. */
  readonly unitSandbox: UnitSandboxFacts | null;
  /** NTS's AES-SIV library; null when the config uses no NTS (as server or client). */
  readonly ntsCrypto: NtsCryptoFacts | null;
}

/**
 * The findings, in this order: config; each listen address; capability; rival daemons; each
 * upstream; the leap-seconds file; leap smearing, the unit's sandbox and NTS's crypto library
 * (when they apply); the firewall (per NTP port); then pool readiness (daemon, sync, offset,
 * stratum, poll, public).
 *
 * @example
 * ```ts
 * import { gatherDoctorFacts } from "../../cli/doctor_facts.ts";
 * import { formatFindings } from "./finding.ts";
 * const options = { configPath: null, server: null, publicTarget: null, timeoutSeconds: 2 };
 * const findings = diagnose(await gatherDoctorFacts(options));
 * console.log(formatFindings(findings).join("\n"));
 * ```
 */
export function diagnose(facts: DoctorFacts): Finding[] {
  return [
    checkConfig(facts.config),
    ...facts.listen.map(checkListenPort),
    checkCapability(facts.capability),
    checkRivalDaemons(facts.rivals),
    ...checkUpstreams(facts.upstreams),
    checkLeapFile(facts.leapFile),
    ...[
      checkLeapSmear(facts.leapSmear),
      checkUnitSandbox(facts.unitSandbox),
      checkNtsCrypto(facts.ntsCrypto),
    ].filter(
      (f): f is Finding => f !== null,
    ),
    ...facts.firewall.ports.map((port) =>
      checkFirewall({ port, listings: facts.firewall.listings })
    ),
    ...checkReadiness(facts.readiness),
  ];
}
