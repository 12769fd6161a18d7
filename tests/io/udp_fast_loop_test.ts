// Tests of the responder loop itself, run in a worker with a handler that can be made to fail.
import assert from "node:assert/strict";
import { createSnapshotBuffer } from "../../src/io/snapshot_buffer.ts";
import { Const, openLibc } from "../../src/io/libc.ts";
import { IoCounter, ioCounterNames } from "../../src/io/responder_common.ts";
import { bindListenSockets, closeSockets } from "../../src/io/udp_listen_sockets.ts";
import { clientRequest, expectCounters, openClient } from "./_ntp_exchange.ts";
import { assertTimelyReply, uniqueTransmit } from "./_responders_contract.ts";

/**
 * Runs the loop (tests/io/_throwing_loop_worker.ts) on a fresh 127.0.0.1 socket, after
 * `prepare(fd)`, hands `body` the port and the I/O counters, then stops the loop.
 */
async function withLoop(
  prepare: (fd: number) => void,
  body: (port: number, ioCounters: Float64Array) => Promise<void>,
): Promise<void> {
  const libc = openLibc();
  const { rows: sockets } = bindListenSockets(
    libc,
    [{ hostname: "127.0.0.1", port: 0, family: 4 }],
    {
      copies: 1,
      receiveBufferBytes: 1 << 20,
      receiveTimeoutMs: 50,
    },
  );
  const ioCountersBuffer = new SharedArrayBuffer(ioCounterNames.length * 8);
  const controlBuffer = new SharedArrayBuffer(4);
  const worker = new Worker(new URL("./_throwing_loop_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const next = () =>
    new Promise<string>((resolve) => {
      worker.onmessage = (event: MessageEvent<string>) => resolve(event.data);
    });
  try {
    prepare(sockets[0]![0]!.fd);
    const running = next();
    worker.postMessage({
      sockets: sockets[0]!.map(({ fd, family, wildcard }) => ({
        fd,
        family,
        wildcard,
        smear: false,
      })),
      snapshotBuffer: createSnapshotBuffer(),
      ioCountersBuffer,
      controlBuffer,
    });
    assert.equal(await running, "running");
    await body(sockets[0]![0]!.port, new Float64Array(ioCountersBuffer));
  } finally {
    const stopped = next();
    Atomics.store(new Int32Array(controlBuffer), 0, 1);
    assert.equal(await stopped, "stopped", "the loop noticed the stop flag");
    worker.terminate();
    closeSockets(libc, sockets);
  }
}

Deno.test("the responder loop drops a datagram the handler throws on and keeps answering", async () => {
  await withLoop(() => {}, async (port, ioCounters) => {
    await using client = await openClient(4);
    const poison = new Uint8Array(48).fill(0xff);
    assert.equal(await client.exchange(poison, { host: "127.0.0.1", port }, 300), null);
    const transmit = uniqueTransmit();
    assertTimelyReply(
      await client.exchange(clientRequest(transmit), { host: "127.0.0.1", port }),
      { transmit, version: 4 },
    );
    await expectCounters(() => ({
      handlerErrors: ioCounters[IoCounter.handlerErrors]!,
      received: ioCounters[IoCounter.received]!,
      sent: ioCounters[IoCounter.sent]!,
      noKernelTimestamp: ioCounters[IoCounter.noKernelTimestamp]!,
    }), { handlerErrors: 1, received: 2, sent: 1, noKernelTimestamp: 0 });
  });
});

Deno.test("without kernel receive timestamps the loop reads the clock itself, and counts it", async () => {
  const switchOffTimestamps = (fd: number) => {
    const off = new Int32Array([0]);
    const libc = openLibc();
    assert.equal(libc.symbols.setsockopt(fd, Const.SOL_SOCKET, Const.SO_TIMESTAMPNS, off, 4), 0);
  };
  await withLoop(switchOffTimestamps, async (port, ioCounters) => {
    await using client = await openClient(4);
    for (let i = 0; i < 3; i++) {
      const transmit = uniqueTransmit();
      assertTimelyReply(
        await client.exchange(clientRequest(transmit), { host: "127.0.0.1", port }),
        { transmit, version: 4 },
      );
    }
    await expectCounters(() => ({
      received: ioCounters[IoCounter.received]!,
      noKernelTimestamp: ioCounters[IoCounter.noKernelTimestamp]!,
    }), { received: 3, noKernelTimestamp: 3 });
  });
});
