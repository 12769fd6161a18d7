// Doctor check: CAP_SYS_TIME is held when the configured clock needs it (kernel), and what "auto" will pick without it.
import { fail, type Finding, ok, warn } from "./finding.ts";

/** What the doctor learnt about the clock capability. */
export interface CapabilityFacts {
  /** Whether this process holds CAP_SYS_TIME in its effective set (capget). */
  readonly holdsSysTime: boolean;
  /** `[serve] clock` of the config ("auto" when there is no config). */
  readonly clock: "auto" | "kernel" | "soft";
}

const grant = "run ntp serve as root, or give its systemd unit " +
  "AmbientCapabilities=CAP_SYS_TIME and CapabilityBoundingSet=CAP_SYS_TIME (run the doctor the same way)";

/**
 * The capability finding: clock "kernel" without CAP_SYS_TIME is a FAIL (ntp serve refuses to
 * start); "auto" without it is a WARN (it falls back to the soft clock and leaves the system
 * clock undisciplined); "soft" never needs it.
 *
 * @example
 * ```ts
 * checkCapability({ holdsSysTime: false, clock: "kernel" }).status; // "fail"
 * ```
 */
export function checkCapability(facts: CapabilityFacts): Finding {
  const check = "capability";
  if (facts.clock === "soft") {
    return ok(
      check,
      `[serve] clock = "soft": CAP_SYS_TIME not needed (${
        facts.holdsSysTime ? "held" : "not held"
      }); the system clock is left alone`,
    );
  }
  if (facts.holdsSysTime) {
    return ok(check, "CAP_SYS_TIME is held: ntp serve can discipline the system clock");
  }
  if (facts.clock === "kernel") {
    return fail(
      check,
      `CAP_SYS_TIME is not held, and [serve] clock = "kernel" needs it (ntp serve would refuse to start)`,
      grant,
    );
  }
  return warn(
    check,
    "CAP_SYS_TIME is not held: ntp serve (clock auto) falls back to the soft clock and serves " +
      "corrected time while the system clock drifts undisciplined",
    `${grant}; or set [serve] clock = "soft" if that is what you want`,
  );
}
