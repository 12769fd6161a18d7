// Picks free high UDP ports on loopback for servers the end-to-end tests start.
import dgram from "node:dgram";

/** Options for {@link freeUdpPort}. */
export interface FreeUdpPortOptions {
  /** Also require the same port to be free on this second address (e.g. "::1" for dual-stack). */
  readonly alsoFreeOn?: string;
}

/**
 * Returns a UDP port that is free on `host` (default 127.0.0.1) at the time of the call: the kernel
 * picks one from the ephemeral range (>= 32768 on Linux) by binding port 0, then the socket is closed.
 *
 * @example
 * ```ts
 * const port = await freeUdpPort("127.0.0.1", { alsoFreeOn: "::1" });
 * ```
 */
export async function freeUdpPort(
  host = "127.0.0.1",
  options: FreeUdpPortOptions = {},
): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bindAndRelease(host, 0);
    if (port < 1024) continue;
    if (options.alsoFreeOn === undefined) return port;
    try {
      await bindAndRelease(options.alsoFreeOn, port);
      return port;
    } catch {
      // Taken on the second address; try another one.
    }
  }
  throw new Error(`no free UDP port found on ${host}`);
}

/**
 * Binds a UDP socket to host:port (0 = any), reports the bound port and closes the socket.
 * Rejects when the port is taken.
 */
function bindAndRelease(host: string, port: number): Promise<number> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  return new Promise<number>((resolve, reject) => {
    socket.once("error", (error) => {
      socket.close(() => reject(error));
    });
    socket.bind(port, host, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port free on 127.0.0.1 at the time of the call (the kernel picks it; the listener is
 * closed again).
 */
export function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}
