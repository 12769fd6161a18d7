// The NTS-KE server over real TLS (Deno's TLS client): answers, refusals and the limits that keep floods harmless.
import assert from "node:assert/strict";
import { type NtsKeServer, startNtsKeServer } from "../../src/io/nts_ke_server.ts";
import { TlsServerContext, TlsSetupError } from "../../src/io/tls_server_openssl.ts";
import {
  encodeKeRecords,
  KeRecordType,
  readKeMessage,
  uint16Body,
  uint16Values,
} from "../../src/core/nts/ke_records.ts";
import { makeTestCertificates, type TestCertificates } from "../support/test_ca.ts";
import { timeBudgetScale } from "../support/time_budget.ts";

let certificates: TestCertificates | undefined;
async function certs(): Promise<TestCertificates> {
  certificates ??= await makeTestCertificates(["127.0.0.1", "localhost"]);
  return certificates;
}

const request = encodeKeRecords([
  { critical: true, type: KeRecordType.nextProtocol, body: uint16Body([0]) },
  { critical: true, type: KeRecordType.aeadAlgorithm, body: uint16Body([15]) },
]);

async function withServer(
  limits: Parameters<typeof startNtsKeServer>[0]["limits"],
  body: (server: NtsKeServer, ca: string) => Promise<void>,
): Promise<void> {
  const c = await certs();
  using tls = TlsServerContext.load({
    certificateFile: c.certificateFile,
    keyFile: c.keyFile,
    alpn: "ntske/1",
  });
  const issued: number[] = [];
  const server = startNtsKeServer({
    listen: [{ hostname: "127.0.0.1", port: 0 }],
    tls: () => tls,
    issueCookies: (keys, count) => {
      issued.push(count);
      assert.equal(keys.c2s.length, 32);
      assert.notDeepEqual([...keys.c2s], [...keys.s2c]);
      return Array.from({ length: count }, (_, i) => new Uint8Array(104).fill(i));
    },
    aeads: [15],
    ntpPort: () => 12323,
    ...(limits === undefined ? {} : { limits }),
    monotonicSeconds: () => performance.now() / 1000,
  });
  try {
    await body(server, await Deno.readTextFile(c.caFile));
  } finally {
    await server.close();
  }
}

async function exchange(
  port: number,
  ca: string,
  bytes: Uint8Array,
  alpn = ["ntske/1"],
): Promise<Uint8Array> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [ca],
    alpnProtocols: alpn,
  });
  try {
    await conn.write(bytes);
    const chunks: number[] = [];
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(...buffer.subarray(0, n));
    }
    return new Uint8Array(chunks);
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

Deno.test("a request gets NTPv4, AES-SIV-CMAC-256, the NTP port and 8 cookies, then the server closes", async () => {
  await withServer(undefined, async (server, ca) => {
    const answer = await exchange(server.addresses[0]!.port, ca, request);
    const read = readKeMessage(answer, { maxMessageBytes: 65536, maxRecordBodyBytes: 65535 });
    assert.equal(read.status, "complete");
    if (read.status !== "complete") return;
    const types = read.records.map((r) => r.type);
    assert.deepEqual(types.slice(0, 3), [
      KeRecordType.nextProtocol,
      KeRecordType.aeadAlgorithm,
      KeRecordType.ntpv4Port,
    ]);
    assert.deepEqual(uint16Values(read.records[1]!.body), [15]);
    assert.deepEqual(uint16Values(read.records[2]!.body), [12323]);
    assert.equal(types.filter((t) => t === KeRecordType.newCookie).length, 8);
    assert.equal(server.counters.keysIssued, 1);
    assert.equal(server.counters.cookiesIssued, 8);
  });
});

Deno.test("a request split over many writes is read whole", async () => {
  await withServer(undefined, async (server, ca) => {
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: server.addresses[0]!.port,
      caCerts: [ca],
      alpnProtocols: ["ntske/1"],
    });
    for (const byte of request) {
      await conn.write(new Uint8Array([byte]));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const buffer = new Uint8Array(4096);
    let total = 0;
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      total += n;
    }
    conn.close();
    assert.ok(total > 8 * 108, `got ${total} bytes`);
  });
});

Deno.test("a request without an AEAD record gets Error 1 (bad request); an unknown critical record Error 0", async () => {
  await withServer(undefined, async (server, ca) => {
    const port = server.addresses[0]!.port;
    const noAead = encodeKeRecords([{
      critical: true,
      type: KeRecordType.nextProtocol,
      body: uint16Body([0]),
    }]);
    assert.deepEqual([...await exchange(port, ca, noAead)], [0x80, 2, 0, 2, 0, 1, 0x80, 0, 0, 0]);
    const unknown = encodeKeRecords([
      { critical: true, type: KeRecordType.nextProtocol, body: uint16Body([0]) },
      { critical: true, type: KeRecordType.aeadAlgorithm, body: uint16Body([15]) },
      { critical: true, type: 4000, body: new Uint8Array(0) },
    ]);
    assert.deepEqual([...await exchange(port, ca, unknown)], [0x80, 2, 0, 2, 0, 0, 0x80, 0, 0, 0]);
    assert.equal(server.counters.errorsSent, 2);
    assert.equal(server.counters.keysIssued, 0);
  });
});

Deno.test("a request over the size limit gets Error 1 without waiting for its end", async () => {
  await withServer({ maxRequestBytes: 256 }, async (server, ca) => {
    const huge = new Uint8Array(600);
    huge.set([0, 9, 0x02, 0x50]); // a non-critical record of 592 bytes, no End of Message
    const answer = await exchange(server.addresses[0]!.port, ca, huge);
    assert.deepEqual([...answer], [0x80, 2, 0, 2, 0, 1, 0x80, 0, 0, 0]);
    assert.equal(server.counters.badRequests, 1);
  });
});

Deno.test("a client without ALPN ntske/1 is refused at the handshake", async () => {
  await withServer(undefined, async (server, ca) => {
    await assert.rejects(() => exchange(server.addresses[0]!.port, ca, request, ["http/1.1"]));
    // The server may count the failure just after the client saw it.
    for (let i = 0; i < 50 && server.counters.tlsFailures === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(server.counters.tlsFailures, 1);
  });
});

Deno.test("a connection that sends nothing is closed after the timeout; the connection limit closes extra ones at once", async () => {
  await withServer({ timeoutMs: 300, maxConnections: 2 }, async (server) => {
    const port = server.addresses[0]!.port;
    const idle = [
      await Deno.connect({ hostname: "127.0.0.1", port }),
      await Deno.connect({ hostname: "127.0.0.1", port }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.openConnections, 2);
    const extra = await Deno.connect({ hostname: "127.0.0.1", port });
    const started = performance.now();
    assert.equal(await extra.read(new Uint8Array(10)).catch(() => null), null, "extra closed");
    assert.ok(performance.now() - started < 250 * timeBudgetScale());
    extra.close();
    for (const conn of idle) {
      assert.equal(await conn.read(new Uint8Array(10)).catch(() => null), null);
      conn.close();
    }
    assert.ok(performance.now() - started >= 200, "idle ones lasted until the timeout");
    assert.equal(server.counters.refused, 1);
    assert.equal(server.counters.timeouts, 2);
    assert.equal(server.openConnections, 0);
  });
});

Deno.test("one source may open perSourceBurst connections, then perSourceRate per second", async () => {
  await withServer({ perSourceBurst: 3, perSourceRate: 0.01 }, async (server, ca) => {
    const port = server.addresses[0]!.port;
    for (let i = 0; i < 3; i++) assert.ok((await exchange(port, ca, request)).length > 100);
    await assert.rejects(() => exchange(port, ca, request));
    assert.equal(server.counters.refused, 1);
  });
});

Deno.test("TlsServerContext.load() names the file at fault: missing certificate, key of another certificate", async () => {
  const c = await certs();
  assert.throws(
    () =>
      TlsServerContext.load({
        certificateFile: `${c.dir}/nope.pem`,
        keyFile: c.keyFile,
        alpn: "ntske/1",
      }),
    (error: Error) => error instanceof TlsSetupError && error.message.includes("nope.pem"),
  );
  assert.throws(
    () =>
      TlsServerContext.load({
        certificateFile: c.certificateFile,
        keyFile: c.expiredKeyFile,
        alpn: "ntske/1",
      }),
    (error: Error) => error instanceof TlsSetupError && error.message.includes("expired.key"),
  );
});

Deno.test("validity() reads the certificate's dates: the test certificate runs 30 days, the expired one ended yesterday", async () => {
  const c = await certs();
  using good = TlsServerContext.load({
    certificateFile: c.certificateFile,
    keyFile: c.keyFile,
    alpn: "ntske/1",
  });
  const validity = good.validity()!;
  const days = (validity.notAfter.getTime() - Date.now()) / 86400_000;
  assert.ok(days > 29 && days <= 30, `${days} days left`);
  using expired = TlsServerContext.load({
    certificateFile: c.expiredCertificateFile,
    keyFile: c.expiredKeyFile,
    alpn: "ntske/1",
  });
  const ended = (Date.now() - expired.validity()!.notAfter.getTime()) / 86400_000;
  assert.ok(ended > 0.99 && ended < 1.01, `ended ${ended} days ago`);
});

Deno.test("cleanup: the test CA directory", async () => {
  if (certificates !== undefined) await Deno.remove(certificates.dir, { recursive: true });
});
