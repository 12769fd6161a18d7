// Tests the delaying UDP relay: measured added delay per direction, jitter, loss, bounds and self-stopping.
import assert from "node:assert/strict";
import {
  openUpstreamSocket,
  type UpstreamDatagram,
  type UpstreamSocket,
} from "../../src/io/udp_client.ts";
import { startUdpRelay } from "../support/udp_relay.ts";

/** An echo server that notes when the kernel received each datagram (by its first two bytes). */
async function startEcho() {
  const arrivals = new Map<number, number>();
  const socket: UpstreamSocket = await openUpstreamSocket({
    family: 4,
    bindAddress: "127.0.0.1",
    onDatagram: ({ data, from, receiveKernel }) => {
      arrivals.set(
        data[0]! | (data[1]! << 8),
        receiveKernel.unixSeconds + receiveKernel.nanoseconds * 1e-9,
      );
      socket.send(data, from);
    },
  });
  return { port: socket.localPort, arrivals, [Symbol.asyncDispose]: () => socket.close() };
}

/** Sends `count` numbered datagrams `gapMs` apart through `port` and times each one way. */
async function measure(port: number, options: { count: number; gapMs: number; waitMs: number }) {
  const replies = new Map<number, UpstreamDatagram>();
  const sent = new Map<number, number>();
  await using socket = await openUpstreamSocket({
    family: 4,
    onDatagram: (datagram) => replies.set(datagram.data[0]! | (datagram.data[1]! << 8), datagram),
  });
  for (let id = 0; id < options.count; id++) {
    const outcome = socket.send(new Uint8Array([id & 0xff, id >> 8, 0, 0]), {
      hostname: "127.0.0.1",
      port,
    });
    assert.ok(outcome.ok);
    sent.set(id, outcome.transmitKernel.unixSeconds + outcome.transmitKernel.nanoseconds * 1e-9);
    if (options.gapMs > 0) await new Promise((resolve) => setTimeout(resolve, options.gapMs));
  }
  await new Promise((resolve) => setTimeout(resolve, options.waitMs));
  return { replies, sent };
}

function summary(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
  return { min: sorted[0]!, max: sorted.at(-1)!, mean, sd, median: sorted[values.length >> 1]! };
}

Deno.test("the relay adds the configured asymmetric delay in each direction", async () => {
  await using echo = await startEcho();
  await using relay = await startUdpRelay({
    target: { hostname: "127.0.0.1", port: echo.port },
    toTarget: { delayMs: 20 },
    toClient: { delayMs: 5 },
  });
  const { replies, sent } = await measure(relay.port, { count: 20, gapMs: 10, waitMs: 100 });
  assert.equal(replies.size, 20);
  const outMs: number[] = [];
  const backMs: number[] = [];
  for (const [id, reply] of replies) {
    const t1 = sent.get(id)!;
    const t2 = echo.arrivals.get(id)!;
    const t4 = reply.receiveKernel.unixSeconds + reply.receiveKernel.nanoseconds * 1e-9;
    outMs.push((t2 - t1) * 1000);
    backMs.push((t4 - t2) * 1000);
  }
  const out = summary(outMs);
  const back = summary(backMs);
  console.log(
    `out: min ${out.min.toFixed(3)} median ${out.median.toFixed(3)} max ${
      out.max.toFixed(3)
    } ms; ` +
      `back: min ${back.min.toFixed(3)} median ${back.median.toFixed(3)} max ${
        back.max.toFixed(3)
      } ms`,
  );
  assert.ok(out.min >= 20 && out.median < 22.5, `out ${JSON.stringify(out)}`);
  assert.ok(back.min >= 5 && back.median < 7.5, `back ${JSON.stringify(back)}`);
  assert.deepEqual(relay.stats(), {
    forwardedToTarget: 20,
    forwardedToClient: 20,
    lostToTarget: 0,
    lostToClient: 0,
    droppedOverflow: 0,
    clients: 1,
    evictedClients: 0,
  });
});

Deno.test("the relay's jitter spreads the delay over [delay, delay + jitter)", async () => {
  await using echo = await startEcho();
  await using relay = await startUdpRelay({
    target: { hostname: "127.0.0.1", port: echo.port },
    toTarget: { delayMs: 2, jitterMs: 10 },
    seed: 7,
  });
  const { replies, sent } = await measure(relay.port, { count: 60, gapMs: 2, waitMs: 100 });
  assert.equal(replies.size, 60);
  const outMs = [...replies.keys()].map((id) => (echo.arrivals.get(id)! - sent.get(id)!) * 1000);
  const out = summary(outMs);
  console.log(
    `jittered out: min ${out.min.toFixed(3)} max ${out.max.toFixed(3)} sd ${out.sd.toFixed(3)} ms`,
  );
  assert.ok(out.min >= 2, `min ${out.min}`);
  // The relay shares this process's event loop with the client and the echo server, so a few
  // datagrams come late; nine in ten must be within the window (+0.5 ms).
  const inside = outMs.filter((ms) => ms < 12.5).length;
  assert.ok(inside >= 54, `${inside} of 60 within 2..12.5 ms`);
  // Uniform over 10 ms has a standard deviation of 2.9 ms.
  assert.ok(out.sd > 2 && out.sd < 4, `sd ${out.sd}`);
});

Deno.test("the relay drops the configured share of datagrams, the same ones for the same seed", async () => {
  await using echo = await startEcho();
  const run = async () => {
    await using relay = await startUdpRelay({
      target: { hostname: "127.0.0.1", port: echo.port },
      toTarget: { lossRate: 0.3 },
      toClient: { lossRate: 0.1 },
      seed: 42,
    });
    const { replies } = await measure(relay.port, { count: 200, gapMs: 0, waitMs: 200 });
    return { stats: relay.stats(), received: [...replies.keys()].sort((a, b) => a - b) };
  };
  const first = await run();
  const second = await run();
  console.log(`loss: ${JSON.stringify(first.stats)}`);
  assert.ok(first.stats.lostToTarget >= 40 && first.stats.lostToTarget <= 80);
  assert.ok(first.stats.lostToClient >= 5 && first.stats.lostToClient <= 25);
  assert.equal(first.received.length, 200 - first.stats.lostToTarget - first.stats.lostToClient);
  assert.deepEqual(second, first);
});

Deno.test("the relay holds at most maxQueued datagrams and counts the rest as dropped", async () => {
  await using echo = await startEcho();
  await using relay = await startUdpRelay({
    target: { hostname: "127.0.0.1", port: echo.port },
    toTarget: { delayMs: 100 },
    maxQueued: 5,
  });
  const { replies } = await measure(relay.port, { count: 20, gapMs: 0, waitMs: 250 });
  assert.equal(replies.size, 5);
  assert.equal(relay.stats().droppedOverflow, 15);
});

Deno.test("the relay serves more clients than maxClients by evicting the least recently used", async () => {
  await using echo = await startEcho();
  await using relay = await startUdpRelay({
    target: { hostname: "127.0.0.1", port: echo.port },
    maxClients: 2,
  });
  for (let client = 0; client < 3; client++) {
    const { replies } = await measure(relay.port, { count: 2, gapMs: 5, waitMs: 100 });
    assert.equal(replies.size, 2, `client ${client}`);
  }
  const stats = relay.stats();
  assert.equal(stats.clients, 3);
  assert.equal(stats.evictedClients, 1);
  assert.equal(stats.forwardedToClient, 6);
  await relay.close();
  // The listen port is free again.
  await using again = await openUpstreamSocket({
    family: 4,
    bindAddress: "127.0.0.1",
    port: relay.port,
    onDatagram: () => {},
  });
  assert.equal(again.localPort, relay.port);
});

Deno.test("the relay stops by itself when idle and clears its held datagrams", async () => {
  await using echo = await startEcho();
  const relay = await startUdpRelay({
    target: { hostname: "127.0.0.1", port: echo.port },
    idleExitMs: 100,
    lifetimeMs: 5000,
  });
  const started = performance.now();
  assert.equal(await relay.stopped, "idle for 100 ms");
  assert.ok(performance.now() - started < 1000);
  await relay.close();
  const short = await startUdpRelay({
    target: { hostname: "127.0.0.1", port: echo.port },
    toTarget: { delayMs: 10_000 },
    lifetimeMs: 150,
  });
  const { replies } = await measure(short.port, { count: 3, gapMs: 0, waitMs: 0 });
  assert.equal(replies.size, 0);
  assert.equal(await short.stopped, "lifetime of 150 ms reached");
});

Deno.test("the relay runs as a command and prints its counters when stopped", async () => {
  await using echo = await startEcho();
  const child = new Deno.Command("setpriv", {
    args: [
      "--bounding-set=-sys_time",
      "--",
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-ffi",
      "--allow-read",
      new URL("../support/udp_relay.ts", import.meta.url).pathname,
      "--target",
      `127.0.0.1:${echo.port}`,
      "--delay-out",
      "3",
      "--delay-back",
      "1",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/RELAY \d+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const port = Number(/RELAY (\d+)/.exec(text)![1]);
  const { replies } = await measure(port, { count: 3, gapMs: 0, waitMs: 50 });
  assert.equal(replies.size, 3);
  child.kill("SIGTERM");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  const last = JSON.parse(text.trim().split("\n").at(-1)!);
  assert.equal(last.stopped, "closed");
  assert.equal(last.forwardedToTarget, 3);
  assert.equal(last.forwardedToClient, 3);
});
