// The upstream client transport: a UDP socket per family that sends requests and delivers replies with kernel receive timestamps.
//
// Fast path (FFI): the socket is created here through libc with SO_TIMESTAMPNS; a Worker blocks
// in recvmmsg and posts each reply with its SCM_TIMESTAMPNS stamp; sends are a sendmsg on this
// thread, preceded by a CLOCK_REALTIME read. Portable path (node:dgram, no FFI): both stamps are
// read in user space (receive: when the message event runs, so later by the event loop's lag).
import dgram from "node:dgram";
import type { ClockReading } from "./clock_driver.ts";
import { chooseRealtimeReader, readRealtime } from "./clock_realtime.ts";
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
import { encodeSockaddr, parseIp } from "./sockaddr.ts";
import { formatHostPort } from "../config/addresses.ts";
import type { ClientWorkerReport, ClientWorkerStart } from "./udp_client_worker.ts";

/** An upstream address and port (an IP literal: resolve names first with resolve_name.ts). */
export interface UpstreamEndpoint {
  readonly hostname: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** A datagram from upstream with its receive time on the kernel clock (uncorrected). */
export interface UpstreamDatagram {
  readonly data: Uint8Array;
  readonly from: UpstreamEndpoint;
  /** CLOCK_REALTIME at receipt; convert with the clock driver's fromKernel(). */
  readonly receiveKernel: ClockReading;
  /** "kernel": the SO_TIMESTAMPNS stamp; "user": read in user space after the datagram arrived. */
  readonly receiveSource: "kernel" | "user";
}

/** The outcome of a send: the kernel time read right before the datagram was handed over, or why it failed. */
export type SendOutcome =
  | { readonly ok: true; readonly transmitKernel: ClockReading }
  | { readonly ok: false; readonly message: string };

/** Which implementation an UpstreamSocket uses. */
export type UpstreamBackend = "ffi" | "dgram";

/** An open upstream socket. Close it (or `await using`) to stop its worker and free the port. */
export interface UpstreamSocket extends AsyncDisposable {
  readonly backend: UpstreamBackend;
  readonly family: 4 | 6;
  /** The local port the kernel gave the socket. */
  readonly localPort: number;
  /**
   * Sends `data` to `to` (of this socket's family). `transmitKernel` is CLOCK_REALTIME read
   * immediately before the send call; convert it with the clock driver's fromKernel().
   */
  send(data: Uint8Array, to: { readonly hostname: string; readonly port: number }): SendOutcome;
  /** Stops receiving and closes the socket; idempotent. */
  close(): Promise<void>;
}

/** Options for {@link openUpstreamSocket}. */
export interface UpstreamSocketOptions {
  readonly family: 4 | 6;
  /** Local address to bind (default the wildcard of the family). */
  readonly bindAddress?: string;
  /** Local port (default 0: an ephemeral port). */
  readonly port?: number;
  /** "auto" (default): FFI when --allow-ffi is granted on Linux x86_64/aarch64, else node:dgram. */
  readonly backend?: "auto" | UpstreamBackend;
  /** Called for every datagram received, on the main thread. */
  readonly onDatagram: (datagram: UpstreamDatagram) => void;
  /** Called when receiving fails for good (the socket stops receiving). Default: ignored. */
  readonly onError?: (message: string) => void;
}

const receiveBatch = 8;
const wakeIntervalMs = 250;
const stopGraceMs = 2000;
const maxSendBytes = 2048;

/**
 * Opens a UDP socket for talking to upstream servers and starts delivering replies to
 * `onDatagram`. Rejects with a message naming the address when the socket cannot be bound.
 *
 * @example
 * ```ts
 * await using socket = await openUpstreamSocket({
 *   family: 4,
 *   onDatagram: ({ data, from, receiveKernel }) => handle(data, from, clock.fromKernel(receiveKernel)),
 * });
 * const sent = socket.send(request, { hostname: "192.0.2.1", port: 123 });
 * if (sent.ok) origin = clock.fromKernel(sent.transmitKernel);
 * ```
 */
export function openUpstreamSocket(options: UpstreamSocketOptions): Promise<UpstreamSocket> {
  const backend = options.backend ?? "auto";
  const useFfi = backend === "ffi" ||
    (backend === "auto" && ffiPermitted() && Deno.build.os === "linux" &&
      (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64"));
  return useFfi ? openFfiSocket(options) : openDgramSocket(options);
}

function setIntOption(libc: Libc, fd: number, level: number, option: number, value: number) {
  return libc.symbols.setsockopt(fd, level, option, new Int32Array([value]), 4) === 0;
}

function bindSocket(libc: Libc, options: UpstreamSocketOptions): { fd: number; port: number } {
  const family = options.family;
  const hostname = options.bindAddress ?? (family === 4 ? "0.0.0.0" : "::");
  const address = parseIp(hostname, family);
  const where = formatHostPort(hostname, options.port ?? 0);
  const fd = libc.symbols.socket(
    family === 4 ? Const.AF_INET : Const.AF_INET6,
    Const.SOCK_DGRAM | Const.SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) {
    throw new Error(`Cannot open an IPv${family} UDP socket: ${libc.strerror(libc.errno())}`);
  }
  const fail = (what: string): never => {
    const errno = libc.errno();
    libc.symbols.close(fd);
    throw new Error(
      `Cannot set up upstream socket ${where}/udp: ${what} failed: ${libc.strerror(errno)}`,
    );
  };
  if (family === 6 && !setIntOption(libc, fd, Const.IPPROTO_IPV6, Const.IPV6_V6ONLY, 1)) {
    fail("IPV6_V6ONLY");
  }
  if (!setIntOption(libc, fd, Const.SOL_SOCKET, Const.SO_TIMESTAMPNS, 1)) fail("SO_TIMESTAMPNS");
  const timeout = new Uint32Array(4); // struct timeval { int64 tv_sec; int64 tv_usec; }
  timeout[2] = wakeIntervalMs * 1000;
  if (libc.symbols.setsockopt(fd, Const.SOL_SOCKET, Const.SO_RCVTIMEO, timeout, 16) !== 0) {
    fail("SO_RCVTIMEO");
  }
  const sockaddr = new Uint8Array(Layout.sockaddrIn6Bytes);
  const length = encodeSockaddr(sockaddr, 0, { ...address, port: options.port ?? 0 });
  if (libc.symbols.bind(fd, sockaddr, length) !== 0) fail("bind");
  const name = new Uint8Array(Layout.sockaddrIn6Bytes);
  const nameLength = new Uint32Array([name.length]);
  if (libc.symbols.getsockname(fd, name, nameLength) !== 0) fail("getsockname");
  return { fd, port: new DataView(name.buffer).getUint16(2, false) };
}

/** One reusable sendmsg buffer: msghdr, iovec, sockaddr, payload. */
function createSender(libc: Libc, fd: number, family: 4 | 6) {
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

async function openFfiSocket(options: UpstreamSocketOptions): Promise<UpstreamSocket> {
  const libc = openLibc();
  const { fd, port } = bindSocket(libc, options);
  const stopBuffer = new SharedArrayBuffer(4);
  const worker = new Worker(new URL("./udp_client_worker.ts", import.meta.url).href, {
    type: "module",
  });
  let settleRunning!: (error?: Error) => void;
  const running = new Promise<void>((resolve, reject) => {
    settleRunning = (error) => error === undefined ? resolve() : reject(error);
  });
  let settleStopped!: () => void;
  const stopped = new Promise<void>((resolve) => settleStopped = resolve);
  let closed = false;
  worker.onmessage = (event: MessageEvent<ClientWorkerReport>) => {
    const report = event.data;
    if (report.kind === "datagram") {
      if (!closed) {
        options.onDatagram({
          data: report.data,
          from: report.from,
          receiveKernel: report.receiveKernel,
          receiveSource: report.receiveSource,
        });
      }
    } else if (report.kind === "running") settleRunning();
    else if (report.kind === "stopped") settleStopped();
    else {
      const message = `upstream receive thread failed: ${report.message}`;
      settleRunning(new Error(message));
      settleStopped();
      if (!closed) options.onError?.(message);
    }
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    const message = `upstream receive thread failed: ${event.message}`;
    settleRunning(new Error(message));
    settleStopped();
  };
  worker.postMessage(
    { kind: "start", fd, stopBuffer, batchSize: receiveBatch } satisfies ClientWorkerStart,
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      Atomics.store(new Int32Array(stopBuffer), 0, 1);
      libc.symbols.shutdown(fd, Const.SHUT_RD); // wakes the blocked recvmmsg at once
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        stopped,
        new Promise<void>((resolve) => timer = setTimeout(resolve, stopGraceMs)),
      ]);
      clearTimeout(timer);
      worker.terminate();
      libc.symbols.close(fd);
    })();
    return closing;
  };
  try {
    await running;
  } catch (error) {
    await close();
    throw error;
  }
  return {
    backend: "ffi",
    family: options.family,
    localPort: port,
    send: createSender(libc, fd, options.family),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function openDgramSocket(options: UpstreamSocketOptions): Promise<UpstreamSocket> {
  const family = options.family;
  const readClock = chooseRealtimeReader();
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
