// Fakes for the time keeping's injected parts: timers run by hand, sockets that record sends and let a test deliver datagrams.
import type { DaemonTime, TimerHandle } from "../../src/daemon/daemon_time.ts";
import type {
  UpstreamDatagram,
  UpstreamSocket,
  UpstreamSocketOptions,
} from "../../src/io/udp_client.ts";

/** Timers that run only when the test says so; counts the ones pending. */
export function manualTime(): DaemonTime & { pending(): number; runDue(seconds: number): void } {
  let now = 1000;
  let nextHandle = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    monotonicSeconds: () => now,
    setTimer(callback, delayMs) {
      const handle = nextHandle++;
      timers.set(handle, { at: now + delayMs / 1000, callback });
      return handle as unknown as TimerHandle;
    },
    clearTimer(handle) {
      timers.delete(handle as unknown as number);
    },
    pending: () => timers.size,
    runDue(seconds) {
      now += seconds;
      for (const [handle, timer] of [...timers]) {
        if (timer.at <= now) {
          timers.delete(handle);
          timer.callback();
        }
      }
    },
  };
}

/** This host's clock now (the soft clock stamps requests with it), as a kernel reading. */
export function wallClock(): { unixSeconds: number; nanoseconds: number } {
  const ms = Date.now();
  return { unixSeconds: Math.floor(ms / 1000), nanoseconds: (ms % 1000) * 1e6 };
}

/**
 * A valid stratum 1 answer to `request`: its transmit timestamp as the origin, the server's
 * receive and transmit times this host's time now, to the millisecond (plus `serial`
 * microseconds, so that two answers are not duplicates of each other).
 */
export function answer(request: Uint8Array, serial: number): Uint8Array {
  const reply = new Uint8Array(48);
  const view = new DataView(reply.buffer);
  reply[0] = (4 << 3) | 4;
  reply[1] = 1;
  reply[2] = 6;
  reply[3] = 0xec;
  reply.set(new TextEncoder().encode("GPS"), 12);
  const now = wallClock();
  let ntpSeconds = now.unixSeconds + 2_208_988_800;
  let fraction = Math.floor((now.nanoseconds / 1e9) * 2 ** 32) + serial * 4295;
  ntpSeconds += Math.floor(fraction / 2 ** 32);
  fraction %= 2 ** 32;
  view.setUint32(16, ntpSeconds - 10); // reference time
  reply.set(request.subarray(40, 48), 24); // origin
  for (const offset of [32, 40]) { // receive and transmit
    view.setUint32(offset, ntpSeconds);
    view.setUint32(offset + 4, fraction);
  }
  return reply;
}

/** Sockets that never touch the network: they record sends, count closes, and let a test deliver datagrams. */
/** What {@link fakeSockets} gives a test. */
export interface FakeSockets {
  /** Pass as `openSocket`. */
  readonly open: (options: UpstreamSocketOptions) => Promise<UpstreamSocket>;
  /** Every datagram sent, in order. */
  readonly sent: { family: 4 | 6; to: string; data: Uint8Array }[];
  /** Hands a datagram to the socket of `family` as if it came from `from`. */
  deliver(family: 4 | 6, from: { hostname: string; port: number }, data: Uint8Array): void;
  counts(): { opened: number; closed: number };
}

export function fakeSockets(behaviour: {
  /** Called while a socket of `family` is being opened, before it is: may deliver datagrams. */
  readonly whileOpening?: (family: 4 | 6) => void | Promise<void>;
  /** Families whose opening fails. */
  readonly failing?: readonly (4 | 6)[];
  /**
   * Milliseconds `send` spends (busy) before it reads the kernel time and "sends": a pause of
   * the process between the transmit field being written and the datagram leaving.
   */
  readonly sendPauseMs?: number;
} = {}): FakeSockets {
  const handlers = new Map<4 | 6, (datagram: UpstreamDatagram) => void>();
  const sent: { family: 4 | 6; to: string; data: Uint8Array }[] = [];
  let opened = 0;
  let closed = 0;
  const open = async (options: UpstreamSocketOptions): Promise<UpstreamSocket> => {
    handlers.set(options.family, options.onDatagram);
    await behaviour.whileOpening?.(options.family);
    if (behaviour.failing?.includes(options.family)) {
      throw new Error(`Cannot open an IPv${options.family} UDP socket: test`);
    }
    opened++;
    let isClosed = false;
    const close = () => {
      if (!isClosed) closed++;
      isClosed = true;
      return Promise.resolve();
    };
    return {
      backend: "ffi",
      family: options.family,
      localPort: 40000 + options.family,
      send(_data, to) {
        const until = performance.now() + (behaviour.sendPauseMs ?? 0);
        while (performance.now() < until) { /* the pause */ }
        sent.push({ family: options.family, to: `${to.hostname}:${to.port}`, data: _data.slice() });
        return { ok: true, transmitKernel: wallClock() };
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  };
  return {
    open,
    sent,
    deliver(family: 4 | 6, from: { hostname: string; port: number }, data: Uint8Array) {
      handlers.get(family)?.({
        data,
        from: { ...from, family },
        receiveKernel: wallClock(),
        receiveSource: "kernel",
      });
    },
    counts: () => ({ opened, closed }),
  };
}
