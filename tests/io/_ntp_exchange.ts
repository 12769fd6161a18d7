// Test helper: sends NTP datagrams over real UDP (node:dgram) and times each exchange with the kernel clock.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { readRealtime } from "../../src/io/clock_realtime.ts";

/** A reply and when it was sent and seen, in Unix seconds (CLOCK_REALTIME, ns resolution). */
export interface TimedReply {
  readonly reply: Uint8Array;
  /** Source address and port of the reply. */
  readonly from: { readonly address: string; readonly port: number };
  readonly sentUnixSeconds: number;
  readonly receivedUnixSeconds: number;
}

/** Unix seconds now, as a float (about 0.24 us resolution at today's dates). */
export function nowUnixSeconds(): number {
  const now = readRealtime();
  return now.unixSeconds + now.nanoseconds * 1e-9;
}

/** The 64-bit NTP timestamp at `offset` as Unix seconds (era 0, fine until 2036). */
export function unixAt(packet: Uint8Array, offset: number): number {
  const view = new DataView(packet.buffer, packet.byteOffset);
  return view.getUint32(offset) - 2_208_988_800 + view.getUint32(offset + 4) / 2 ** 32;
}

/** A mode 3 request of `version` whose transmit timestamp is the given 8 bytes. */
export function clientRequest(transmit: readonly number[], version = 4): Uint8Array {
  const request = new Uint8Array(48);
  request[0] = (version << 3) | 3;
  request.set(transmit, 40);
  return request;
}

/** A client socket that exchanges datagrams one at a time. Dispose it to close the socket. */
export interface TestClient extends AsyncDisposable {
  /** Sends `datagram` and resolves with the first reply, or null after `waitMs` (default 2000). */
  exchange(
    datagram: Uint8Array,
    target: { host: string; port: number },
    waitMs?: number,
  ): Promise<TimedReply | null>;
  /** The socket's local port (once it is bound: after the first send, or at once with an address). */
  readonly port: number;
}

/** Opens a UDP client socket for `family`, bound to `bindAddress` when given. */
export async function openClient(family: 4 | 6, bindAddress?: string): Promise<TestClient> {
  const socket = dgram.createSocket(family === 4 ? "udp4" : "udp6");
  if (bindAddress !== undefined) {
    await new Promise<void>((resolve) => socket.bind(0, bindAddress, () => resolve()));
  }
  let waiting: ((reply: TimedReply | null) => void) | null = null;
  let sentUnixSeconds = 0;
  socket.on("message", (message: Uint8Array, remote: dgram.RemoteInfo) => {
    const receivedUnixSeconds = nowUnixSeconds();
    const resolve = waiting;
    waiting = null;
    resolve?.({
      reply: new Uint8Array(message),
      from: { address: remote.address, port: remote.port },
      sentUnixSeconds,
      receivedUnixSeconds,
    });
  });
  return {
    get port() {
      return socket.address().port;
    },
    exchange(datagram, target, waitMs = 2000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting = null;
          resolve(null);
        }, waitMs);
        waiting = (reply) => {
          clearTimeout(timer);
          resolve(reply);
        };
        sentUnixSeconds = nowUnixSeconds();
        socket.send(datagram, target.port, target.host, (error) => {
          if (error) {
            clearTimeout(timer);
            waiting = null;
            reject(error);
          }
        });
      });
    },
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/**
 * Waits (up to `timeoutMs`, default 1000) until every named counter from `read()` has the
 * expected value, then asserts it. Counters such as ioSent are bumped by another thread after
 * sendmmsg returns, so a client may see the reply first.
 */
export async function expectCounters(
  read: () => Record<string, number>,
  expected: Readonly<Record<string, number>>,
  timeoutMs = 1000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pick = () => {
    const all = read();
    return Object.fromEntries(Object.keys(expected).map((name) => [name, all[name]]));
  };
  let actual = pick();
  while (Date.now() < deadline && !sameCounts(actual, expected)) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    actual = pick();
  }
  assert.deepEqual(actual, expected);
}

function sameCounts(
  actual: Readonly<Record<string, number | undefined>>,
  expected: Readonly<Record<string, number>>,
): boolean {
  return Object.keys(expected).every((name) => actual[name] === expected[name]);
}
