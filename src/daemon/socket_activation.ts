// Socket activation for `ntp serve`: the UDP sockets systemd passed (conf/ntp.socket) replace the configured listen addresses, so requests wait in the kernel across a restart instead of being refused.
import type { ListenEndpoint } from "../io/responders_types.ts";
import type { InheritedSockets } from "../io/listen_fds.ts";
import { formatHostPort } from "../config/addresses.ts";

/** Socket activation cannot be used as asked (the portable back end cannot adopt a socket). */
export class SocketActivationError extends Error {
  override name = "SocketActivationError";
}

/** How the daemon listens when systemd passed sockets. */
export interface ActivatedListen {
  /** One endpoint per inherited UDP socket, in the order systemd passed them. */
  readonly listen: readonly ListenEndpoint[];
  /** Lines to log: what is served, and what was passed but is not used. */
  readonly notes: readonly { readonly level: "info" | "warning"; readonly text: string }[];
}

/**
 * The listen endpoints of the sockets systemd passed, or null when it passed none (the daemon
 * binds its configured addresses then). `configured` is what the config or --listen named: it
 * is not bound; a difference is logged.
 *
 * @throws {SocketActivationError} With inherited sockets and the portable I/O back end.
 * @example
 * ```ts
 * const activated = activatedListen({
 *   datagram: [{ fd: 3, name: "ntp.socket", hostname: "0.0.0.0", port: 123, family: 4 }],
 *   ignored: [], problem: null,
 * }, { io: "fast", configured: [{ hostname: "0.0.0.0", port: 123, family: 4 }] });
 * activated?.listen[0]?.inheritedFd; // 3
 * ```
 */
export function activatedListen(
  inherited: InheritedSockets,
  context: { readonly io: "fast" | "portable"; readonly configured: readonly ListenEndpoint[] },
): ActivatedListen | null {
  const notes: { level: "info" | "warning"; text: string }[] = [];
  if (inherited.problem !== null) notes.push({ level: "warning", text: inherited.problem });
  for (const what of inherited.ignored) {
    notes.push({
      level: "warning",
      text: `socket activation: ${what} is not a UDP socket and is not used (NTS-KE binds its ` +
        "own [nts] listen addresses; only ListenDatagram sockets are served)",
    });
  }
  if (inherited.datagram.length === 0) {
    return notes.length === 0 ? null : { listen: [], notes };
  }
  if (context.io === "portable") {
    throw new SocketActivationError(
      "systemd passed sockets (socket activation), which only the fast I/O back end can serve: " +
        "drop `--io portable`, or start ntp without ntp.socket",
    );
  }
  const listen = inherited.datagram.map((socket) => ({
    hostname: socket.hostname,
    port: socket.port,
    family: socket.family,
    inheritedFd: socket.fd,
  }));
  const named = (e: { hostname: string; port: number }) => formatHostPort(e.hostname, e.port);
  notes.push({
    level: "info",
    text:
      `socket activation: serving the ${listen.length} UDP socket${
        listen.length === 1 ? "" : "s"
      } systemd passed (${listen.map(named).join(", ")}) on one responder thread; requests wait ` +
      "in them across a restart",
  });
  const passed = new Set(listen.map(named));
  const unused = context.configured.filter((e) => !passed.has(named(e)));
  if (unused.length > 0) {
    notes.push({
      level: "info",
      text: `socket activation: the configured listen address${unused.length === 1 ? "" : "es"} ${
        unused.map(named).join(", ")
      } ${
        unused.length === 1 ? "is" : "are"
      } not bound (the .socket unit decides where ntp listens)`,
    });
  }
  return { listen, notes };
}
