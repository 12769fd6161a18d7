// Doctor check: no other time daemon (chronyd, ntpd, ntpsec, openntpd, systemd-timesyncd) runs where it would fight us for the clock or the port.
import { fail, type Finding, ok } from "./finding.ts";

/** Process names (/proc/PID/comm, at most 15 characters) of the time daemons we know. */
export const rivalProcessNames: readonly string[] = [
  "chronyd",
  "ntpd",
  "ntpsec",
  "openntpd",
  "systemd-timesyn",
  "systemd-timesyncd",
];

/** A running process with one of {@link rivalProcessNames}. */
export interface RivalProcess {
  readonly pid: number;
  readonly name: string;
  /** Its command line (args[0] first); [] when unknown. */
  readonly args: readonly string[];
  /** Whether it shares the doctor's network namespace; null when unknown. */
  readonly sameNetworkNamespace: boolean | null;
  /** Whether it holds CAP_SYS_TIME (can set the clock); null when unknown. */
  readonly holdsSysTime: boolean | null;
}

/** Which implementation a rival is, for messages and the command that stops it. */
export function rivalKind(process: Pick<RivalProcess, "name" | "args">): string {
  if (process.name === "chronyd") return "chronyd";
  if (process.name.startsWith("systemd-timesyn")) return "systemd-timesyncd";
  if (process.name === "openntpd" || (process.args[0] ?? "").startsWith("ntpd: ")) {
    return "openntpd";
  }
  if (process.name === "ntpsec" || process.args.some((arg) => arg.includes("ntpsec"))) {
    return "ntpsec";
  }
  return "ntpd";
}

/**
 * The command that stops and disables a time daemon's service (Debian unit names, Red Hat's
 * where they differ), or null for a process we do not know. `args` tells ntpsec and OpenNTPD
 * apart from classic ntpd (all three run as "ntpd").
 *
 * @example
 * ```ts
 * stopServiceCommand({ name: "chronyd" }); // "systemctl disable --now chrony (chronyd on Red Hat)"
 * ```
 */
export function stopServiceCommand(
  process: { readonly name: string; readonly args?: readonly string[] },
): string | null {
  if (!rivalProcessNames.includes(process.name)) return null;
  switch (rivalKind({ name: process.name, args: process.args ?? [] })) {
    case "chronyd":
      return "systemctl disable --now chrony (chronyd on Red Hat)";
    case "systemd-timesyncd":
      return "timedatectl set-ntp false";
    case "openntpd":
      return "systemctl disable --now openntpd";
    case "ntpsec":
      return "systemctl disable --now ntpsec";
    default:
      return process.args === undefined
        ? "systemctl disable --now ntpsec (ntp for classic ntpd, openntpd for OpenNTPD)"
        : "systemctl disable --now ntp";
  }
}

/** chronyd -x never touches the clock; chronyd -q/-Q exit after one measurement. */
function cannotSetClock(process: RivalProcess): boolean {
  if (process.holdsSysTime === false) return true;
  return process.name === "chronyd" && process.args.includes("-x");
}

function describe(process: RivalProcess): string {
  return `${rivalKind(process)} (pid ${process.pid})`;
}

/**
 * The rival-daemon finding. A time daemon in our network namespace is a FAIL (it may hold UDP
 * 123 and answer our clients), and so is one elsewhere that can set the clock (two disciplines
 * fight). One in another namespace that cannot touch the clock (no CAP_SYS_TIME, or chronyd -x)
 * is harmless to us and only mentioned.
 *
 * @example
 * ```ts
 * checkRivalDaemons([{ pid: 812, name: "chronyd", args: ["/usr/sbin/chronyd"],
 *   sameNetworkNamespace: true, holdsSysTime: true }]).status; // "fail"
 * ```
 */
export function checkRivalDaemons(processes: readonly RivalProcess[]): Finding {
  const check = "rival daemons";
  const rivals = processes.filter((p) => p.sameNetworkNamespace !== false || !cannotSetClock(p));
  const ignored = processes.filter((p) => !rivals.includes(p));
  const ignoredKinds = [...new Set(ignored.map(rivalKind))];
  const ignoredText = ignored.length === 0 ? "" : `; ignored ${
    ignoredKinds.map((kind) => {
      const pids = ignored.filter((p) => rivalKind(p) === kind).map((p) => p.pid);
      return `${kind} (pid${pids.length === 1 ? "" : "s"} ${pids.join(", ")})`;
    }).join(", ")
  } in other network namespaces, unable to set the clock`;
  if (rivals.length === 0) {
    return ok(check, `no other time daemon runs here${ignoredText}`);
  }
  const stops = [
    ...new Set(rivals.map(stopServiceCommand).filter((c): c is string => c !== null)),
  ];
  const details = rivals.map((p) => {
    const traits = [
      p.sameNetworkNamespace === false ? "another network namespace" : null,
      cannotSetClock(p) ? "cannot set the clock" : "can set the clock",
    ].filter((t) => t !== null);
    return `${describe(p)}, ${traits.join(", ")}`;
  });
  return fail(
    check,
    `another time daemon runs: ${details.join("; ")}${ignoredText}`,
    `stop it so that only ntp serve keeps the time: ${
      [...stops, `or kill ${rivals.map((p) => p.pid).join(" ")} if it is not a service`].join("; ")
    }`,
  );
}
