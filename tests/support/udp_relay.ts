// A delaying UDP relay (this kernel has no netem): forwards listen <-> target with per-direction delay, jitter and loss.
//
// Each client address gets its own upstream socket (so replies find their way back), as the
// team's Python relay in the interop notes does. Held datagrams wait in a queue ordered by due time; one
// timer wakes 1.5 ms before the earliest and a short busy wait releases it on time, so the added delay is accurate to ~0.1 ms after the message event (which
// itself runs a little after the kernel received the datagram); jitter may reorder datagrams,
// as netem does. Bounded: at most `maxQueued` datagrams in flight (beyond, datagrams are dropped
// and counted) and `maxClients` upstream sockets (the least recently used client is evicted).
// Self-stopping after `idleExitMs` without traffic or `lifetimeMs` in all. Also a CLI: `deno run -A tests/support/udp_relay.ts --help` (needs
// --allow-net --allow-ffi --allow-read).
import { readRealtime } from "../../src/io/clock_realtime.ts";
import {
  openUpstreamSocket,
  type UpstreamDatagram,
  type UpstreamEndpoint,
  type UpstreamSocket,
} from "../../src/io/udp_client.ts";

/** What happens to datagrams going one way. */
export interface RelayDirection {
  /** Fixed added delay, milliseconds (default 0). */
  readonly delayMs?: number;
  /** Extra random delay, uniform in [0, jitterMs) milliseconds (default 0). */
  readonly jitterMs?: number;
  /** Probability of dropping a datagram, 0..1 (default 0). */
  readonly lossRate?: number;
  /**
   * Changes each datagram going this way before it is held (a man in the middle); called with a
   * copy, returns what is forwarded. Default: forwarded unchanged.
   */
  readonly rewrite?: (data: Uint8Array) => Uint8Array;
}

/** Options for {@link startUdpRelay}. */
export interface UdpRelayOptions {
  /** Where clients send; default 127.0.0.1 on a free port. */
  readonly listen?: { readonly hostname?: string; readonly port?: number };
  /** The server datagrams are forwarded to. */
  readonly target: { readonly hostname: string; readonly port: number };
  /** Client -> target. */
  readonly toTarget?: RelayDirection;
  /** Target -> client. */
  readonly toClient?: RelayDirection;
  /** Seed of the jitter and loss draws (default 1): the same datagrams meet the same fate. */
  readonly seed?: number;
  /** Datagrams held at once, both directions together (default 1024). */
  readonly maxQueued?: number;
  /**
   * Client addresses with an upstream socket (one pending off-thread poll each) at once, default 16; the
   * least recently used is closed for a new one (chronyd sends each request from a new port).
   */
  readonly maxClients?: number;
  /** Stop after this long without a datagram (default 60 000 ms). */
  readonly idleExitMs?: number;
  /** Stop after this long in any case (default 600 000 ms). */
  readonly lifetimeMs?: number;
}

/** Counters of a relay. */
export interface RelayStats {
  forwardedToTarget: number;
  forwardedToClient: number;
  lostToTarget: number;
  lostToClient: number;
  /** Dropped because `maxQueued` datagrams were already held. */
  droppedOverflow: number;
  /** Distinct client addresses seen. */
  clients: number;
  /** Clients whose upstream socket was closed to stay within `maxClients` (least recently used). */
  evictedClients: number;
}

/** A running relay. Dispose it (or call close) to stop it; it also stops by itself. */
export interface UdpRelay extends AsyncDisposable {
  readonly hostname: string;
  readonly port: number;
  /** A copy of the counters. */
  stats(): RelayStats;
  /** Resolves when the relay has stopped (closed, idle or past its lifetime), with the reason. */
  readonly stopped: Promise<string>;
  close(): Promise<void>;
}

/** A small seeded generator (mulberry32): uniform numbers in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The draws of one datagram: a generator seeded by the relay's seed, the direction and an FNV-1a
 * hash of the bytes, so a datagram's fate does not depend on what came before it (a datagram
 * the kernel dropped, or a different interleaving, changes nothing for the others).
 */
function drawsFor(seed: number, data: Uint8Array): () => number {
  let hash = 0x811c9dc5 ^ seed;
  for (const byte of data) hash = Math.imul(hash ^ byte, 0x01000193);
  return seededRandom(hash);
}

/** How much earlier than due a held datagram's timer is set, and the longest busy wait after it. */
const timerLeadMs = 1.5;

function familyOf(hostname: string): 4 | 6 {
  return hostname.includes(":") ? 6 : 4;
}

/**
 * Starts a relay: datagrams to the listen address go to the target after the `toTarget`
 * treatment; the target's replies go back to the client after the `toClient` treatment.
 *
 * @example
 * ```ts
 * await using relay = await startUdpRelay({
 *   target: { hostname: "127.0.0.1", port: chronydPort },
 *   toTarget: { delayMs: 5, jitterMs: 1 }, toClient: { delayMs: 1 },
 * });
 * // clients now use 127.0.0.1:relay.port: +5..6 ms out, +1 ms back (asymmetric).
 * ```
 */
export async function startUdpRelay(options: UdpRelayOptions): Promise<UdpRelay> {
  const listenHost = options.listen?.hostname ?? "127.0.0.1";
  // Each direction has its own seed, so a reply's fate differs from its request's.
  const seedToTarget = options.seed ?? 1;
  const seedToClient = (options.seed ?? 1) ^ 0x5bd1e995;
  const maxQueued = options.maxQueued ?? 1024;
  const maxClients = options.maxClients ?? 16;
  const idleExitMs = options.idleExitMs ?? 60_000;
  const lifetimeMs = options.lifetimeMs ?? 600_000;
  const stats: RelayStats = {
    forwardedToTarget: 0,
    forwardedToClient: 0,
    lostToTarget: 0,
    lostToClient: 0,
    droppedOverflow: 0,
    clients: 0,
    evictedClients: 0,
  };
  let stopping: Promise<void> | undefined;
  let resolveStopped!: (reason: string) => void;
  const stopped = new Promise<string>((resolve) => resolveStopped = resolve);
  const timers: {
    idle?: ReturnType<typeof setTimeout>;
    lifetime?: ReturnType<typeof setTimeout>;
  } = {};
  const touch = (): void => {
    if (stopping !== undefined) return;
    clearTimeout(timers.idle);
    timers.idle = setTimeout(() => stop(`idle for ${idleExitMs} ms`), idleExitMs);
  };
  const upstreams = new Map<string, { send: (data: Uint8Array) => void; close(): Promise<void> }>();
  /** Held datagrams, earliest due first, and the one timer set for the earliest. */
  const pending: { dueMs: number; deliver: () => void }[] = [];
  let wakeTimer: ReturnType<typeof setTimeout> | undefined;
  let wakeAtMs = Number.POSITIVE_INFINITY;

  /** Delivers everything due within the timer lead (busy-waiting to each due time), then re-arms. */
  const release = (): void => {
    wakeTimer = undefined;
    wakeAtMs = Number.POSITIVE_INFINITY;
    while (pending.length > 0 && stopping === undefined) {
      const first = pending[0]!;
      if (first.dueMs > performance.now() + timerLeadMs) break;
      while (performance.now() < first.dueMs) { /* spin: timers are only ms-accurate */ }
      pending.shift();
      first.deliver();
    }
    arm();
  };

  const arm = (): void => {
    const first = pending[0];
    if (first === undefined || stopping !== undefined) return;
    const wakeMs = first.dueMs - timerLeadMs;
    if (wakeTimer !== undefined && wakeAtMs <= wakeMs) return;
    clearTimeout(wakeTimer);
    wakeAtMs = wakeMs;
    wakeTimer = setTimeout(release, Math.max(0, wakeMs - performance.now()));
  };

  /** Holds a datagram per `direction`, then calls `deliver` (unless it is lost or over the bound). */
  const schedule = (
    datagram: UpstreamDatagram,
    how: {
      direction: RelayDirection | undefined;
      lost: "lostToTarget" | "lostToClient";
      seed: number;
    },
    deliver: () => void,
  ): void => {
    touch();
    // The kernel received it this long ago (the event loop may have been busy).
    const now = readRealtime();
    const lagMs = Math.max(
      0,
      (now.unixSeconds - datagram.receiveKernel.unixSeconds) * 1000 +
        (now.nanoseconds - datagram.receiveKernel.nanoseconds) / 1e6,
    );
    const arrivedMs = performance.now() - lagMs;
    const random = drawsFor(how.seed, datagram.data);
    const lost = random() < (how.direction?.lossRate ?? 0);
    const delayMs = (how.direction?.delayMs ?? 0) + random() * (how.direction?.jitterMs ?? 0);
    if (lost) {
      stats[how.lost]++;
      return;
    }
    if (pending.length >= maxQueued) {
      stats.droppedOverflow++;
      return;
    }
    const dueMs = arrivedMs + delayMs;
    let index = pending.length;
    while (index > 0 && pending[index - 1]!.dueMs > dueMs) index--;
    pending.splice(index, 0, { dueMs, deliver });
    arm();
  };

  const listener = await openUpstreamSocket({
    family: familyOf(listenHost),
    bindAddress: listenHost,
    port: options.listen?.port ?? 0,
    onDatagram: (request) => {
      if (stopping !== undefined) return;
      const upstream = upstreamFor(request.from);
      schedule(request, {
        direction: options.toTarget,
        lost: "lostToTarget",
        seed: seedToTarget,
      }, () => {
        stats.forwardedToTarget++;
        const rewrite = options.toTarget?.rewrite;
        upstream.send(rewrite === undefined ? request.data : rewrite(request.data.slice()));
      });
    },
  });
  const port = listener.localPort;

  /** Opens an upstream socket before a client needs it, so a first datagram never waits for one. */
  const openSpare = () => {
    let client: UpstreamEndpoint | undefined;
    const socket = openUpstreamSocket({
      family: familyOf(options.target.hostname),
      onDatagram: (reply) => {
        const to = client;
        if (stopping !== undefined || to === undefined) return;
        schedule(reply, {
          direction: options.toClient,
          lost: "lostToClient",
          seed: seedToClient,
        }, () => {
          stats.forwardedToClient++;
          const rewrite = options.toClient?.rewrite;
          listener.send(rewrite === undefined ? reply.data : rewrite(reply.data.slice()), to);
        });
      },
    });
    socket.catch(() => {});
    return { socket, assign: (to: UpstreamEndpoint) => client = to };
  };
  let spare = openSpare();
  /** Sockets of evicted clients being closed. */
  const closings: Promise<void>[] = [];

  const upstreamFor = (client: UpstreamEndpoint) => {
    const key = `${client.hostname}|${client.port}`;
    const known = upstreams.get(key);
    if (known !== undefined) {
      upstreams.delete(key); // keep the map in least-recently-used order
      upstreams.set(key, known);
      return known;
    }
    if (upstreams.size >= maxClients) {
      const [oldestKey, oldest] = upstreams.entries().next().value!;
      upstreams.delete(oldestKey);
      closings.push(oldest.close());
      stats.evictedClients++;
    }
    const taken = spare;
    taken.assign(client);
    spare = openSpare();
    let socket: UpstreamSocket | undefined;
    // Datagrams due before the socket is open are sent in order once it is.
    let ready = taken.socket.then((opened) => {
      socket = opened;
    });
    const entry = {
      send: (data: Uint8Array) => {
        if (socket !== undefined) socket.send(data, options.target);
        else ready = ready.then(() => void socket?.send(data, options.target));
      },
      close: async () => {
        await (await taken.socket).close();
      },
    };
    upstreams.set(key, entry);
    stats.clients++;
    return entry;
  };
  try {
    await spare.socket;
  } catch (error) {
    await listener.close();
    throw error;
  }
  timers.lifetime = setTimeout(() => stop(`lifetime of ${lifetimeMs} ms reached`), lifetimeMs);
  touch();

  function stop(reason: string): Promise<void> {
    stopping ??= (async () => {
      clearTimeout(timers.idle);
      clearTimeout(timers.lifetime);
      clearTimeout(wakeTimer);
      pending.length = 0;
      const unused = spare.socket.then((socket) => socket.close(), () => {});
      await Promise.all([
        listener.close(),
        ...[...upstreams.values()].map((entry) => entry.close()),
        unused,
        ...closings,
      ]);
      resolveStopped(reason);
    })();
    return stopping;
  }

  return {
    hostname: listenHost,
    port,
    stats: () => ({ ...stats }),
    stopped,
    close: () => stop("closed"),
    [Symbol.asyncDispose]: () => stop("closed"),
  };
}

function parseEndpoint(text: string): { hostname: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (match === null) throw new RangeError(`Cannot parse '${text}': expected HOST:PORT`);
  return { hostname: match[1]!, port: Number(match[2]) };
}

const usage = `usage: udp_relay.ts --target HOST:PORT [--listen HOST:PORT]
  [--delay-out MS] [--jitter-out MS] [--loss-out P] [--delay-back MS] [--jitter-back MS]
  [--loss-back P] [--seed N] [--idle-exit S] [--lifetime S]
Prints "RELAY <port>" when ready and the counters as JSON when it stops (SIGTERM/SIGINT, idle,
lifetime). "out" is client -> target, "back" is target -> client.`;

async function main(args: readonly string[]): Promise<number> {
  const values = new Map<string, string>();
  for (let index = 0; index < args.length; index += 2) {
    const name = args[index]!;
    const value = args[index + 1];
    if (name === "--help" || value === undefined || !name.startsWith("--")) {
      console.error(usage);
      return name === "--help" ? 0 : 2;
    }
    values.set(name.slice(2), value);
  }
  const number = (name: string) => values.has(name) ? Number(values.get(name)) : undefined;
  const target = values.get("target");
  if (target === undefined) {
    console.error(usage);
    return 2;
  }
  const listen = parseEndpoint(values.get("listen") ?? "127.0.0.1:0");
  const relay = await startUdpRelay({
    listen,
    target: parseEndpoint(target),
    toTarget: {
      delayMs: number("delay-out") ?? 0,
      jitterMs: number("jitter-out") ?? 0,
      lossRate: number("loss-out") ?? 0,
    },
    toClient: {
      delayMs: number("delay-back") ?? 0,
      jitterMs: number("jitter-back") ?? 0,
      lossRate: number("loss-back") ?? 0,
    },
    seed: number("seed") ?? 1,
    idleExitMs: (number("idle-exit") ?? 120) * 1000,
    lifetimeMs: (number("lifetime") ?? 3600) * 1000,
  });
  const onSignal = () => relay.close();
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  console.log(`RELAY ${relay.port}`);
  const reason = await relay.stopped;
  Deno.removeSignalListener("SIGTERM", onSignal);
  Deno.removeSignalListener("SIGINT", onSignal);
  console.log(JSON.stringify({ stopped: reason, ...relay.stats() }));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
