// The fast responders: sockets bound here, one Worker per thread looping on recvmmsg/sendmmsg via FFI.
import type { ClientAddress } from "../core/server/types.ts";
import {
  COUNTERS_BYTE_LENGTH,
  countersToRecord,
  createCounters,
  sumCounters,
} from "../core/server/counters.ts";
import type { Responders, RespondersOptions } from "./responders_types.ts";
import { createSnapshotBuffer, writeSnapshot } from "./snapshot_buffer.ts";
import { createPolicyBuffer, writePolicy } from "./policy_buffer.ts";
import { retuneRateTable } from "../core/server/rate_limit.ts";
import { measurePrecisionLog2, readMonotonicSeconds, readRealtime } from "./clock_realtime.ts";
import { openRateTable, type RateTable, rateTableByteLength } from "../core/server/rate_limit.ts";
import { newestFirst, recentClients } from "../core/control/recent_clients.ts";
import { addressOf, Errno, Layout, type Libc, openLibc, writeU64 } from "./libc.ts";
import { writePktinfo } from "./mmsg_batch.ts";
import { encodeSockaddr, formatIp } from "./sockaddr.ts";
import {
  clientTableCounters,
  ioCounterNames,
  unsynchronisedSnapshot,
  withCorrectionEpoch,
} from "./responder_common.ts";
import type { WorkerReport, WorkerStart } from "./udp_fast_worker.ts";
import type { LoopSocket } from "./udp_fast_loop.ts";
import { bindListenSockets, type BoundSocket, closeSockets } from "./udp_listen_sockets.ts";

const defaultBatchSize = 64;
const defaultFlushReplies = 64;
const defaultReceiveBufferBytes = 4 << 20;
/** How often a blocked responder wakes to look at the stop flag. */
const wakeIntervalMs = 200;
/** The precision in the first snapshot, until the clock's is measured (a few ms later). */
const provisionalPrecisionLog2 = -20;
/** How long close() waits for a responder to leave its loop before terminating it. */
const stopGraceMs = 3000;
/**
 * Longest wait for the first thread to leave the other threads' sockets (it takes one 10 ms poll
 * and the batches already read).
 */
const releaseWaitMs = 1000;

interface RunningWorker {
  readonly worker: Worker;
  /** The worker's client table, read-only from this thread (retuned with the policy). */
  rateTable: RateTable;
  readonly counters: Float64Array;
  readonly ioCounters: Float64Array;
  readonly running: Promise<void>;
  readonly stopped: Promise<void>;
}

interface ControlRoute {
  readonly socketIndex: number;
  readonly pktinfo?: { readonly ifindex: number; readonly address: Uint8Array };
}

type Deferred = { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/**
 * Starts the fast responders: binds every listen address once per worker (SO_REUSEPORT), then
 * starts `options.workers` Worker threads, each owning one socket per address. Rejects with a
 * BindError naming the address and the fix when an address cannot be bound, or when a worker
 * fails to start; nothing is left running then.
 *
 * @example
 * ```ts
 * import { defaultRateLimitPolicy } from "../core/server/rate_limit.ts";
 * const responders = await startFastResponders({
 *   listen: [{ hostname: "127.0.0.1", port: 12300, family: 4 }], workers: 2,
 *   restrict: [], rateLimit: defaultRateLimitPolicy,
 * });
 * await responders.close();
 * ```
 */
export async function startFastResponders(options: RespondersOptions): Promise<Responders> {
  const libc = openLibc();
  const workerCount = Math.max(1, Math.floor(options.workers));
  const nowUnixSeconds = () => {
    const now = readRealtime();
    return now.unixSeconds + now.nanoseconds * 1e-9;
  };
  const { rows: sockets, missing } = bindListenSockets(libc, options.listen, {
    copies: workerCount,
    receiveBufferBytes: options.receiveBufferBytes ?? defaultReceiveBufferBytes,
    receiveTimeoutMs: wakeIntervalMs,
  });
  const snapshotBuffer = createSnapshotBuffer();
  const policyBuffer = createPolicyBuffer();
  // The clock's precision is measured once the threads answer (it takes 5-25 ms, which the
  // first replies need not wait for); until then they carry a provisional 2^-20 s.
  const initial = options.initialSnapshot ?? unsynchronisedSnapshot(provisionalPrecisionLog2);
  writeSnapshot(snapshotBuffer, withCorrectionEpoch(initial, nowUnixSeconds));
  // Int32 words: 0 stops every thread, 1 releases the first thread's interim sockets.
  const controlBuffer = new SharedArrayBuffer(8);
  const stopFlag = new Int32Array(controlBuffer);
  const routes = new WeakMap<ClientAddress, ControlRoute>();
  const controlCallbacks: ((data: Uint8Array, client: ClientAddress) => void)[] = [];

  const onReport = (report: WorkerReport): void => {
    if (report.kind !== "control") return;
    const client: ClientAddress = report.client;
    routes.set(client, {
      socketIndex: report.socketIndex,
      ...(report.pktinfo === undefined ? {} : { pktinfo: report.pktinfo }),
    });
    for (const callback of controlCallbacks) callback(report.data, client);
  };

  const loopSockets = (row: readonly BoundSocket[]): LoopSocket[] =>
    row.map(({ fd, family, wildcard }, at) => ({
      fd,
      family,
      wildcard,
      smear: options.listen[at]?.smear ?? false,
    }));
  const workers: RunningWorker[] = [];
  let precisionLog2 = provisionalPrecisionLog2;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      Atomics.store(stopFlag, 0, 1);
      await Promise.all(workers.map((running) => stopWorker(running)));
      closeSockets(libc, sockets);
    })();
    return closing;
  };

  try {
    for (let index = 0; index < workerCount; index++) {
      workers.push(startWorker(
        {
          kind: "start",
          sockets: loopSockets(sockets[index]!),
          // The first thread also answers on the others' sockets until they all run.
          ...(index === 0 && workerCount > 1
            ? { interimSockets: sockets.slice(1).flatMap(loopSockets) }
            : {}),
          snapshotBuffer,
          policyBuffer,
          initialSnapshot: initial,
          countersBuffer: new SharedArrayBuffer(COUNTERS_BYTE_LENGTH),
          ioCountersBuffer: new SharedArrayBuffer(ioCounterNames.length * 8),
          controlBuffer,
          restrict: options.restrict,
          rateLimit: options.rateLimit,
          rateTableBuffer: new SharedArrayBuffer(rateTableByteLength(options.rateLimit)),
          hashSeed: crypto.getRandomValues(new Uint32Array(1))[0]!,
          batchSize: options.batchSize ?? defaultBatchSize,
          flushReplies: options.flushReplies ?? defaultFlushReplies,
          pollTimeoutMs: wakeIntervalMs,
          ...(options.nts === undefined ? {} : { nts: options.nts }),
        },
        onReport,
      ));
    }
    await Promise.all(workers.map((running) => running.running));
    if (workerCount > 1) await releaseInterimSockets(stopFlag);
    precisionLog2 = measurePrecisionLog2({ read: readRealtime });
    if (options.initialSnapshot === undefined) {
      writeSnapshot(
        snapshotBuffer,
        withCorrectionEpoch(unsynchronisedSnapshot(precisionLog2), nowUnixSeconds),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    io: "fast",
    missingFeatures: missing,
    addresses: sockets[0]!.map((socket) => ({
      hostname: formatIp(socket.address),
      port: socket.port,
      family: socket.family,
    })),
    precisionLog2,
    publish: (snapshot) =>
      writeSnapshot(snapshotBuffer, withCorrectionEpoch(snapshot, nowUnixSeconds)),
    updatePolicy: (policy) => {
      // Checked here first (a table size change throws), then published to every thread.
      const retuned = workers.map((running) =>
        retuneRateTable(running.rateTable, policy.rateLimit)
      );
      writePolicy(policyBuffer, policy);
      retuned.forEach((table, index) => (workers[index]!.rateTable = table));
    },
    counters: () => {
      const record: Record<string, number> = countersToRecord(
        sumCounters(workers.map((running) => running.counters)),
      );
      ioCounterNames.forEach((name, index) => {
        record[name] = workers.reduce((sum, running) => sum + running.ioCounters[index]!, 0);
      });
      Object.assign(
        record,
        clientTableCounters(workers.map((running) => running.rateTable), readMonotonicSeconds()),
      );
      return record;
    },
    recentClients: (limit) => {
      const clock = { monotonicSeconds: readMonotonicSeconds(), unixSeconds: nowUnixSeconds() };
      return newestFirst(
        workers.flatMap((running) => recentClients(running.rateTable, { limit, clock })),
        limit,
      );
    },
    onControl: (callback) => {
      controlCallbacks.push(callback);
    },
    sendControlReply: (bytes, client) => {
      const route = routes.get(client) ?? routeByFamily(sockets[0]!, client.family);
      sendTo(libc, { socket: sockets[0]![route.socketIndex]!, bytes, client, route });
    },
    close,
  };
}

/**
 * Leaves the other threads' sockets to them: sets word 1 of the control buffer and waits until the
 * first thread says it no longer reads them (after one udp_fast_loop.ts interimPollMs poll and
 * the batches it has read), or at most {@link releaseWaitMs} if that thread failed meanwhile.
 * From then on each client meets one thread, as the steering program means.
 */
async function releaseInterimSockets(control: Int32Array): Promise<void> {
  // 2 already: the first thread left its interim loop by itself (stopping, or a socket gone).
  if (Atomics.compareExchange(control, 1, 0, 1) === 2) return;
  const waiting = Atomics.waitAsync(control, 1, 1, releaseWaitMs);
  if (waiting.async) await waiting.value;
}

function routeByFamily(row: readonly BoundSocket[], family: 4 | 6): ControlRoute {
  const socketIndex = row.findIndex((socket) => socket.family === family);
  if (socketIndex < 0) throw new Error(`no IPv${family} listen address to reply from`);
  return { socketIndex };
}

function startWorker(start: WorkerStart, onReport: (report: WorkerReport) => void): RunningWorker {
  const worker = new Worker(new URL("./udp_fast_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const running = deferred();
  const stopped = deferred();
  // Both settle exactly once; unobserved rejections are expected when the other path wins.
  running.promise.catch(() => {});
  stopped.promise.catch(() => {});
  worker.onmessage = (event: MessageEvent<WorkerReport>) => {
    const report = event.data;
    if (report.kind === "running") running.resolve();
    else if (report.kind === "stopped") stopped.resolve();
    else if (report.kind === "failed") {
      running.reject(new Error(`responder thread failed: ${report.message}`));
      stopped.resolve();
    } else onReport(report);
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    running.reject(new Error(`responder thread failed to start: ${event.message}`));
    stopped.resolve();
  };
  worker.postMessage(start);
  return {
    worker,
    rateTable: openRateTable(start.rateLimit, start.rateTableBuffer),
    counters: createCounters(start.countersBuffer),
    ioCounters: new Float64Array(start.ioCountersBuffer),
    running: running.promise,
    stopped: stopped.promise,
  };
}

async function stopWorker(running: RunningWorker): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, stopGraceMs);
  });
  await Promise.race([running.stopped, timeout]);
  clearTimeout(timer);
  running.worker.terminate();
}

/** Sends one datagram with sendmsg, from the route's address when the socket is a wildcard. */
function sendTo(
  libc: Libc,
  datagram: { socket: BoundSocket; bytes: Uint8Array; client: ClientAddress; route: ControlRoute },
): void {
  const { socket, bytes, client, route } = datagram;
  if (client.family !== socket.family) {
    throw new RangeError(
      `Cannot send to an IPv${client.family} client from an IPv${socket.family} socket`,
    );
  }
  // One buffer: msghdr, iovec, name, control, local address (pktinfo source), payload.
  const iovec = Layout.msghdrBytes;
  const name = iovec + Layout.iovecBytes;
  const control = name + 32;
  const localAddress = control + 64;
  const payload = localAddress + 16;
  const memory = new Uint8Array(payload + bytes.length);
  const view = new DataView(memory.buffer);
  const base = addressOf(memory);
  memory.set(bytes, payload);
  const nameLength = encodeSockaddr(memory, name, client);
  writeU64(view, iovec, base + payload);
  writeU64(view, iovec + 8, bytes.length);
  writeU64(view, Layout.msgName, base + name);
  view.setUint32(Layout.msgNameLen, nameLength, true);
  writeU64(view, Layout.msgIov, base + iovec);
  writeU64(view, Layout.msgIovLen, 1);
  if (socket.wildcard && route.pktinfo !== undefined) {
    memory.set(route.pktinfo.address, localAddress);
    const controlLength = writePktinfo(memory, control, {
      family: socket.family,
      ifindex: route.pktinfo.ifindex,
      addressOffset: localAddress,
    });
    writeU64(view, Layout.msgControl, base + control);
    writeU64(view, Layout.msgControlLen, controlLength);
  }
  for (;;) {
    const result = Number(libc.symbols.sendmsg(socket.fd, memory, 0));
    if (result >= 0) return;
    const errno = libc.errno();
    if (errno === Errno.EINTR) continue;
    throw new Error(
      `sendmsg to ${formatIp(client)}:${client.port} failed: ${libc.strerror(errno)}`,
    );
  }
}
