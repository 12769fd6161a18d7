// Sockets handed over by systemd (socket activation, sd_listen_fds(3)): LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES name descriptors 3.. this process inherited already bound; requests queue in them while no daemon runs.
import { Const, type Libc, openLibc } from "./libc.ts";
import { localNameOf } from "./udp_socket_setup.ts";
import { formatIp } from "./sockaddr.ts";

/** The first inherited descriptor (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** The environment variables of socket activation. */
export interface ListenFdsEnvironment {
  readonly LISTEN_PID?: string | undefined;
  readonly LISTEN_FDS?: string | undefined;
  readonly LISTEN_FDNAMES?: string | undefined;
}

/** What the environment says was passed. */
export type ListenFdsParse =
  | { readonly kind: "none" }
  | {
    readonly kind: "passed";
    readonly fds: readonly { readonly fd: number; readonly name: string }[];
  }
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * Reads the socket-activation variables as sd_listen_fds(3) does: nothing passed unless
 * LISTEN_FDS is set and LISTEN_PID is this process (`pid`); names from LISTEN_FDNAMES
 * (colon-separated, "unknown" where missing).
 *
 * @example
 * ```ts
 * parseListenFds({ LISTEN_PID: "42", LISTEN_FDS: "2", LISTEN_FDNAMES: "ntp:ntp6" }, 42);
 * // { kind: "passed", fds: [{ fd: 3, name: "ntp" }, { fd: 4, name: "ntp6" }] }
 * parseListenFds({ LISTEN_PID: "41", LISTEN_FDS: "1" }, 42); // { kind: "none" } (another process's)
 * ```
 */
export function parseListenFds(env: ListenFdsEnvironment, pid: number): ListenFdsParse {
  if (env.LISTEN_FDS === undefined) return { kind: "none" };
  if (env.LISTEN_PID === undefined || !/^\d+$/.test(env.LISTEN_PID)) {
    return { kind: "invalid", reason: `LISTEN_PID is ${JSON.stringify(env.LISTEN_PID ?? null)}` };
  }
  if (Number(env.LISTEN_PID) !== pid) return { kind: "none" };
  if (!/^\d+$/.test(env.LISTEN_FDS) || Number(env.LISTEN_FDS) > 1024) {
    return { kind: "invalid", reason: `LISTEN_FDS is ${JSON.stringify(env.LISTEN_FDS)}` };
  }
  const count = Number(env.LISTEN_FDS);
  const names = env.LISTEN_FDNAMES?.split(":") ?? [];
  return {
    kind: "passed",
    fds: Array.from({ length: count }, (_, i) => ({
      fd: LISTEN_FDS_START + i,
      name: names[i] || "unknown",
    })),
  };
}

/** An inherited UDP socket and the address it is bound to. */
export interface InheritedDatagramSocket {
  readonly fd: number;
  readonly name: string;
  readonly hostname: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** The sockets systemd passed, sorted by kind. */
export interface InheritedSockets {
  readonly datagram: readonly InheritedDatagramSocket[];
  /** Other kinds (stream sockets: an NTS-KE ListenStream), by name; not served, already closed. */
  readonly ignored: readonly string[];
  /** Why the variables were not used (set but malformed), or null. */
  readonly problem: string | null;
}

/**
 * The sockets systemd passed to this process (none without socket activation). Clears the
 * variables, so a program this process starts does not take them for its own. UDP sockets are
 * returned for the responders; any other kind is closed and named in `ignored`.
 *
 * @example
 * ```ts
 * import { openLibc } from "./libc.ts";
 * const inherited = inheritedSockets(openLibc(), Deno.env.toObject(), Deno.pid);
 * inherited.datagram.length; // 0 unless started by systemd with ntp.socket
 * ```
 */
export function inheritedSockets(
  libc: Libc,
  env: ListenFdsEnvironment,
  pid: number,
): InheritedSockets {
  const parsed = parseListenFds(env, pid);
  if (parsed.kind === "none") {
    // Meant for another process: a wrapper between systemd and ntp that did not exec it.
    const problem = env.LISTEN_FDS === undefined
      ? null
      : `LISTEN_FDS is set for process ${
        env.LISTEN_PID ?? "?"
      }, not this one (${pid}): a wrapper that does not exec ntp? The sockets are not used`;
    return { datagram: [], ignored: [], problem };
  }
  for (const name of ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]) {
    try {
      Deno.env.delete(name);
    } catch { /* no --allow-env: the variables stay; nothing here starts programs */ }
  }
  if (parsed.kind === "invalid") {
    return { datagram: [], ignored: [], problem: `${parsed.reason}: socket activation ignored` };
  }
  const datagram: InheritedDatagramSocket[] = [];
  const ignored: string[] = [];
  for (const { fd, name } of parsed.fds) {
    const type = new Int32Array(1);
    const length = new Uint32Array([4]);
    if (libc.symbols.getsockopt(fd, Const.SOL_SOCKET, Const.SO_TYPE, type, length) !== 0) {
      // Not a socket (or not open): nothing of ours to close.
      ignored.push(`descriptor ${fd} (${name}), which is not a socket`);
      continue;
    }
    const local = type[0] === Const.SOCK_DGRAM ? localNameOf(libc, fd) : null;
    if (local === null) {
      ignored.push(`descriptor ${fd} (${name})`);
      libc.symbols.close(fd);
      continue;
    }
    datagram.push({
      fd,
      name,
      hostname: formatIp(local.address),
      port: local.port,
      family: local.address.family,
    });
  }
  return { datagram, ignored, problem: null };
}

/**
 * The sockets systemd passed to this process ({@link inheritedSockets} over the environment);
 * none, without touching libc, when LISTEN_FDS is not set.
 *
 * @example
 * ```ts
 * const passed = takeSystemdSockets();
 * if (passed.datagram.length > 0) console.log("socket activation");
 * ```
 */
export function takeSystemdSockets(): InheritedSockets {
  let env: ListenFdsEnvironment;
  try {
    env = {
      LISTEN_PID: Deno.env.get("LISTEN_PID"),
      LISTEN_FDS: Deno.env.get("LISTEN_FDS"),
      LISTEN_FDNAMES: Deno.env.get("LISTEN_FDNAMES"),
    };
  } catch {
    return { datagram: [], ignored: [], problem: null }; // no --allow-env: nothing can be known
  }
  if (env.LISTEN_FDS === undefined) return { datagram: [], ignored: [], problem: null };
  return inheritedSockets(openLibc(), env, Deno.pid);
}
