// Doctor check: each listen address's UDP port can be bound, or is held by our own daemon; otherwise who holds it and how to free it.
import { fail, type Finding, ok } from "./finding.ts";
import type { PortOwner } from "./port_owner_parsing.ts";
import { stopServiceCommand } from "./rival_daemons_check.ts";

/** What binding the address (and closing it at once) gave. */
export type BindOutcome =
  | { readonly kind: "free" }
  | { readonly kind: "inUse" }
  /** EACCES: a port below 1024 without root or CAP_NET_BIND_SERVICE. */
  | { readonly kind: "denied"; readonly message: string }
  /** EADDRNOTAVAIL: not an address of this machine. */
  | { readonly kind: "notLocal"; readonly message: string }
  | { readonly kind: "error"; readonly message: string };

/** What the doctor learnt about one listen address. */
export interface ListenPortFacts {
  /** IP literal (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  readonly bind: BindOutcome;
  /** The `version` variable a mode 6 query to the port answered ("ntp 0.1.0"), or null. */
  readonly controlVersion: string | null;
  /** Who holds the port (from ss or /proc); [] when unknown. */
  readonly owners: readonly PortOwner[];
}

/** True for the version string our daemon reports over mode 6 ("ntp 0.1.0"). */
export function isOurVersion(version: string | null): boolean {
  return version !== null && /^ntp \d+\.\d+\.\d+/.test(version);
}

function where(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * The finding for one listen address: OK when the port is free or answered by our daemon
 * (mode 6 `version` "ntp X.Y.Z"); FAIL naming the holder (and how to stop it) when another
 * process has it, or when binding is not permitted or the address is not local.
 *
 * @example
 * ```ts
 * checkListenPort({ hostname: "0.0.0.0", port: 123, bind: { kind: "inUse" }, controlVersion: null,
 *   owners: [{ pid: 812, name: "chronyd", localAddress: "0.0.0.0:123" }] }).status; // "fail"
 * ```
 */
export function checkListenPort(facts: ListenPortFacts): Finding {
  const address = where(facts.hostname, facts.port);
  const check = `listen ${address}`;
  const bind = facts.bind;
  switch (bind.kind) {
    case "free":
      return ok(check, `UDP ${address} is free: ntp serve can bind it`);
    case "denied":
      return fail(
        check,
        `binding UDP ${address} is not permitted (${bind.message})`,
        "run ntp serve as root, or give it CAP_NET_BIND_SERVICE " +
          "(AmbientCapabilities=CAP_NET_BIND_SERVICE in its systemd unit)",
      );
    case "notLocal":
      return fail(
        check,
        `${facts.hostname} is not an address of this machine (${bind.message})`,
        "listen on an address that `ip -brief address` shows, or on 0.0.0.0:123 and [::]:123",
      );
    case "error":
      return fail(
        check,
        `cannot bind UDP ${address}: ${bind.message}`,
        "check the listen address in the config",
      );
    case "inUse":
      break;
  }
  const owners = facts.owners.map((o) => `${o.name} (pid ${o.pid})`);
  const ownerText = owners.length > 0 ? ` by ${[...new Set(owners)].join(", ")}` : "";
  if (isOurVersion(facts.controlVersion)) {
    return ok(
      check,
      `UDP ${address} is held${ownerText} answering as "${facts.controlVersion}": our daemon`,
    );
  }
  const names = [...new Set(facts.owners.map((o) => o.name))];
  const stops = names
    .map((name) => stopServiceCommand({ name }))
    .filter((c): c is string => c !== null);
  const who = facts.controlVersion !== null
    ? `${ownerText || " by another NTP server"} (mode 6 version "${facts.controlVersion}")`
    : ownerText === ""
    ? " by a process the doctor cannot name"
    : ownerText;
  const fix = stops.length > 0
    ? `stop it (${stops.join("; ")}) or set another listen address`
    : owners.length > 0
    ? `stop ${names.join(", ")} or set another listen address`
    : `find it with: ss -ulpn 'sport = :${facts.port}'; stop it or set another listen address`;
  return fail(check, `UDP ${address} is taken${who}`, fix);
}
