// The tests every responder back end (fast, portable) must pass, over real loopback UDP.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import type { RateLimitPolicy, RestrictRule } from "../../src/core/server/types.ts";
import {
  type IoBackend,
  type Responders,
  type RespondersOptions,
  startResponders,
} from "../../src/daemon/responders.ts";
import { openLibc } from "../../src/io/libc.ts";
import { bindListenSockets, closeSockets } from "../../src/io/udp_listen_sockets.ts";
import {
  clientRequest,
  expectCounters,
  openClient,
  type TimedReply,
  unixAt,
} from "./_ntp_exchange.ts";

/** Starts responders of back end `io` on 127.0.0.1 and ::1 (port 0 unless given). */
export function startLoopback(
  io: IoBackend,
  overrides: Partial<RespondersOptions> = {},
): Promise<Responders> {
  return startResponders({
    io,
    listen: [
      { hostname: "127.0.0.1", port: 0, family: 4 },
      { hostname: "::1", port: 0, family: 6 },
    ],
    workers: 2,
    restrict: [],
    rateLimit: defaultRateLimitPolicy,
    ...overrides,
  });
}

/** Restrict rules giving every IPv4 and IPv6 client `flags`. */
export function everyone(flags: RestrictRule["flags"]): RestrictRule[] {
  return [
    { family: 4, network: new Uint8Array(4), mask: new Uint8Array(4), flags },
    { family: 6, network: new Uint8Array(16), mask: new Uint8Array(16), flags },
  ];
}

/** Where to reach a bound endpoint from a client. */
export function target(responders: Responders, index: number): { host: string; port: number } {
  const address = responders.addresses[index]!;
  return { host: address.hostname, port: address.port };
}

let transmitCounter = 1;

/** A fresh, unique 8-byte transmit timestamp (the origin the reply must echo). */
export function uniqueTransmit(): number[] {
  const value = transmitCounter++;
  return [
    0xde,
    0xad,
    0xbe,
    0xef,
    (value >>> 24) & 255,
    (value >>> 16) & 255,
    (value >>> 8) & 255,
    value & 255,
  ];
}

/**
 * Checks a mode 4 reply to a request with `transmit` and `version`: origin echoed, and the
 * server's receive and transmit timestamps between the client's send and receive times (same
 * machine, same clock), shifted by `shiftSeconds`.
 */
export function assertTimelyReply(
  exchange: TimedReply | null,
  expected: { transmit: readonly number[]; version: number; shiftSeconds?: number },
): void {
  assert.ok(exchange !== null, "no reply");
  const { reply } = exchange;
  assert.equal(reply.length, 48);
  assert.equal(reply[0]! & 7, 4, "mode 4");
  assert.equal((reply[0]! >> 3) & 7, expected.version, "version echoed");
  assert.deepEqual(
    Array.from(reply.subarray(24, 32)),
    expected.transmit,
    "origin = request transmit",
  );
  const shift = expected.shiftSeconds ?? 0;
  const receive = unixAt(reply, 32) - shift;
  const transmit = unixAt(reply, 40) - shift;
  // 2 us of slack: the client's float seconds resolve ~0.24 us; the rest is NTP rounding.
  const slack = shift === 0 ? 2e-6 : 0.05;
  assert.ok(
    receive >= exchange.sentUnixSeconds - slack,
    `receive ${receive} before send ${exchange.sentUnixSeconds}`,
  );
  assert.ok(transmit >= receive - 1e-9, `transmit ${transmit} before receive ${receive}`);
  assert.ok(
    transmit <= exchange.receivedUnixSeconds + slack,
    `transmit ${transmit} after the reply was seen at ${exchange.receivedUnixSeconds}`,
  );
}

async function expectBindError(promise: Promise<Responders>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, "BindError");
    assert.match(error.message, pattern);
    return true;
  });
}

/**
 * Runs `start` on a port picked by the kernel (bound and released synchronously through libc
 * on 0.0.0.0 and ::), retrying with another port if someone else takes it in between (this
 * machine runs other tests at the same time).
 */
export async function withFreshPort(
  start: (port: number) => Promise<Responders>,
): Promise<{ responders: Responders; port: number }> {
  for (let attempt = 1;; attempt++) {
    const libc = openLibc();
    const [row] = bindListenSockets(libc, [
      { hostname: "0.0.0.0", port: 0, family: 4 },
    ], { copies: 1, receiveBufferBytes: 1 << 16, receiveTimeoutMs: 10 }).rows;
    const port = row![0]!.port;
    closeSockets(libc, [row!]);
    try {
      return { responders: await start(port), port };
    } catch (error) {
      if (attempt >= 5 || !(error instanceof Error) || !/address in use/.test(error.message)) {
        throw error;
      }
    }
  }
}

async function portIsFree(host: string, port: number): Promise<boolean> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ port, address: host, exclusive: true }, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/** Registers the shared tests for back end `io`. */
export function defineResponderContract(io: IoBackend): void {
  Deno.test(`${io}: responders answer NTPv3 and NTPv4 requests on 127.0.0.1 and ::1 with timely timestamps`, async () => {
    const responders = await startLoopback(io);
    try {
      assert.equal(responders.io, io);
      for (const index of [0, 1]) {
        const family = responders.addresses[index]!.family;
        // Several client sockets, so that SO_REUSEPORT spreads them over both workers.
        for (let c = 0; c < 4; c++) {
          await using client = await openClient(family);
          for (const version of [3, 4]) {
            const transmit = uniqueTransmit();
            const exchange = await client.exchange(
              clientRequest(transmit, version),
              target(responders, index),
            );
            assertTimelyReply(exchange, { transmit, version });
            assert.equal(exchange!.reply[1], 16, "stratum 16 before the first publish");
            assert.equal(exchange!.reply[0]! >> 6, 3, "leap 3 before the first publish");
            assert.equal(exchange!.reply[3], responders.precisionLog2 & 0xff, "precision");
          }
        }
      }
      await expectCounters(responders.counters, {
        received: 16,
        served: 16,
        ioReceived: 16,
        ioSent: 16,
      });
    } finally {
      await responders.close();
    }
  });

  Deno.test(`${io}: publish() changes what every responder advertises`, async () => {
    const responders = await startLoopback(io);
    try {
      responders.publish({
        leap: 0,
        stratum: 2,
        precisionLog2: -20,
        referenceId: 0xc0000201,
        referenceTime: { seconds: 0xeeb527e0, fraction: 0x80000000 },
        rootDelaySeconds: 0.5,
        rootDispersionSeconds: 0.25,
      });
      for (let c = 0; c < 6; c++) {
        await using client = await openClient(4);
        const transmit = uniqueTransmit();
        const exchange = await client.exchange(clientRequest(transmit), target(responders, 0));
        assertTimelyReply(exchange, { transmit, version: 4 });
        const reply = exchange!.reply;
        assert.equal(reply[0]! >> 6, 0, "leap 0");
        assert.equal(reply[1], 2, "stratum 2");
        assert.equal(reply[3], 0xec, "precision -20");
        assert.deepEqual(
          Array.from(reply.subarray(4, 12)),
          [0, 0, 0x80, 0, 0, 0, 0x40, 0],
          "root delay, dispersion",
        );
        assert.deepEqual(Array.from(reply.subarray(12, 16)), [0xc0, 0, 2, 1], "refid");
        assert.deepEqual(Array.from(reply.subarray(16, 24)), [
          0xee,
          0xb5,
          0x27,
          0xe0,
          0x80,
          0,
          0,
          0,
        ], "reference time");
      }
    } finally {
      await responders.close();
    }
  });

  Deno.test(`${io}: a soft clock correction shifts the receive and transmit timestamps`, async () => {
    const responders = await startLoopback(io);
    const base = {
      leap: 0 as const,
      stratum: 3,
      precisionLog2: -20,
      referenceId: 1,
      referenceTime: { seconds: 1, fraction: 0 },
      rootDelaySeconds: 0,
      rootDispersionSeconds: 0,
    };
    try {
      await using client = await openClient(6);
      responders.publish({ ...base, clockOffsetSeconds: 10 });
      let transmit = uniqueTransmit();
      let exchange = await client.exchange(clientRequest(transmit), target(responders, 1));
      assertTimelyReply(exchange, { transmit, version: 4, shiftSeconds: 10 });
      // 100 ppm for the 1000 s since the epoch: +0.1 s.
      const nowSeconds = Date.now() / 1000;
      responders.publish({ ...base, clockFreqPpm: 100, clockEpochUnixSeconds: nowSeconds - 1000 });
      transmit = uniqueTransmit();
      exchange = await client.exchange(clientRequest(transmit), target(responders, 1));
      assertTimelyReply(exchange, { transmit, version: 4, shiftSeconds: 0.1 });
      const shift = unixAt(exchange!.reply, 40) - exchange!.receivedUnixSeconds;
      assert.ok(shift > 0.09 && shift < 0.11, `shift ${shift}`);
    } finally {
      await responders.close();
    }
  });

  Deno.test(`${io}: a Kiss-o'-Death keeps the request's transmit timestamp`, async () => {
    const strict: RateLimitPolicy = {
      averageLog2: 6,
      minimumSeconds: 2,
      burstPackets: 1,
      tableEntries: 16,
    };
    const responders = await startLoopback(io, {
      workers: 1,
      restrict: everyone(["kod", "limited"]),
      rateLimit: strict,
    });
    try {
      await using client = await openClient(4);
      const first = uniqueTransmit();
      assertTimelyReply(await client.exchange(clientRequest(first), target(responders, 0)), {
        transmit: first,
        version: 4,
      });
      const second = uniqueTransmit();
      const kod = await client.exchange(clientRequest(second), target(responders, 0));
      assert.ok(kod !== null, "no Kiss-o'-Death");
      assert.equal(kod.reply[1], 0, "stratum 0");
      assert.equal(new TextDecoder().decode(kod.reply.subarray(12, 16)), "RATE");
      assert.deepEqual(Array.from(kod.reply.subarray(24, 32)), second, "origin");
      assert.deepEqual(Array.from(kod.reply.subarray(40, 48)), second, "transmit left as sent");
      const third = uniqueTransmit();
      assert.equal(await client.exchange(clientRequest(third), target(responders, 0), 300), null);
      await expectCounters(responders.counters, { kodSent: 1, dropRateLimited: 1, ioSent: 2 });
    } finally {
      await responders.close();
    }
  });

  Deno.test(`${io}: updatePolicy() applies new restrict rules and rate limits at once, keeping the client table`, async () => {
    const policy: RateLimitPolicy = {
      averageLog2: 6,
      minimumSeconds: 2,
      burstPackets: 16,
      tableEntries: 16,
    };
    const responders = await startLoopback(io, {
      restrict: everyone(["limited"]),
      rateLimit: policy,
    });
    try {
      await using v4 = await openClient(4);
      await using v6 = await openClient(6);
      const answered = async (client: typeof v4, index: number, waitMs = 300) => {
        const transmit = uniqueTransmit();
        return await client.exchange(clientRequest(transmit), target(responders, index), waitMs) !==
          null;
      };
      assert.ok(await answered(v4, 0, 2000), "IPv4 answered before the reload");
      assert.ok(await answered(v6, 1, 2000), "IPv6 answered before the reload");
      // IPv4 ignored from now on; IPv6 kept, at a burst of 3 packets.
      responders.updatePolicy({
        restrict: [
          { family: 4, network: new Uint8Array(4), mask: new Uint8Array(4), flags: ["ignore"] },
          ...everyone(["limited"]).filter((rule) => rule.family === 6),
        ],
        rateLimit: { ...policy, burstPackets: 3 },
      });
      // The next batch takes it: a worker blocked in recvmmsg sees it with the first datagram.
      for (let i = 0; i < 3; i++) assert.equal(await answered(v4, 0), false, `IPv4 ignored (${i})`);
      // v6 kept 15 of its 16 credits; the new cap cuts them to 3: 3 answered, then limited.
      const v6Answers: boolean[] = [];
      for (let i = 0; i < 5; i++) v6Answers.push(await answered(v6, 1, 1000));
      assert.deepEqual(v6Answers, [true, true, true, false, false], "IPv6 held to the new burst");
      assert.throws(
        () => responders.updatePolicy({ restrict: [], rateLimit: { ...policy, tableEntries: 32 } }),
        /cannot change that/,
      );
      // The failed update changed nothing: IPv4 still ignored.
      assert.equal(await answered(v4, 0), false, "IPv4 still ignored after a refused update");
      const clients = responders.recentClients(10);
      assert.ok(clients.some((c) => c.address.includes(":")), "the IPv6 client kept its entry");
    } finally {
      await responders.close();
    }
  });

  Deno.test(`${io}: recentClients() lists every client address with its port, counts, version and drops`, async () => {
    const strict: RateLimitPolicy = {
      averageLog2: 6,
      minimumSeconds: 2,
      burstPackets: 2,
      tableEntries: 64,
    };
    // Two workers: the clients are spread over both tables and must come back merged.
    const responders = await startLoopback(io, {
      workers: 2,
      restrict: [
        ...everyone([]),
        // 127.0.0.9 is rate limited (burst 2, no KoD): its third request goes unanswered.
        {
          family: 4,
          network: Uint8Array.of(127, 0, 0, 9),
          mask: new Uint8Array(4).fill(255),
          flags: ["limited"],
        },
      ],
      rateLimit: strict,
    });
    try {
      const before = Date.now() / 1000;
      const sources = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.9"];
      const ports = new Map<string, number>();
      for (const source of sources) {
        await using client = await openClient(4, source);
        const requests = source === "127.0.0.9" ? 3 : 1;
        for (let i = 0; i < requests; i++) {
          const reply = await client.exchange(
            clientRequest(uniqueTransmit(), i === 0 ? 3 : 4),
            target(responders, 0),
            i === 2 ? 300 : 2000,
          );
          assert.equal(reply === null, i === 2, `${source} request ${i}`);
        }
        ports.set(source, client.port);
      }
      await using v6 = await openClient(6);
      assert.ok(await v6.exchange(clientRequest(uniqueTransmit()), target(responders, 1)));
      const after = Date.now() / 1000;

      const clients = responders.recentClients(100);
      assert.deepEqual(
        clients.map((c) => c.address),
        ["::1", "127.0.0.9", "127.0.0.4", "127.0.0.3", "127.0.0.2"],
        "most recent first",
      );
      for (const c of clients) {
        const last = c.lastSeen.seconds - 2_208_988_800 + c.lastSeen.fraction / 2 ** 32;
        assert.ok(last >= before - 0.05 && last <= after + 0.05, `${c.address} last seen ${last}`);
      }
      const limited = clients.find((c) => c.address === "127.0.0.9")!;
      assert.equal(limited.packets, 3);
      assert.equal(limited.droppedPackets, 1);
      assert.equal(limited.version, 4, "version of the last packet");
      assert.equal(limited.mode, 3);
      assert.deepEqual(limited.restrictFlags, ["limited"]);
      assert.equal(limited.port, ports.get("127.0.0.9"));
      const plain = clients.find((c) => c.address === "127.0.0.2")!;
      assert.deepEqual([plain.packets, plain.droppedPackets, plain.version], [1, 0, 3]);
      assert.deepEqual(plain.restrictFlags, []);
      assert.deepEqual(responders.recentClients(2).map((c) => c.address), ["::1", "127.0.0.9"]);
    } finally {
      await responders.close();
    }
  });

  Deno.test(`${io}: mode 6 requests reach onControl and sendControlReply answers them`, async () => {
    const responders = await startLoopback(io);
    try {
      const seen: { data: Uint8Array; port: number }[] = [];
      responders.onControl((data, client) => {
        seen.push({ data, port: client.port });
        const response = new Uint8Array(12);
        response.set(data.subarray(0, 12));
        response[1] = 0x80 | data[1]!; // response bit
        responders.sendControlReply(response, client);
      });
      for (const index of [0, 1]) {
        await using client = await openClient(responders.addresses[index]!.family);
        const request = Uint8Array.of(0x16, 0x01, 0x00, 0x07 + index, 0, 0, 0, 0, 0, 0, 0, 0);
        const exchange = await client.exchange(request, target(responders, index));
        assert.ok(exchange !== null, "no mode 6 response");
        assert.deepEqual(Array.from(exchange.reply), [
          0x16,
          0x81,
          0,
          0x07 + index,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
        ]);
        assert.equal(
          exchange.from.port,
          responders.addresses[index]!.port,
          "answered from the server port",
        );
        assert.deepEqual(Array.from(seen.at(-1)!.data), Array.from(request));
      }
      assert.equal(seen.length, 2);
      await expectCounters(responders.counters, { control: 2, ioControlForwarded: 2 });
    } finally {
      await responders.close();
    }
  });

  Deno.test(`${io}: malformed and mode 7 datagrams are dropped and counted`, async () => {
    const responders = await startLoopback(io);
    try {
      await using client = await openClient(4);
      const mode7 = Uint8Array.of(0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0);
      assert.equal(await client.exchange(mode7, target(responders, 0), 200), null);
      assert.equal(
        await client.exchange(new Uint8Array(20).fill(0x23, 0, 1), target(responders, 0), 200),
        null,
      );
      await expectCounters(responders.counters, {
        ioReceived: 2,
        dropMode7: 1,
        dropTooShort: 1,
        ioSent: 0,
      });
    } finally {
      await responders.close();
    }
  });

  Deno.test(`${io}: an address held by another process is refused with the likely cause`, async () => {
    const holder = dgram.createSocket("udp4");
    await new Promise<void>((resolve) =>
      holder.bind({ port: 0, address: "127.0.0.1", exclusive: true }, () => resolve())
    );
    const port = holder.address().port;
    try {
      await expectBindError(
        startLoopback(io, { listen: [{ hostname: "127.0.0.1", port, family: 4 }] }),
        new RegExp(
          `cannot bind 127\\.0\\.0\\.1:${port}/udp: address in use by another process \\(is chronyd or ntpd running\\?\\)`,
        ),
      );
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  Deno.test(`${io}: [::] and 0.0.0.0 on the same port coexist, and close() frees both`, async () => {
    const { responders, port } = await withFreshPort((port) =>
      startLoopback(io, {
        listen: [
          { hostname: "0.0.0.0", port, family: 4 },
          { hostname: "::", port, family: 6 },
        ],
      })
    );
    try {
      for (const [host, family] of [["127.0.0.1", 4], ["::1", 6]] as const) {
        await using client = await openClient(family);
        const transmit = uniqueTransmit();
        assertTimelyReply(await client.exchange(clientRequest(transmit), { host, port }), {
          transmit,
          version: 4,
        });
      }
    } finally {
      await responders.close();
    }
    assert.ok(await portIsFree("0.0.0.0", port), "IPv4 port still bound after close()");
    assert.ok(await portIsFree("::", port), "IPv6 port still bound after close()");
  });

  Deno.test(`${io}: a port below 1024 without CAP_NET_BIND_SERVICE is refused with the three fixes`, async (t) => {
    const unprivilegedStart = Number(
      (await Deno.readTextFile("/proc/sys/net/ipv4/ip_unprivileged_port_start").catch(() => "1024"))
        .trim(),
    );
    if (unprivilegedStart <= 1) {
      t.step({
        name: "skipped: ip_unprivileged_port_start lets anyone bind port 1",
        ignore: true,
        fn: () => {},
      });
      return;
    }
    const fixture = new URL("./_bind_fixture.ts", import.meta.url).pathname;
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const denoArgs = [
      "run",
      "--config",
      config,
      "--allow-ffi",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      fixture,
      io,
      "127.0.0.1",
      "1",
    ];
    const isRoot = Deno.uid() === 0;
    const command = isRoot
      ? new Deno.Command("setpriv", {
        args: ["--bounding-set=-net_bind_service,-sys_time", "--", Deno.execPath(), ...denoArgs],
        stdout: "piped",
        stderr: "piped",
      })
      : new Deno.Command(Deno.execPath(), { args: denoArgs, stdout: "piped", stderr: "piped" });
    const result = await command.output();
    const stdout = new TextDecoder().decode(result.stdout);
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    assert.match(
      stdout,
      /BindError: cannot bind 127\.0\.0\.1:1\/udp: permission denied; ports below 1024 need privilege: run as root, grant CAP_NET_BIND_SERVICE, or use another port/,
    );
  });
}
