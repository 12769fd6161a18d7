// Tests the upstream client transport against a real chronyd -x on loopback: hand-built mode 3, kernel RX stamps.
import assert from "node:assert/strict";
import type { ClockReading } from "../../src/io/clock_driver.ts";
import { readRealtime } from "../../src/io/clock_realtime.ts";
import {
  openUpstreamSocket,
  type UpstreamBackend,
  type UpstreamDatagram,
} from "../../src/io/udp_client.ts";
import { startChronydServer } from "../support/chronyd_server.ts";
import { freeUdpPort } from "../support/ports.ts";

const ntpEraOffsetSeconds = 2_208_988_800;

function secondsOf(reading: ClockReading): number {
  return reading.unixSeconds + reading.nanoseconds * 1e-9;
}

/** The NTP timestamp at `offset` as Unix seconds (era 0). */
function unixAt(packet: Uint8Array, offset: number): number {
  const view = new DataView(packet.buffer, packet.byteOffset);
  return view.getUint32(offset) - ntpEraOffsetSeconds + view.getUint32(offset + 4) / 2 ** 32;
}

/** A mode 3 request built by hand: LI 0, VN 4, mode 3, poll 6, a random transmit timestamp. */
function modeThreeRequest(): { request: Uint8Array; transmit: Uint8Array } {
  const request = new Uint8Array(48);
  request[0] = (0 << 6) | (4 << 3) | 3;
  request[2] = 6;
  const transmit = crypto.getRandomValues(new Uint8Array(8));
  request.set(transmit, 40);
  return { request, transmit };
}

/** A queue of received datagrams with a waiting reader. */
function inbox() {
  const queue: UpstreamDatagram[] = [];
  let wake: (() => void) | undefined;
  return {
    push: (datagram: UpstreamDatagram) => {
      queue.push(datagram);
      wake?.();
    },
    async next(timeoutMs = 2000): Promise<UpstreamDatagram | null> {
      const deadline = performance.now() + timeoutMs;
      while (queue.length === 0) {
        const left = deadline - performance.now();
        if (left <= 0) return null;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
        wake = undefined;
      }
      return queue.shift()!;
    },
  };
}

async function exchangeWithChronyd(
  options: { family: 4 | 6; hostname: string; port: number; backend: UpstreamBackend },
) {
  const received = inbox();
  await using socket = await openUpstreamSocket({
    family: options.family,
    backend: options.backend,
    onDatagram: received.push,
  });
  assert.equal(socket.backend, options.backend);
  assert.ok(socket.localPort > 0);
  const samples = [];
  for (let round = 0; round < 5; round++) {
    const { request, transmit } = modeThreeRequest();
    const sent = socket.send(request, { hostname: options.hostname, port: options.port });
    assert.ok(sent.ok, sent.ok ? "" : sent.message);
    const reply = await received.next();
    const userNow = readRealtime();
    assert.ok(reply !== null, "chronyd answered");
    assert.deepEqual(reply.from, {
      hostname: options.hostname,
      port: options.port,
      family: options.family,
    });
    assert.equal(reply.data.length, 48);
    assert.equal(reply.data[0]! & 7, 4, "mode 4");
    assert.equal(reply.data[1], 10, "local stratum 10");
    assert.deepEqual(reply.data.slice(24, 32), transmit, "origin echoes our transmit bytes");
    const t1 = secondsOf(sent.transmitKernel);
    const t2 = unixAt(reply.data, 32);
    const t3 = unixAt(reply.data, 40);
    const t4 = secondsOf(reply.receiveKernel);
    // One host clock: the four stamps are in order (1 us slack for rounding to NTP format).
    assert.ok(t1 <= t2 + 1e-6 && t2 <= t3 && t3 <= t4 + 1e-6, `${t1} ${t2} ${t3} ${t4}`);
    const ageSeconds = secondsOf(userNow) - t4;
    assert.ok(ageSeconds >= 0 && ageSeconds < 0.05, `receive stamp is ${ageSeconds} s old`);
    samples.push({ delay: (t4 - t1) - (t3 - t2), offset: ((t2 - t1) + (t3 - t4)) / 2, reply });
  }
  return samples;
}

Deno.test("the upstream socket exchanges hand-built mode 3 requests with chronyd -x on loopback", async (t) => {
  const port = await freeUdpPort("127.0.0.1", { alsoFreeOn: "::1" });
  await using chronyd = await startChronydServer({ port, bindAddresses: ["127.0.0.1", "::1"] });
  assert.ok(chronyd.describe().includes("chronyd"));

  await t.step("over IPv4 with kernel receive timestamps (FFI, no worker)", async () => {
    const samples = await exchangeWithChronyd({
      family: 4,
      hostname: "127.0.0.1",
      port,
      backend: "ffi",
    });
    for (const sample of samples) {
      assert.equal(sample.reply.receiveSource, "kernel");
      assert.ok(sample.delay >= -1e-6 && sample.delay < 0.005, `delay ${sample.delay}`);
      assert.ok(Math.abs(sample.offset) < 0.001, `offset ${sample.offset}`);
    }
    console.log(
      `IPv4 ffi: delays ${samples.map((s) => (s.delay * 1e6).toFixed(1)).join(" ")} us, ` +
        `offsets ${samples.map((s) => (s.offset * 1e6).toFixed(1)).join(" ")} us`,
    );
  });

  await t.step("over IPv6 with kernel receive timestamps (FFI, no worker)", async () => {
    const samples = await exchangeWithChronyd({ family: 6, hostname: "::1", port, backend: "ffi" });
    for (const sample of samples) assert.equal(sample.reply.receiveSource, "kernel");
  });

  await t.step("over node:dgram when FFI is not used, stamped in user space", async () => {
    const samples = await exchangeWithChronyd({
      family: 4,
      hostname: "127.0.0.1",
      port,
      backend: "dgram",
    });
    for (const sample of samples) assert.equal(sample.reply.receiveSource, "user");
    console.log(
      `IPv4 dgram: delays ${samples.map((s) => (s.delay * 1e6).toFixed(1)).join(" ")} us`,
    );
  });
});

Deno.test("send() returns errors as values for a wrong family, a bad port or an oversized datagram", async () => {
  for (const backend of ["ffi", "dgram"] as const) {
    await using socket = await openUpstreamSocket({ family: 4, backend, onDatagram: () => {} });
    const wrongFamily = socket.send(new Uint8Array(48), { hostname: "::1", port: 123 });
    assert.equal(wrongFamily.ok, false);
    assert.match(!wrongFamily.ok ? wrongFamily.message : "", /is IPv6, not IPv4/);
    const badPort = socket.send(new Uint8Array(48), { hostname: "127.0.0.1", port: 0 });
    assert.deepEqual(badPort, { ok: false, message: "Cannot send to port 0: not in 1..65535" });
  }
  await using socket = await openUpstreamSocket({
    family: 4,
    backend: "ffi",
    onDatagram: () => {},
  });
  const big = socket.send(new Uint8Array(4000), { hostname: "127.0.0.1", port: 9 });
  assert.deepEqual(big, { ok: false, message: "Cannot send 4000 bytes: at most 2048" });
});

/** This process's thread count (ps; Deno refuses /proc/self without --allow-all). */
async function threadCount(): Promise<number> {
  const output = await new Deno.Command("ps", {
    args: ["-o", "nlwp=", "-p", String(Deno.pid)],
    stdout: "piped",
  }).output();
  return Number(new TextDecoder().decode(output.stdout).trim());
}

Deno.test("close() stops receiving at once and delivers nothing afterwards", async () => {
  // The runtime keeps a thread for off-thread calls once it has made one: let it exist first.
  await (await openUpstreamSocket({ family: 4, backend: "ffi", onDatagram: () => {} })).close();
  const threadsBefore = await threadCount();
  const received = inbox();
  const socket = await openUpstreamSocket({ family: 4, backend: "ffi", onDatagram: received.push });
  // Send to ourselves: the datagram comes back through the off-thread poll.
  const self = socket.send(new Uint8Array([1, 2, 3]), {
    hostname: "127.0.0.1",
    port: socket.localPort,
  });
  assert.ok(self.ok);
  const echoed = await received.next();
  assert.deepEqual(echoed?.data, new Uint8Array([1, 2, 3]));
  assert.equal(echoed?.receiveSource, "kernel");
  const started = performance.now();
  await socket.close();
  const closeMs = performance.now() - started;
  assert.ok(closeMs < 200, `close took ${closeMs} ms`);
  await socket.close(); // idempotent
  assert.equal(await received.next(100), null);
  // The port is free again and no thread is left behind by this socket.
  await using again = await openUpstreamSocket({
    family: 4,
    backend: "ffi",
    bindAddress: "127.0.0.1",
    port: socket.localPort,
    onDatagram: () => {},
  });
  assert.equal(again.localPort, socket.localPort);
  await again.close();
  const threadsAfter = await threadCount();
  assert.ok(threadsAfter <= threadsBefore, `${threadsAfter} threads, ${threadsBefore} before`);
});

Deno.test("openUpstreamSocket() rejects with the address when the port is taken", async () => {
  await using first = await openUpstreamSocket({ family: 4, backend: "ffi", onDatagram: () => {} });
  await assert.rejects(
    openUpstreamSocket({
      family: 4,
      backend: "ffi",
      bindAddress: "0.0.0.0",
      port: first.localPort,
      onDatagram: () => {},
    }),
    new RegExp(
      `Cannot set up upstream socket 0\\.0\\.0\\.0:${first.localPort}/udp: bind failed: Address already in use`,
    ),
  );
});
