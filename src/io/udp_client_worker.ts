// Worker entry of an upstream socket: blocks in recvmmsg via FFI and posts each reply with its kernel receive timestamp.
/// <reference lib="deno.worker" />
import type { ClockReading } from "./clock_driver.ts";
import { readRealtime } from "./clock_realtime.ts";
import { Const, Errno, Layout, openLibc } from "./libc.ts";
import {
  armReceive,
  createMmsgBatch,
  createReceiveMeta,
  packetBytes,
  parseReceiveControl,
} from "./mmsg_batch.ts";
import { decodeSockaddr, formatIp } from "./sockaddr.ts";

/** The one message the main thread sends: the socket to read and the stop flag. */
export interface ClientWorkerStart {
  readonly kind: "start";
  readonly fd: number;
  /** Int32 word 0 set to 1 by the main thread to stop the loop. */
  readonly stopBuffer: SharedArrayBuffer;
  readonly batchSize: number;
}

/** A received datagram as posted to the main thread. */
export interface ClientWorkerDatagram {
  readonly kind: "datagram";
  readonly data: Uint8Array;
  readonly from: { readonly hostname: string; readonly port: number; readonly family: 4 | 6 };
  readonly receiveKernel: ClockReading;
  /** "kernel": SO_TIMESTAMPNS; "user": no control message came, read after recvmmsg returned. */
  readonly receiveSource: "kernel" | "user";
}

/** Everything the worker posts. */
export type ClientWorkerReport =
  | { readonly kind: "running" }
  | ClientWorkerDatagram
  | { readonly kind: "stopped" }
  | { readonly kind: "failed"; readonly message: string };

function report(message: ClientWorkerReport): void {
  self.postMessage(message);
}

function run(start: ClientWorkerStart): void {
  const libc = openLibc();
  const stop = new Int32Array(start.stopBuffer);
  const batch = createMmsgBatch(start.batchSize);
  const meta = createReceiveMeta();
  report({ kind: "running" });
  while (Atomics.load(stop, 0) === 0) {
    const count = libc.symbols.recvmmsg(
      start.fd,
      batch.receiveVector,
      start.batchSize,
      Const.MSG_WAITFORONE,
      null,
    );
    if (count < 0) {
      const errno = libc.errno();
      if (errno === Errno.EAGAIN || errno === Errno.EINTR) continue;
      if (Atomics.load(stop, 0) !== 0) break;
      throw new Error(`recvmmsg failed: ${libc.strerror(errno)} (errno ${errno})`);
    }
    const userTime = readRealtime();
    for (let slot = 0; slot < count; slot++) {
      const header = batch.receiveHeader[slot]!;
      const length = batch.view.getUint32(header + Layout.msgLen, true);
      const flags = batch.view.getUint32(header + Layout.msgFlags, true);
      const nameLength = batch.view.getUint32(header + Layout.msgNameLen, true);
      if ((flags & Const.MSG_TRUNC) !== 0 || length > packetBytes || nameLength === 0) continue;
      parseReceiveControl(batch, slot, meta);
      const from = decodeSockaddr(batch.memory, batch.receiveName[slot]!);
      const data = batch.memory.slice(batch.receiveData[slot]!, batch.receiveData[slot]! + length);
      const kernel = meta.kernelSeconds >= 0;
      report({
        kind: "datagram",
        data,
        from: { hostname: formatIp(from), port: from.port, family: from.family },
        receiveKernel: kernel
          ? { unixSeconds: meta.kernelSeconds, nanoseconds: meta.kernelNanoseconds }
          : userTime,
        receiveSource: kernel ? "kernel" : "user",
      });
    }
    armReceive(batch, Math.max(count, 0));
  }
}

self.onmessage = (event: MessageEvent<ClientWorkerStart>) => {
  const start = event.data;
  if (start.kind !== "start") return;
  try {
    run(start);
    report({ kind: "stopped" });
  } catch (error) {
    report({
      kind: "failed",
      message: error instanceof Error ? error.stack ?? error.message : String(error),
    });
  }
};
