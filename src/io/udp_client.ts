// The upstream client transport: a UDP socket per family that sends requests and delivers replies with kernel receive timestamps.
//
// Fast path (FFI): the socket is created here through libc with SO_TIMESTAMPNS; a poll(2) off the
// main thread (nonblocking FFI call) wakes it to drain replies with recvmmsg, each with its
// SCM_TIMESTAMPNS stamp; sends are a sendmsg on this thread, preceded by a CLOCK_REALTIME read.
// Without FFI, udp_client_portable.ts (node:dgram, loaded only then) stamps in user space.
import { readRealtime } from "./clock_realtime.ts";
import { loadLater } from "./load_later.ts";
import type {
  SendOutcome,
  UpstreamSocket,
  UpstreamSocketOptions,
} from "./upstream_socket_types.ts";
import {
  addressOf,
  Const,
  Errno,
  ffiPermitted,
  Layout,
  type Libc,
  openLibc,
  writeU64,
} from "./libc.ts";
import { decodeSockaddr, encodeSockaddr, formatIp, parseIp } from "./sockaddr.ts";
import { openUdpSocket, SocketSetupError } from "./udp_socket_setup.ts";
import { formatHostPort } from "../config/addresses.ts";
import {
  armReceive,
  createMmsgBatch,
  createReceiveMeta,
  packetBytes,
  parseReceiveControl,
} from "./mmsg_batch.ts";

export type {
  SendOutcome,
  UpstreamBackend,
  UpstreamDatagram,
  UpstreamEndpoint,
  UpstreamSocket,
  UpstreamSocketOptions,
} from "./upstream_socket_types.ts";

const receiveBatch = 8;
/** The longest a pending poll waits before it looks at the closed flag again. */
const wakeIntervalMs = 250;
/** Consecutive failed polls after which receiving stops (reported through onError). */
const maxFailedPolls = 20;
const maxSendBytes = 2048;

/**
 * Opens a UDP socket for talking to upstream servers and starts delivering replies to
 * `onDatagram`. Rejects with a message naming the address when the socket cannot be bound.
 *
 * @example
 * ```ts
 * import type { ClockDriver, ClockReading } from "./clock_driver.ts";
 * import type { UpstreamEndpoint } from "./udp_client.ts";
 * declare const clock: ClockDriver;
 * declare const request: Uint8Array;
 * declare function handle(data: Uint8Array, from: UpstreamEndpoint, receivedAt: ClockReading): void;
 * let origin: ClockReading | null = null;
 * await using socket = await openUpstreamSocket({
 *   family: 4,
 *   onDatagram: ({ data, from, receiveKernel }) => handle(data, from, clock.fromKernel(receiveKernel)),
 * });
 * const sent = socket.send(request, { hostname: "192.0.2.1", port: 123 });
 * if (sent.ok) origin = clock.fromKernel(sent.transmitKernel);
 * ```
 */
export async function openUpstreamSocket(
  options: UpstreamSocketOptions,
): Promise<UpstreamSocket> {
  const backend = options.backend ?? "auto";
  const useFfi = backend === "ffi" ||
    (backend === "auto" && ffiPermitted() && Deno.build.os === "linux" &&
      (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64"));
  if (useFfi) return openFfiSocket(options);
  // node:dgram is loaded only for this path, never by a daemon that has FFI.
  return await (await loadLater<typeof import("./udp_client_portable.ts")>(
    new URL("./udp_client_portable.ts", import.meta.url),
  )).openDgramSocket(options);
}

function bindSocket(libc: Libc, options: UpstreamSocketOptions): { fd: number; port: number } {
  const family = options.family;
  const hostname = options.bindAddress ?? (family === 4 ? "0.0.0.0" : "::");
  try {
    const socket = openUdpSocket(libc, {
      address: parseIp(hostname, family),
      port: options.port ?? 0,
      // Where the kernel refuses them (qemu-user), datagrams carry user-space stamps instead
      // (receiveSource "user"), as on the portable path.
      receiveTimestamps: "preferred",
    });
    return { fd: socket.fd, port: socket.localPort };
  } catch (error) {
    if (!(error instanceof SocketSetupError)) throw error;
    if (error.step === "socket") {
      throw new Error(`Cannot open an IPv${family} UDP socket: ${error.detail}`);
    }
    const where = formatHostPort(hostname, options.port ?? 0);
    throw new Error(`Cannot set up upstream socket ${where}/udp: ${error.message}`);
  }
}

/** One reusable sendmsg buffer: msghdr, iovec, sockaddr, payload. */
function createSender(libc: Libc, fd: number, family: 4 | 6, isClosed: () => boolean) {
  const iovec = Layout.msghdrBytes;
  const name = iovec + Layout.iovecBytes;
  const payload = name + 32;
  const memory = new Uint8Array(payload + maxSendBytes);
  const view = new DataView(memory.buffer);
  const base = addressOf(memory);
  writeU64(view, iovec, base + payload);
  writeU64(view, Layout.msgName, base + name);
  writeU64(view, Layout.msgIov, base + iovec);
  writeU64(view, Layout.msgIovLen, 1);
  return (data: Uint8Array, to: { hostname: string; port: number }): SendOutcome => {
    // After close() the descriptor number may already belong to another socket.
    if (isClosed()) return { ok: false, message: "Cannot send: the upstream socket is closed" };
    if (data.length > maxSendBytes) {
      return { ok: false, message: `Cannot send ${data.length} bytes: at most ${maxSendBytes}` };
    }
    let address;
    try {
      address = parseIp(to.hostname, family);
    } catch (error) {
      return { ok: false, message: (error as Error).message.replace("listen address", "address") };
    }
    if (!Number.isInteger(to.port) || to.port < 1 || to.port > 65535) {
      return { ok: false, message: `Cannot send to port ${to.port}: not in 1..65535` };
    }
    memory.set(data, payload);
    writeU64(view, iovec + 8, data.length);
    view.setUint32(
      Layout.msgNameLen,
      encodeSockaddr(memory, name, { ...address, port: to.port }),
      true,
    );
    for (;;) {
      const transmitKernel = readRealtime();
      const result = Number(libc.symbols.sendmsg(fd, memory, 0));
      if (result >= 0) return { ok: true, transmitKernel };
      const errno = libc.errno();
      if (errno === Errno.EINTR) continue;
      return {
        ok: false,
        message: `sendmsg to ${formatHostPort(to.hostname, to.port)} failed: ${
          libc.strerror(errno)
        }`,
      };
    }
  };
}

/**
 * The receive side of an FFI socket: a poll(2) that runs off the main thread (Deno's
 * nonblocking FFI call, no worker isolate) wakes this thread, which drains the socket with
 * recvmmsg(MSG_DONTWAIT) and reads each datagram's SCM_TIMESTAMPNS stamp.
 */
function startReceiving(
  libc: Libc,
  fd: number,
  options: UpstreamSocketOptions,
  isClosed: () => boolean,
): Promise<void> {
  const batch = createMmsgBatch(receiveBatch);
  const meta = createReceiveMeta();
  const pollfd = new Uint8Array(Layout.pollfdBytes);
  const pollView = new DataView(pollfd.buffer);
  pollView.setInt32(0, fd, true);
  pollView.setInt16(4, Const.POLLIN, true);
  /** Delivers what is queued; false when receiving failed for good. */
  const drain = (): boolean => {
    for (;;) {
      const count = libc.symbols.recvmmsg(
        fd,
        batch.receiveVector,
        receiveBatch,
        Const.MSG_DONTWAIT,
        null,
      );
      if (count < 0) {
        const errno = libc.errno();
        if (errno === Errno.EAGAIN) return true;
        if (errno === Errno.EINTR) continue;
        if (!isClosed()) {
          options.onError?.(`upstream receive failed: ${libc.strerror(errno)} (errno ${errno})`);
        }
        return false;
      }
      const userTime = readRealtime();
      for (let slot = 0; slot < count && !isClosed(); slot++) {
        const header = batch.receiveHeader[slot]!;
        const length = batch.view.getUint32(header + Layout.msgLen, true);
        const flags = batch.view.getUint32(header + Layout.msgFlags, true);
        const nameLength = batch.view.getUint32(header + Layout.msgNameLen, true);
        if ((flags & Const.MSG_TRUNC) !== 0 || length > packetBytes || nameLength === 0) continue;
        parseReceiveControl(batch, slot, meta);
        const from = decodeSockaddr(batch.memory, batch.receiveName[slot]!);
        const start = batch.receiveData[slot]!;
        const kernel = meta.kernelSeconds >= 0;
        try {
          options.onDatagram({
            data: batch.memory.slice(start, start + length),
            from: { hostname: formatIp(from), port: from.port, family: from.family },
            receiveKernel: kernel
              ? { unixSeconds: meta.kernelSeconds, nanoseconds: meta.kernelNanoseconds }
              : userTime,
            receiveSource: kernel ? "kernel" : "user",
          });
        } catch (error) {
          // The handler's failure is reported; the datagrams after it are still delivered.
          options.onError?.(
            `a datagram handler failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      armReceive(batch, count);
      if (count < receiveBatch) return true;
    }
  };
  return (async () => {
    let failedPolls = 0;
    while (!isClosed()) {
      const ready = await libc.symbols.pollOffThread(pollfd, 1n, wakeIntervalMs);
      if (isClosed()) return;
      if (ready < 0) {
        // poll(2) failed on the runtime's thread (its errno is not readable here): EINTR and
        // ENOMEM pass; anything lasting is given up on, after a pause each time, not spun on.
        if (++failedPolls >= maxFailedPolls) {
          options.onError?.(`upstream receive stopped: poll failed ${failedPolls} times in a row`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, wakeIntervalMs));
        continue;
      }
      failedPolls = 0;
      if (ready > 0 && !drain()) return;
    }
  })();
}

function openFfiSocket(options: UpstreamSocketOptions): UpstreamSocket {
  const libc = openLibc();
  const { fd, port } = bindSocket(libc, options);
  let closed = false;
  const receiving = startReceiving(libc, fd, options, () => closed);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      libc.symbols.shutdown(fd, Const.SHUT_RD); // wakes the pending poll at once
      await receiving.catch(() => {});
      libc.symbols.close(fd);
    })();
    return closing;
  };
  return {
    backend: "ffi",
    family: options.family,
    localPort: port,
    send: createSender(libc, fd, options.family, () => closed),
    close,
    [Symbol.asyncDispose]: close,
  };
}
