// NTS upstreams in the time keeping, with time, sockets and NTS-KE injected: polls wait for the key exchange and go where it says; only authenticated replies reach the keeper; failed key exchanges are logged and retried after the backoff.
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/mod.ts";
import { handleRequest } from "../../src/core/server/handle_request.ts";
import { AeadId } from "../../src/core/nts/aead.ts";
import { ntpFromUnix, writeTimestamp } from "../../src/core/time/ntp_timestamp.ts";
import type { NtsKeResultLike, RunKeyExchange } from "../../src/daemon/nts_upstreams.ts";
import { startTimeKeeping } from "../../src/daemon/time_keeping.ts";
import { createSoftClock } from "../../src/io/clock_soft.ts";
import { clientSession, cookiesFor, ntsContext } from "../core/nts/_nts_fixture.ts";
import { makeContext } from "../core/server/_context.ts";
import { fakeSockets, manualTime, wallClock } from "./_time_keeping_fakes.ts";

const config = parseConfigText("server 192.0.2.1 iburst nts\n", {
  fileName: "nts.conf",
  format: "ntp.conf",
});

/** A key exchange the test finishes by hand. */
function manualKeyExchange() {
  const calls: Parameters<RunKeyExchange>[0][] = [];
  const settles: { resolve: (r: NtsKeResultLike) => void; reject: (e: Error) => void }[] = [];
  const run: RunKeyExchange = (target) => {
    calls.push(target);
    return new Promise((resolve, reject) => settles.push({ resolve, reject }));
  };
  return {
    run,
    calls,
    /** Ends the latest key exchange well. */
    succeed(result: NtsKeResultLike) {
      settles.at(-1)!.resolve(result);
    },
    succeedCall(index: number, result: NtsKeResultLike) {
      settles[index]!.resolve(result);
    },
    fail(message: string) {
      settles.at(-1)!.reject(new Error(message));
    },
  };
}

/** The responder core with the fixture's cookie keys, writing this host's time. */
function ntsServer() {
  const context = {
    ...makeContext(),
    nts: {
      ...ntsContext(),
      writeTransmitTime: (out: Uint8Array) => {
        const now = wallClock();
        writeTimestamp(
          new DataView(out.buffer, out.byteOffset),
          40,
          ntpFromUnix(now.unixSeconds, now.nanoseconds),
        );
      },
    },
  };
  return (request: Uint8Array): Uint8Array => {
    const out = new Uint8Array(2048);
    const now = wallClock();
    const verdict = handleRequest(
      {
        data: request,
        client: { family: 4, bytes: new Uint8Array([192, 0, 2, 99]), port: 40004 },
        receiveTime: ntpFromUnix(now.unixSeconds, now.nanoseconds),
        monotonicSeconds: 1,
      },
      context,
      out,
    );
    assert.equal(verdict.action, "reply");
    return out.slice(0, verdict.action === "reply" ? verdict.length : 0);
  };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The time keeping of `nts.conf` (or `options.config`) on the injected time, sockets and NTS-KE. */
function startWith(options: {
  readonly time: ReturnType<typeof manualTime>;
  readonly sockets: ReturnType<typeof fakeSockets>;
  readonly ke: ReturnType<typeof manualKeyExchange>;
  readonly config?: typeof config;
  readonly resolve?: Parameters<typeof startTimeKeeping>[0]["resolve"];
}) {
  return startTimeKeeping({
    config: options.config ?? config,
    clock: createSoftClock(),
    precisionLog2: -20,
    onChange: () => {},
    time: options.time,
    openSocket: options.sockets.open,
    runNtsKeyExchange: options.ke.run,
    ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
  });
}

Deno.test("an NTS upstream's first poll waits for the key exchange, then goes with NTS fields to the negotiated port; only the authenticated reply counts", async () => {
  const time = manualTime();
  const sockets = fakeSockets();
  const ke = manualKeyExchange();
  const timeKeeping = await startWith({ time, sockets, ke });
  try {
    assert.equal(ke.calls.length, 1);
    assert.deepEqual(
      { host: ke.calls[0]!.host, connect: ke.calls[0]!.connectAddress, port: ke.calls[0]!.port },
      { host: "192.0.2.1", connect: "192.0.2.1", port: 4460 },
    );
    time.runDue(1); // the first iburst poll is due: nothing may go out in plain NTP
    assert.equal(sockets.sent.length, 0);
    assert.equal(timeKeeping.view().associations[0]!.nts?.phase, "key exchange");
    const session = clientSession();
    ke.succeed({
      keys: { aeadId: AeadId.aesSivCmac256, c2s: session.c2s, s2c: session.s2c },
      cookies: cookiesFor(session, 8),
      ntpServer: "192.0.2.1",
      ntpPort: 1123,
    });
    await flush();
    assert.equal(sockets.sent.length, 1, "the waiting poll went out");
    const request = sockets.sent[0]!;
    assert.equal(request.to, "192.0.2.1:1123");
    assert.ok(request.data.length > 48 + 36 + 108, `NTS fields: ${request.data.length} bytes`);
    const reply = ntsServer()(request.data);
    // A forged plain reply first (right origin, no NTS): dropped before the keeper sees it.
    sockets.deliver(4, { hostname: "192.0.2.1", port: 1123 }, reply.slice(0, 48));
    let view = timeKeeping.view().associations[0]!;
    assert.equal(view.nts?.counters.dropped, 1);
    assert.equal(view.reach, 0);
    sockets.deliver(4, { hostname: "192.0.2.1", port: 1123 }, reply);
    view = timeKeeping.view().associations[0]!;
    assert.equal(view.nts?.counters.authenticated, 1);
    assert.equal(view.nts?.cookies, 8, "7 left + 1 new");
    assert.equal(view.reach, 1, "the authenticated reply reached the filter");
  } finally {
    await timeKeeping.close();
  }
  assert.equal(time.pending(), 0, "a timer outlived close()");
});

Deno.test("a failed NTS key exchange leaves the upstream unusable (nothing sent, the reason in its view) and is tried again after the backoff", async () => {
  const time = manualTime();
  const sockets = fakeSockets();
  const ke = manualKeyExchange();
  const timeKeeping = await startWith({ time, sockets, ke });
  try {
    ke.fail("TLS with 192.0.2.1:4460 failed: its certificate: certificate has expired");
    await flush();
    const view = timeKeeping.view().associations[0]!;
    assert.equal(view.nts?.phase, "failed");
    assert.match(view.nts?.problem ?? "", /certificate has expired/);
    for (let i = 0; i < 30; i++) time.runDue(2); // iburst polls come and go: none is sent
    assert.equal(sockets.sent.length, 0);
    assert.equal(ke.calls.length, 1, "not retried before the backoff (64 s at poll 6)");
    time.runDue(10);
    assert.equal(ke.calls.length, 2, "retried once the backoff passed");
  } finally {
    await timeKeeping.close();
  }
  assert.equal(time.pending(), 0);
});

Deno.test("a key exchange that ends after close() is aborted, sends nothing and leaves no timer", async () => {
  const time = manualTime();
  const sockets = fakeSockets();
  const ke = manualKeyExchange();
  const timeKeeping = await startWith({ time, sockets, ke });
  time.runDue(1);
  await timeKeeping.close();
  assert.equal(ke.calls[0]!.signal.aborted, true, "the running key exchange was told to stop");
  const session = clientSession();
  ke.succeed({
    keys: { aeadId: AeadId.aesSivCmac256, c2s: session.c2s, s2c: session.s2c },
    cookies: cookiesFor(session, 8),
    ntpServer: "192.0.2.1",
    ntpPort: undefined,
  });
  await flush();
  assert.equal(sockets.sent.length, 0);
  assert.equal(time.pending(), 0);
});

Deno.test("NTP goes to the server NTS-KE names (resolved); one that another association already polls fails the key exchange", async () => {
  const time = manualTime();
  const sockets = fakeSockets();
  const ke = manualKeyExchange();
  const resolved: string[] = [];
  const timeKeeping = await startWith({
    time,
    sockets,
    ke,
    config: parseConfigText(
      "server 192.0.2.1 iburst nts\nserver 192.0.2.7 iburst nts\nserver 192.0.2.2 iburst\n",
      { fileName: "nts.conf", format: "ntp.conf" },
    ),
    resolve: (name) => {
      if (!/^[0-9.]+$/.test(name)) resolved.push(name);
      return Promise.resolve(
        name === "ntp.example"
          ? { ok: true, addresses: [{ hostname: "192.0.2.9", family: 4 }], source: "dns" }
          : /^[0-9.]+$/.test(name)
          ? { ok: true, addresses: [{ hostname: name, family: 4 }], source: "literal" }
          : { ok: false, message: `cannot resolve ${name}` },
      );
    },
  });
  try {
    assert.equal(ke.calls.length, 2);
    const session = clientSession();
    const outcome = (ntpServer: string) => ({
      keys: { aeadId: AeadId.aesSivCmac256, c2s: session.c2s, s2c: session.s2c },
      cookies: cookiesFor(session, 8),
      ntpServer,
      ntpPort: undefined,
    });
    time.runDue(1);
    ke.succeedCall(0, outcome("ntp.example"));
    ke.succeedCall(1, outcome("192.0.2.2")); // the plain association's address
    await flush();
    // The association starts afresh at the new address: its first poll within half a second.
    time.runDue(1);
    assert.deepEqual(resolved, ["ntp.example"]);
    const first = timeKeeping.view().associations.find((a) => a.associationId === 1)!;
    assert.equal(first.endpoint.hostname, "192.0.2.9");
    const nts = sockets.sent.filter((s) => s.data.length > 48).map((s) => s.to);
    assert.deepEqual(nts, ["192.0.2.9:123"], "only the first NTS upstream sent, where it was told");
    const second = timeKeeping.view().associations.find((a) => a.associationId === 2)!;
    assert.equal(second.nts?.phase, "failed");
    assert.match(
      second.nts?.problem ?? "",
      /192\.0\.2\.2:123, which 192\.0\.2\.2:123 already polls/,
    );
    assert.equal(second.endpoint.hostname, "192.0.2.7", "its endpoint was left alone");
  } finally {
    await timeKeeping.close();
  }
});

Deno.test("eight polls without an authenticated reply use up the cookies: NTS-KE runs again and the waiting poll goes out with a new cookie", async () => {
  const time = manualTime();
  const sockets = fakeSockets();
  const ke = manualKeyExchange();
  const timeKeeping = await startWith({ time, sockets, ke });
  try {
    const session = clientSession();
    const outcome = (seed: number) => ({
      keys: { aeadId: AeadId.aesSivCmac256, c2s: session.c2s, s2c: session.s2c },
      cookies: cookiesFor(session, 8, { seed }),
      ntpServer: "192.0.2.1",
      ntpPort: undefined,
    });
    ke.succeed(outcome(1));
    await flush();
    // Nobody answers: polls go out until the eight cookies are spent.
    for (let i = 0; i < 600 && sockets.sent.length < 8; i++) time.runDue(2);
    assert.equal(sockets.sent.length, 8);
    assert.equal(ke.calls.length, 2, "a new key exchange as the last cookie went out");
    // Polls meanwhile wait: no request without a cookie.
    for (let i = 0; i < 100; i++) time.runDue(2);
    assert.equal(sockets.sent.length, 8);
    assert.equal(ke.calls.length, 2, "one key exchange at a time");
    const second = outcome(2);
    ke.succeed(second);
    await flush();
    assert.equal(sockets.sent.length, 9, "the poll that waited went out");
    const cookieOf = (request: Uint8Array) => {
      const at = 48 + ((request[50]! << 8) | request[51]!);
      return request.slice(at + 4, at + ((request[at + 2]! << 8) | request[at + 3]!));
    };
    assert.deepEqual(cookieOf(sockets.sent[8]!.data), second.cookies[0], "a cookie of the new set");
  } finally {
    await timeKeeping.close();
  }
});
