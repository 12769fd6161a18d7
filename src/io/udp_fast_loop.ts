// The responder thread's blocking loop: recvmmsg -> pure core per datagram -> transmit stamps -> sendmmsg.
//
// Runs inside a Worker and never returns to the event loop until the stop flag is set: every
// libc call is a synchronous (blocking) FFI call on this thread. A worker with one socket
// blocks in recvmmsg (SO_RCVTIMEO wakes it to look at the stop flag); with several it polls, and
// so does the first worker while it also serves the sockets of threads still starting.
import type { ClientAddress, ServerVerdict, SystemSnapshot } from "../core/server/types.ts";
import type { InboundDatagram, ServerContext } from "../core/server/handle_request.ts";
import { setNtpFromUnix, writeUnixAsNtp } from "../core/time/ntp_timestamp.ts";
import { createSnapshotReader, refreshSnapshot } from "./snapshot_buffer.ts";
import { createPolicyReader, readNewPolicy } from "./policy_buffer.ts";
import { compileRestrict } from "../core/server/restrict.ts";
import { retuneRateTable } from "../core/server/rate_limit.ts";
import {
  correctedNanoseconds,
  IoCounter,
  smearedNanoseconds,
  withoutLeapAnnouncement,
} from "./responder_common.ts";
import { readMonotonicSeconds, readRealtime, type RealtimeReading } from "./clock_realtime.ts";
import { Const, Errno, Layout, openLibc, writeU64 } from "./libc.ts";
import type { NtsResponder } from "./nts_responder.ts";
import {
  armReceive,
  createMmsgBatch,
  createReceiveMeta,
  type MmsgBatch,
  packetBytes,
  parseReceiveControl,
  transmitPacketBytes,
  writeTransmitPktinfo,
} from "./mmsg_batch.ts";

/**
 * Longest wait, in milliseconds, of the first thread's poll while it also serves the sockets of
 * threads still starting: the daemon waits for their release about this long, plus the batches
 * the thread has already read.
 */
export const interimPollMs = 10;

/** One socket handed to a worker. */
export interface LoopSocket {
  readonly fd: number;
  readonly family: 4 | 6;
  /** Bound to a wildcard address: replies carry pktinfo (the request's destination address). */
  readonly wildcard: boolean;
  /** Serves the leap smear and never announces a leap (ListenEndpoint.smear). */
  readonly smear: boolean;
}

/** A mode 6 datagram forwarded to the daemon, with what is needed to answer from the same address. */
export interface ControlDatagram {
  readonly kind: "control";
  readonly socketIndex: number;
  readonly data: Uint8Array;
  readonly client: ClientAddress;
  /** Destination address and interface of the request (wildcard sockets only). */
  readonly pktinfo?: { readonly ifindex: number; readonly address: Uint8Array };
}

/** The pure core's entry point, as the loop calls it. */
export type RequestHandler = (
  datagram: InboundDatagram,
  context: ServerContext,
  out: Uint8Array,
) => ServerVerdict;

/** Everything the loop needs. */
export interface LoopSetup {
  readonly sockets: readonly LoopSocket[];
  readonly handle: RequestHandler;
  /** The context handed to `handle`; its `system` is replaced when a new snapshot is seen. */
  readonly context: ServerContext;
  readonly snapshotBuffer: SharedArrayBuffer;
  readonly initialSnapshot: SystemSnapshot;
  /**
   * The restrict rules and rate limits the daemon republishes on a reload (policy_buffer.ts):
   * `context.restrict` and `context.rateTable` are replaced at the next batch.
   */
  readonly policyBuffer: SharedArrayBuffer;
  readonly ioCounters: Float64Array;
  /**
   * Int32 word 0: set to 1 by the daemon to stop the loop. Word 1 (when `interimSockets` are
   * given): set to 1 by the daemon once the threads those sockets belong to run; the loop sets it
   * to 2 (and notifies) when it no longer reads them: after its current poll (at most
   * {@link interimPollMs}) and the batches it has read.
   */
  readonly controlBuffer: SharedArrayBuffer;
  /**
   * The other responder threads' sockets, served here too until word 1 of `controlBuffer` is set:
   * the first worker (udp_fast.ts's worker 0) answers every client, whichever socket the kernel
   * steers it to, while the other threads are still starting (each takes tens of milliseconds).
   * Row after row of `sockets.length` each, in the order of `sockets`; their control datagrams
   * name the same address's socket of this thread (`socketIndex`).
   */
  readonly interimSockets?: readonly LoopSocket[];
  readonly batchSize: number;
  /**
   * Send the replies gathered so far once there are this many (<= batchSize), instead of after
   * the whole received batch: the first datagrams of a burst do not wait for the last.
   */
  readonly flushReplies: number;
  readonly pollTimeoutMs: number;
  /** Hands a mode 6 datagram to the daemon (postMessage). */
  readonly forwardControl: (message: ControlDatagram) => void;
  /**
   * Serve NTS: the cookie keys the daemon publishes (nts_key_buffer.ts), and the factory of the
   * thread's NTS context (nts_responder.ts, loaded by the worker only when NTS is on).
   */
  readonly nts?: {
    readonly keyBuffer: SharedArrayBuffer;
    readonly createResponder: (
      keyBuffer: SharedArrayBuffer,
      now: () => { unixSeconds: number; nanoseconds: number },
    ) => NtsResponder;
  };
}

interface MutableClient {
  family: 4 | 6;
  bytes: Uint8Array;
  port: number;
}

interface MutableDatagram {
  data: Uint8Array;
  client: MutableClient;
  /** Rewritten in place for every datagram (no allocation per packet). */
  readonly receiveTime: { seconds: number; fraction: number };
  monotonicSeconds: number;
}

interface SocketState {
  readonly index: number;
  readonly socket: LoopSocket;
  readonly batch: MmsgBatch;
  /** Per receive slot: the datagram handed to the core (its client.bytes view the sockaddr). */
  readonly datagrams: MutableDatagram[];
  /** Per transmit slot: the output buffer handed to the core. */
  readonly outputs: Uint8Array[];
  /** Per transmit slot: 1 when the reply needs its transmit timestamp (0 for Kiss-o'-Death). */
  readonly stampTransmit: Uint8Array;
}

function createSocketState(
  socket: LoopSocket,
  placement: { index: number; batchSize: number; transmitBytes: number },
): SocketState {
  const { index, batchSize, transmitBytes } = placement;
  const batch = createMmsgBatch(batchSize, { transmitBytes });
  const addressOffset = socket.family === 4 ? 4 : 8;
  const addressLength = socket.family === 4 ? 4 : 16;
  const datagrams: MutableDatagram[] = [];
  const outputs: Uint8Array[] = [];
  for (let i = 0; i < batchSize; i++) {
    const name = batch.receiveName[i]! + addressOffset;
    const client = {
      family: socket.family,
      bytes: batch.memory.subarray(name, name + addressLength),
      port: 0,
    };
    datagrams.push({
      data: batch.memory.subarray(batch.receiveData[i]!, batch.receiveData[i]! + 48),
      client,
      receiveTime: { seconds: 0, fraction: 0 },
      monotonicSeconds: 0,
    });
    const out = batch.transmitData[i]!;
    outputs.push(batch.memory.subarray(out, out + transmitBytes));
  }
  return {
    index,
    socket,
    batch,
    datagrams,
    outputs,
    stampTransmit: new Uint8Array(batchSize),
  };
}

/**
 * Runs the responder loop until the stop flag is set. Datagrams, client objects and the
 * `data`/`client.bytes` views handed to the core are reused: valid only during the call.
 */
export function runResponderLoop(setup: LoopSetup): void {
  const libc = openLibc();
  const recvmmsg = libc.symbols.recvmmsg;
  const stop = new Int32Array(setup.controlBuffer);
  // NTS replies are as long as their requests: reserve a whole packet per reply then.
  const transmitBytes = setup.nts === undefined ? transmitPacketBytes : packetBytes;
  const states = setup.sockets.map((socket, index) =>
    createSocketState(socket, { index, batchSize: setup.batchSize, transmitBytes })
  );
  if ((setup.interimSockets?.length ?? 0) > 0 && stop.length < 2) {
    throw new RangeError("interimSockets need a controlBuffer of two Int32 words");
  }
  // Row after row of the other threads' sockets, each row in the order of `sockets`.
  const interimStates = (setup.interimSockets ?? []).map((socket, at) =>
    createSocketState(socket, {
      index: at % states.length,
      batchSize: setup.batchSize,
      transmitBytes,
    })
  );
  const reader = createSnapshotReader(setup.snapshotBuffer, setup.initialSnapshot);
  const policyReader = createPolicyReader(setup.policyBuffer);
  const nts = setup.nts === undefined
    ? null
    : setup.nts.createResponder(setup.nts.keyBuffer, () => {
      const now = readRealtime();
      return {
        unixSeconds: now.unixSeconds,
        nanoseconds: correctedNanoseconds(now.unixSeconds, now.nanoseconds, reader.correction),
      };
    });
  const counters = setup.ioCounters;
  const meta = createReceiveMeta();
  const transmitStamp = new DataView(new ArrayBuffer(8));
  const flushReplies = Math.max(1, Math.min(setup.flushReplies, setup.batchSize));

  const processBatch = (state: SocketState, count: number): void => {
    const { batch, socket } = state;
    const view = batch.view;
    const monotonicSeconds = readMonotonicSeconds();
    // Only a datagram without a kernel timestamp needs a clock read here (none does while
    // SO_TIMESTAMPNS is on): read it at most once per batch, when the first such datagram comes.
    let userTime: RealtimeReading | null = null;
    if (refreshSnapshot(reader)) setup.context.system = reader.system;
    const policy = readNewPolicy(policyReader);
    if (policy !== null) {
      setup.context.restrict = compileRestrict(policy.restrict);
      setup.context.rateTable = retuneRateTable(setup.context.rateTable, policy.rateLimit);
    }
    if (nts !== null && nts.refresh()) setup.context.nts = nts.context;
    const correction = reader.correction;
    const smear = socket.smear ? reader.smear : null;
    let replies = 0;
    counters[IoCounter.received]! += count;
    for (let i = 0; i < count; i++) {
      const header = batch.receiveHeader[i]!;
      if ((view.getUint32(header + Layout.msgFlags, true) & Const.MSG_TRUNC) !== 0) {
        counters[IoCounter.truncated]!++;
        continue;
      }
      const length = view.getUint32(header + Layout.msgLen, true);
      parseReceiveControl(batch, i, meta);
      let seconds = meta.kernelSeconds;
      let nanoseconds = meta.kernelNanoseconds;
      if (seconds < 0) {
        counters[IoCounter.noKernelTimestamp]!++;
        userTime ??= readRealtime();
        seconds = userTime.unixSeconds;
        nanoseconds = userTime.nanoseconds;
      }
      const datagram = state.datagrams[i]!;
      datagram.client.port = view.getUint16(batch.receiveName[i]! + 2, false);
      const start = batch.receiveData[i]!;
      if (datagram.data.length !== length) {
        datagram.data = batch.memory.subarray(start, start + length);
      }
      const corrected = correctedNanoseconds(seconds, nanoseconds, correction);
      setNtpFromUnix(
        datagram.receiveTime,
        seconds,
        smear === null ? corrected : smearedNanoseconds(seconds, corrected, smear),
      );
      datagram.monotonicSeconds = monotonicSeconds;
      let verdict: ServerVerdict;
      try {
        verdict = setup.handle(datagram, setup.context, state.outputs[replies]!);
      } catch (error) {
        // A bug in the core must not take the responder down with it: drop this datagram.
        if (counters[IoCounter.handlerErrors]!++ === 0) {
          console.error("ntp responder: request handler failed (reported once per thread):", error);
        }
        continue;
      }
      if (verdict.action === "reply") {
        // (A final reply, NTS or KoD, is left as written: NTS is refused on smearing listeners.)
        if (socket.smear && !verdict.transmitWritten) {
          withoutLeapAnnouncement(state.outputs[replies]!);
        }
        const name = batch.receiveName[i]!;
        const tx = batch.transmitHeader[replies]!;
        const nameLength = view.getUint32(header + Layout.msgNameLen, true);
        batch.memory.copyWithin(batch.transmitName[replies]!, name, name + nameLength);
        view.setUint32(tx + Layout.msgNameLen, nameLength, true);
        writeU64(view, batch.transmitIovec[replies]! + 8, verdict.length);
        let controlLength = 0;
        if (socket.wildcard && meta.pktinfoIfindex >= 0) {
          controlLength = writeTransmitPktinfo(batch, replies, {
            family: socket.family,
            ifindex: meta.pktinfoIfindex,
            addressOffset: meta.pktinfoAddressOffset,
          });
        }
        writeU64(view, tx + Layout.msgControlLen, controlLength);
        // A Kiss-o'-Death or an NTS reply is final: send it unchanged.
        state.stampTransmit[replies] = verdict.transmitWritten ? 0 : 1;
        replies++;
        if (replies >= flushReplies) {
          sendReplies(state, replies);
          replies = 0;
        }
      } else if (verdict.action === "control") {
        counters[IoCounter.controlForwarded]!++;
        forwardControl(state, datagram, socket.wildcard && meta.pktinfoIfindex >= 0 ? meta : null);
      }
    }
    armReceive(batch, count);
    if (replies > 0) sendReplies(state, replies);
  };

  const forwardControl = (
    state: SocketState,
    datagram: MutableDatagram,
    pktinfo: typeof meta | null,
  ): void => {
    const memory = state.batch.memory;
    const addressLength = state.socket.family === 4 ? 4 : 16;
    setup.forwardControl({
      kind: "control",
      socketIndex: state.index,
      data: datagram.data.slice(),
      client: {
        family: datagram.client.family,
        bytes: datagram.client.bytes.slice(),
        port: datagram.client.port,
      },
      ...(pktinfo === null ? {} : {
        pktinfo: {
          ifindex: pktinfo.pktinfoIfindex,
          address: memory.slice(
            pktinfo.pktinfoAddressOffset,
            pktinfo.pktinfoAddressOffset + addressLength,
          ),
        },
      }),
    });
  };

  const sendReplies = (state: SocketState, replies: number): void => {
    const { batch } = state;
    const now = readRealtime();
    const correction = reader.correction;
    const corrected = correctedNanoseconds(now.unixSeconds, now.nanoseconds, correction);
    const nanoseconds = state.socket.smear
      ? smearedNanoseconds(now.unixSeconds, corrected, reader.smear)
      : corrected;
    // One transmit timestamp for the whole flush, converted once and copied into each reply.
    writeUnixAsNtp(transmitStamp, 0, now.unixSeconds, nanoseconds);
    const high = transmitStamp.getUint32(0);
    const low = transmitStamp.getUint32(4);
    const view = batch.view;
    for (let j = 0; j < replies; j++) {
      if (state.stampTransmit[j] === 1) {
        const at = batch.transmitData[j]! + 40;
        view.setUint32(at, high);
        view.setUint32(at + 4, low);
      }
    }
    let sent = 0;
    while (sent < replies) {
      const vector = sent === 0
        ? batch.transmitVector
        : batch.transmitVector.subarray(sent * Layout.mmsghdrBytes);
      const result = libc.symbols.sendmmsg(state.socket.fd, vector, replies - sent, 0);
      if (result > 0) {
        sent += result;
        counters[IoCounter.sent]! += result;
        continue;
      }
      const errno = libc.errno();
      if (result < 0 && (errno === Errno.EINTR || errno === Errno.EAGAIN)) continue;
      counters[IoCounter.sendErrors]!++; // this one reply cannot be sent (unreachable, filtered): skip it
      sent++;
    }
  };

  if (interimStates.length > 0) {
    const released = () => Atomics.load(stop, 0) !== 0 || Atomics.load(stop, 1) !== 0;
    const pollMs = Math.min(interimPollMs, setup.pollTimeoutMs);
    const open = pollSockets([...states, ...interimStates], released, pollMs);
    // Tells the daemon (waiting in Atomics.waitAsync) that this thread reads its own sockets only.
    Atomics.store(stop, 1, 2);
    Atomics.notify(stop, 1);
    if (!open) return;
    // Their own threads read them from now on; this one's batches for them are garbage.
    interimStates.length = 0;
  }
  if (states.length === 1) {
    const state = states[0]!;
    const fd = state.socket.fd;
    const vector = state.batch.receiveVector;
    while (Atomics.load(stop, 0) === 0) {
      const count = recvmmsg(fd, vector, setup.batchSize, Const.MSG_WAITFORONE, null);
      if (count > 0) processBatch(state, count);
      else if (count < 0 && !noteReceiveError(libc.errno())) return;
    }
    return;
  }
  pollSockets(states, () => Atomics.load(stop, 0) !== 0, setup.pollTimeoutMs);

  /**
   * Polls `polled` and serves whichever is readable until `done()`; false when a socket is gone
   * (stop looping).
   */
  function pollSockets(
    polled: readonly SocketState[],
    done: () => boolean,
    pollMs: number,
  ): boolean {
    const pollfds = new Uint8Array(polled.length * Layout.pollfdBytes);
    const pollView = new DataView(pollfds.buffer);
    const pollCount = BigInt(polled.length);
    polled.forEach((state, index) => {
      pollView.setInt32(index * Layout.pollfdBytes, state.socket.fd, true);
      pollView.setInt16(index * Layout.pollfdBytes + 4, Const.POLLIN, true);
    });
    while (!done()) {
      const ready = libc.symbols.poll(pollfds, pollCount, pollMs);
      if (ready <= 0) continue;
      for (let index = 0; index < polled.length; index++) {
        if (pollView.getInt16(index * Layout.pollfdBytes + 6, true) === 0) continue;
        const state = polled[index]!;
        const count = recvmmsg(
          state.socket.fd,
          state.batch.receiveVector,
          setup.batchSize,
          Const.MSG_DONTWAIT,
          null,
        );
        if (count > 0) processBatch(state, count);
        else if (count < 0 && !noteReceiveError(libc.errno())) return false;
      }
    }
    return true;
  }

  /** Counts an unexpected receive error; false when the socket is gone (stop looping). */
  function noteReceiveError(errno: number): boolean {
    if (errno === Errno.EAGAIN || errno === Errno.EINTR) return true;
    counters[IoCounter.receiveErrors]!++;
    return errno !== Errno.EBADF && errno !== Errno.ENOTSOCK;
  }
}
