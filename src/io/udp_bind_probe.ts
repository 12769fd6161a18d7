// Tries to bind a UDP address (and closes it at once) to learn whether ntp serve could: free, in use, not permitted, not local.
import dgram from "node:dgram";
import type { BindOutcome } from "../core/doctor/listen_port_check.ts";

/**
 * Binds `hostname:port` without SO_REUSEADDR/SO_REUSEPORT (IPv6 as v6-only, like the daemon's
 * sockets) and closes the socket again. Any holder of the port, our own daemon included, makes
 * it "inUse".
 *
 * @example
 * ```ts
 * await probeUdpBind({ hostname: "0.0.0.0", port: 123, family: 4 }); // { kind: "inUse" }
 * ```
 */
export function probeUdpBind(
  address: { readonly hostname: string; readonly port: number; readonly family: 4 | 6 },
): Promise<BindOutcome> {
  const socket = dgram.createSocket({
    type: address.family === 4 ? "udp4" : "udp6",
    ipv6Only: address.family === 6,
  });
  return new Promise((resolve) => {
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const outcome: BindOutcome = error.code === "EADDRINUSE"
        ? { kind: "inUse" }
        : error.code === "EACCES" || error.code === "EPERM"
        ? { kind: "denied", message: error.message }
        : error.code === "EADDRNOTAVAIL"
        ? { kind: "notLocal", message: error.message }
        : { kind: "error", message: error.message };
      try {
        socket.close();
      } catch {
        // Never bound.
      }
      resolve(outcome);
    });
    socket.bind(address.port, address.hostname, () => {
      socket.close(() => resolve({ kind: "free" }));
    });
  });
}
