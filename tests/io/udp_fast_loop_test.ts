// Tests of the responder loop itself, run in a worker with a handler that can be made to fail.
import assert from "node:assert/strict";
import { createSnapshotBuffer } from "../../src/daemon/snapshot_buffer.ts";
import { openLibc } from "../../src/io/libc.ts";
import { IoCounter, ioCounterNames } from "../../src/io/responder_common.ts";
import { bindListenSockets, closeSockets } from "../../src/io/udp_listen_sockets.ts";
import { clientRequest, expectCounters, openClient } from "./_ntp_exchange.ts";
import { assertTimelyReply, uniqueTransmit } from "./_responders_contract.ts";

Deno.test("the responder loop drops a datagram the handler throws on and keeps answering", async () => {
  const libc = openLibc();
  const sockets = bindListenSockets(libc, [{ hostname: "127.0.0.1", port: 0, family: 4 }], {
    copies: 1,
    receiveBufferBytes: 1 << 20,
    receiveTimeoutMs: 50,
  });
  const ioCountersBuffer = new SharedArrayBuffer(ioCounterNames.length * 8);
  const controlBuffer = new SharedArrayBuffer(4);
  const worker = new Worker(new URL("./_throwing_loop_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const messages: string[] = [];
  const next = () =>
    new Promise<string>((resolve) => {
      worker.onmessage = (event: MessageEvent<string>) => {
        messages.push(event.data);
        resolve(event.data);
      };
    });
  try {
    const running = next();
    worker.postMessage({
      sockets: sockets[0]!.map(({ fd, family, wildcard }) => ({ fd, family, wildcard })),
      snapshotBuffer: createSnapshotBuffer(),
      ioCountersBuffer,
      controlBuffer,
    });
    assert.equal(await running, "running");
    const port = sockets[0]![0]!.port;
    await using client = await openClient(4);
    const poison = new Uint8Array(48).fill(0xff);
    assert.equal(await client.exchange(poison, { host: "127.0.0.1", port }, 300), null);
    const transmit = uniqueTransmit();
    assertTimelyReply(
      await client.exchange(clientRequest(transmit), { host: "127.0.0.1", port }),
      { transmit, version: 4 },
    );
    const ioCounters = new Float64Array(ioCountersBuffer);
    await expectCounters(() => ({
      handlerErrors: ioCounters[IoCounter.handlerErrors]!,
      received: ioCounters[IoCounter.received]!,
      sent: ioCounters[IoCounter.sent]!,
    }), { handlerErrors: 1, received: 2, sent: 1 });
  } finally {
    const stopped = next();
    Atomics.store(new Int32Array(controlBuffer), 0, 1);
    assert.equal(await stopped, "stopped", "the loop noticed the stop flag");
    worker.terminate();
    closeSockets(libc, sockets);
  }
});
