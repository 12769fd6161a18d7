// Opens a node:dgram socket connected to HOST:PORT, for the one-shot clients (query, status).
import dgram from "node:dgram";
import { resolveServerName } from "./resolve_name.ts";

/** A connected socket and the address the host name resolved to. */
export interface ConnectedUdp {
  readonly socket: dgram.Socket;
  readonly address: string;
}

/**
 * Resolves `host` (preferring IPv4 when a name has both, since a daemon listening on 0.0.0.0
 * only is common) and connects a UDP socket to it. A failed lookup is reported through
 * `onResolveError`, whose error is thrown.
 */
export async function connectUdp(
  target: { readonly host: string; readonly port: number },
  onResolveError: (message: string) => Error,
): Promise<ConnectedUdp> {
  const outcome = await resolveServerName(target.host);
  if (!outcome.ok) throw onResolveError(outcome.message);
  const first = outcome.addresses.find((a) => a.family === 4) ?? outcome.addresses[0]!;
  const resolved = { address: first.hostname, family: first.family };
  const socket = dgram.createSocket(resolved.family === 6 ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(target.port, resolved.address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return { socket, address: resolved.address };
}
