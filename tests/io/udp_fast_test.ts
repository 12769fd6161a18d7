// Tests of the fast (FFI recvmmsg/sendmmsg worker threads) responders over real loopback UDP.
import assert from "node:assert/strict";
import { defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import { startResponders } from "../../src/daemon/responders.ts";
import { clientRequest, expectCounters, openClient } from "./_ntp_exchange.ts";
import {
  assertTimelyReply,
  defineResponderContract,
  startLoopback,
  target,
  uniqueTransmit,
  withFreshPort,
} from "./_responders_contract.ts";

defineResponderContract("fast");

Deno.test("fast: receive timestamps come from the kernel (SO_TIMESTAMPNS) for every datagram", async () => {
  const responders = await startLoopback("fast");
  try {
    await using client = await openClient(4);
    for (let i = 0; i < 20; i++) {
      const transmit = uniqueTransmit();
      assertTimelyReply(await client.exchange(clientRequest(transmit), target(responders, 0)), {
        transmit,
        version: 4,
      });
    }
    await expectCounters(responders.counters, {
      ioReceived: 20,
      ioNoKernelTimestamp: 0,
      ioSent: 20,
    });
  } finally {
    await responders.close();
  }
});

Deno.test("fast: a second server on a port this one holds is refused despite SO_REUSEPORT", async () => {
  const first = await startLoopback("fast", {
    listen: [{ hostname: "127.0.0.1", port: 0, family: 4 }],
  });
  try {
    const port = first.addresses[0]!.port;
    await assert.rejects(
      startLoopback("fast", { listen: [{ hostname: "127.0.0.1", port, family: 4 }] }),
      new RegExp(`cannot bind 127\\.0\\.0\\.1:${port}/udp: address in use by another process`),
    );
    // The first one still answers.
    await using client = await openClient(4);
    const transmit = uniqueTransmit();
    assertTimelyReply(await client.exchange(clientRequest(transmit), target(first, 0)), {
      transmit,
      version: 4,
    });
  } finally {
    await first.close();
  }
});

Deno.test("fast: a wildcard listener answers from the address the request was sent to", async () => {
  const responders = await startLoopback("fast", {
    listen: [{ hostname: "0.0.0.0", port: 0, family: 4 }],
  });
  const port = responders.addresses[0]!.port;
  try {
    responders.onControl((data, client) => responders.sendControlReply(data, client));
    // The client sends from 127.0.0.1 to 127.0.0.2; without pktinfo the reply would leave from
    // 127.0.0.1 (the kernel's route to the client), and a client would drop it.
    await using client = await openClient(4, "127.0.0.1");
    const transmit = uniqueTransmit();
    const exchange = await client.exchange(clientRequest(transmit), { host: "127.0.0.2", port });
    assertTimelyReply(exchange, { transmit, version: 4 });
    assert.equal(exchange!.from.address, "127.0.0.2");
    const control = Uint8Array.of(0x16, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const echoed = await client.exchange(control, { host: "127.0.0.2", port });
    assert.ok(echoed !== null, "no control reply");
    assert.equal(echoed.from.address, "127.0.0.2", "control reply source");
  } finally {
    await responders.close();
  }
});

Deno.test("fast: a responder thread that cannot start rejects startResponders and releases the port", async () => {
  const options = { io: "fast" as const, workers: 2, restrict: [] };
  const { responders: first, port } = await withFreshPort((port) =>
    startResponders({
      ...options,
      listen: [{ hostname: "127.0.0.1", port, family: 4 }],
      rateLimit: defaultRateLimitPolicy,
    })
  );
  await first.close();
  const listen = [{ hostname: "127.0.0.1", port, family: 4 as const }];
  // A restrict rule whose mask does not fit its family: compileRestrict throws in the thread.
  const broken = [{
    family: 4 as const,
    network: new Uint8Array(4),
    mask: new Uint8Array(16),
    flags: [],
  }];
  await assert.rejects(
    startResponders({ ...options, listen, restrict: broken, rateLimit: defaultRateLimitPolicy }),
    /responder thread failed: .*RangeError/,
  );
  const again = await startResponders({ ...options, listen, rateLimit: defaultRateLimitPolicy });
  await again.close();
});

Deno.test("fast: many requests from many sockets are all answered by four workers", async () => {
  const responders = await startLoopback("fast", { workers: 4 });
  try {
    const clients = await Promise.all(Array.from({ length: 16 }, () => openClient(4)));
    try {
      const exchanges = await Promise.all(clients.map(async (client) => {
        for (let i = 0; i < 25; i++) {
          const transmit = uniqueTransmit();
          assertTimelyReply(await client.exchange(clientRequest(transmit), target(responders, 0)), {
            transmit,
            version: 4,
          });
        }
      }));
      assert.equal(exchanges.length, 16);
    } finally {
      await Promise.all(clients.map((client) => client[Symbol.asyncDispose]()));
    }
    await expectCounters(responders.counters, { served: 400, ioSent: 400 });
  } finally {
    await responders.close();
  }
});
