// Tests of the responder loop itself, run in a worker with a handler that can be made to fail.
import assert from "node:assert/strict";
import { createSnapshotBuffer } from "../../src/io/snapshot_buffer.ts";
import { Const, openLibc } from "../../src/io/libc.ts";
import { IoCounter, ioCounterNames } from "../../src/io/responder_common.ts";
import { bindListenSockets, closeSockets } from "../../src/io/udp_listen_sockets.ts";
import { runResponderLoop } from "../../src/io/udp_fast_loop.ts";
import { clientRequest, expectCounters, openClient } from "./_ntp_exchange.ts";
import { assertTimelyReply, uniqueTransmit } from "./_responders_contract.ts";

/** What a test body gets from {@link withLoop}. */
interface LoopUnderTest {
  /** The ports of the loop's own sockets, one per address. */
  readonly ports: readonly number[];
  readonly ioCounters: Float64Array;
  /** Per interim row, the ports of its sockets (one per address, as `ports`). */
  readonly interimPorts: readonly (readonly number[])[];
  /** Word 0 and 1 of the control buffer (stop; interim sockets released). */
  readonly control: Int32Array;
  /** The socketIndex of every control datagram the loop forwarded, in order. */
  readonly controlSocketIndexes: number[];
}

/**
 * Runs the loop (tests/io/_throwing_loop_worker.ts) on fresh sockets, one per address (default
 * 127.0.0.1 only), after `prepare(fd of the first)`, with `interimRows` more rows of the same
 * addresses (other ports) as its interim sockets; hands `body` what it needs, then stops the loop.
 */
async function withLoop(
  prepare: (fd: number) => void,
  body: (loop: LoopUnderTest) => Promise<void>,
  options: {
    readonly interimRows?: number;
    readonly addresses?: readonly ("127.0.0.1" | "::1")[];
  } = {},
): Promise<void> {
  const libc = openLibc();
  const addresses = options.addresses ?? ["127.0.0.1"];
  const bind = () =>
    bindListenSockets(
      libc,
      addresses.map((hostname) => ({ hostname, port: 0, family: hostname === "::1" ? 6 : 4 })),
      { copies: 1, receiveBufferBytes: 1 << 20, receiveTimeoutMs: 50 },
    ).rows;
  const sockets = bind();
  const interim = Array.from({ length: options.interimRows ?? 0 }, bind);
  const ioCountersBuffer = new SharedArrayBuffer(ioCounterNames.length * 8);
  const controlBuffer = new SharedArrayBuffer(8);
  const worker = new Worker(new URL("./_throwing_loop_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const controlSocketIndexes: number[] = [];
  let waiting: ((message: string) => void) | null = null;
  worker.onmessage = (event: MessageEvent<string | { control: number }>) => {
    const message = event.data;
    if (typeof message === "string") waiting?.(message);
    else controlSocketIndexes.push(message.control);
  };
  const next = () => new Promise<string>((resolve) => (waiting = resolve));
  const loopSockets = (rows: typeof sockets) =>
    rows[0]!.map(({ fd, family, wildcard }) => ({ fd, family, wildcard, smear: false }));
  try {
    prepare(sockets[0]![0]!.fd);
    const running = next();
    worker.postMessage({
      sockets: loopSockets(sockets),
      ...(interim.length === 0 ? {} : { interimSockets: interim.flatMap(loopSockets) }),
      snapshotBuffer: createSnapshotBuffer(),
      ioCountersBuffer,
      controlBuffer,
    });
    assert.equal(await running, "running");
    await body({
      ports: sockets[0]!.map((socket) => socket.port),
      ioCounters: new Float64Array(ioCountersBuffer),
      interimPorts: interim.map((rows) => rows[0]!.map((socket) => socket.port)),
      control: new Int32Array(controlBuffer),
      controlSocketIndexes,
    });
  } finally {
    const stopped = next();
    Atomics.store(new Int32Array(controlBuffer), 0, 1);
    assert.equal(await stopped, "stopped", "the loop noticed the stop flag");
    worker.terminate();
    closeSockets(libc, sockets);
    for (const rows of interim) closeSockets(libc, rows);
  }
}

Deno.test("the responder loop drops a datagram the handler throws on and keeps answering", async () => {
  await withLoop(() => {}, async ({ ports, ioCounters }) => {
    const port = ports[0]!;
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
  await withLoop(switchOffTimestamps, async ({ ports, ioCounters }) => {
    const port = ports[0]!;
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

/** A mode 6 READ_STATUS request (12-byte header, sequence 1). */
function readStatusRequest(): Uint8Array {
  const request = new Uint8Array(12);
  request[0] = 0x16; // LI 0, version 2, mode 6
  request[1] = 1; // READ_STATUS
  request[3] = 1; // sequence 1
  return request;
}

Deno.test("the first thread serves the other threads' sockets until released, then only its own", async () => {
  const addresses = ["127.0.0.1", "::1"] as const;
  await withLoop(() => {}, async (loop) => {
    const { ports, interimPorts, control, ioCounters, controlSocketIndexes } = loop;
    const clients = { 4: await openClient(4), 6: await openClient(6) };
    await using _client4 = clients[4];
    await using _client6 = clients[6];
    const ask = async (address: (typeof addresses)[number], port: number, waitMs?: number) => {
      const transmit = uniqueTransmit();
      const client = clients[address === "::1" ? 6 : 4];
      const reply = await client.exchange(clientRequest(transmit), { host: address, port }, waitMs);
      return { reply, expected: { transmit, version: 4 } };
    };
    // Before the release every socket is answered: the loop's own and both interim rows'.
    let answered = 0;
    for (const row of [ports, ...interimPorts]) {
      for (const [at, address] of addresses.entries()) {
        const { reply, expected } = await ask(address, row[at]!);
        assertTimelyReply(reply, expected);
        answered++;
      }
    }
    // A mode 6 request on an interim socket names the loop's own socket of that address.
    for (const [row, at] of [[1, 1], [0, 0], [1, 0]] as const) {
      const address = addresses[at];
      const client = clients[address === "::1" ? 6 : 4];
      const target = { host: address, port: interimPorts[row]![at]! };
      assert.equal(await client.exchange(readStatusRequest(), target, 300), null);
    }
    await expectCounters(() => ({ forwarded: controlSocketIndexes.length }), { forwarded: 3 });
    assert.deepEqual(controlSocketIndexes, [1, 0, 0]);
    // Released: the loop says so within its interim poll (10 ms), then reads its own only.
    Atomics.store(control, 1, 1);
    const said = Atomics.waitAsync(control, 1, 1, 2000);
    if (said.async) await said.value;
    assert.equal(Atomics.load(control, 1), 2, "the loop acknowledged the release");
    for (const [at, address] of addresses.entries()) {
      const left = await ask(address, interimPorts[0]![at]!, 300);
      assert.equal(left.reply, null, `the released ${address} socket is not read by this thread`);
      const own = await ask(address, ports[at]!);
      assertTimelyReply(own.reply, own.expected);
      answered++;
    }
    await expectCounters(() => ({ sent: ioCounters[IoCounter.sent]! }), { sent: answered });
  }, { interimRows: 2, addresses });
});

Deno.test("the loop refuses interim sockets without the control word that releases them", () => {
  assert.throws(
    () =>
      runResponderLoop(
        {
          sockets: [],
          interimSockets: [{ fd: -1, family: 4, wildcard: false, smear: false }],
          controlBuffer: new SharedArrayBuffer(4),
        } as unknown as Parameters<typeof runResponderLoop>[0],
      ),
    /two Int32 words/,
  );
});
