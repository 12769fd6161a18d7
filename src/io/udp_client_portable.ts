// The portable upstream transport (node:dgram, no FFI): both stamps are read in user space, the receive stamp when the message event runs (later by the event loop's lag).
import dgram from "node:dgram";
import { chooseRealtimeReader } from "./clock_realtime.ts";
import { parseIp } from "./sockaddr.ts";
import { formatHostPort } from "../config/addresses.ts";
import type { UpstreamSocket, UpstreamSocketOptions } from "./upstream_socket_types.ts";

/** Opens an upstream socket on node:dgram; openUpstreamSocket() picks this when FFI is not used. */
export async function openDgramSocket(options: UpstreamSocketOptions): Promise<UpstreamSocket> {
  const family = options.family;
  const readClock = options.readClock ?? chooseRealtimeReader();
  const socket = dgram.createSocket({ type: family === 4 ? "udp4" : "udp6", ipv6Only: true });
  const hostname = options.bindAddress ?? (family === 4 ? "0.0.0.0" : "::");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", (error) =>
      socket.close(() =>
        reject(
          new Error(
            `Cannot set up upstream socket ${
              formatHostPort(hostname, options.port ?? 0)
            }/udp: ${error.message}`,
          ),
        )
      ));
    socket.bind(options.port ?? 0, hostname, () => resolve());
  });
  let closed = false;
  socket.on("message", (message: Uint8Array, remote: dgram.RemoteInfo) => {
    const receiveKernel = readClock();
    if (closed) return;
    options.onDatagram({
      data: new Uint8Array(message),
      from: { hostname: remote.address, port: remote.port, family },
      receiveKernel,
      receiveSource: "user",
    });
  });
  socket.on("error", (error) => {
    if (!closed) options.onError?.(`upstream socket error: ${error.message}`);
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      closed = true;
      socket.close(() => resolve());
    });
    return closing;
  };
  return {
    backend: "dgram",
    family,
    localPort: socket.address().port,
    send: (data, to) => {
      try {
        parseIp(to.hostname, family);
      } catch (error) {
        return {
          ok: false,
          message: (error as Error).message.replace("listen address", "address"),
        };
      }
      if (!Number.isInteger(to.port) || to.port < 1 || to.port > 65535) {
        return { ok: false, message: `Cannot send to port ${to.port}: not in 1..65535` };
      }
      const transmitKernel = readClock();
      socket.send(data, to.port, to.hostname, (error) => {
        if (error && !closed) {
          options.onError?.(
            `send to ${formatHostPort(to.hostname, to.port)} failed: ${error.message}`,
          );
        }
      });
      return { ok: true, transmitKernel };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
