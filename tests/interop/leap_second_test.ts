// A leap second on the soft clock, for real: three references shifted to just before 2027-07-01 00:00 UTC announce an insertion and repeat their last second; ntp serve --clock soft announces it to its clients (LI 1), steps back one second with them, and clears LI after it. A lone reference announcing is outvoted.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { startLeapReference } from "../support/leap_reference_server.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";

const leapUnixSeconds = Date.UTC(2027, 6, 1) / 1000;
/** tzdata's file: it expired on 2026-06-28, so the upstreams' vote decides (on June 30 only). */
const expiredLeapFile = decodeURIComponent(
  new URL("../testdata/leap/tzdata-2025b-leap-seconds.list", import.meta.url).pathname,
);

interface Served {
  /** Host time when the reply came, Unix seconds. */
  readonly hostSeconds: number;
  /** The served transmit time, Unix seconds. */
  readonly servedSeconds: number;
  readonly leap: number;
  readonly stratum: number;
}

/** Asks `port` every 250 ms for `seconds`; every reply with its host arrival time. */
async function watchServed(port: number, seconds: number): Promise<Served[]> {
  const socket = dgram.createSocket("udp4");
  const samples: Served[] = [];
  socket.on("message", (message: Uint8Array) => {
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    samples.push({
      hostSeconds: Date.now() / 1000,
      servedSeconds: view.getUint32(40) - 2_208_988_800 + view.getUint32(44) / 2 ** 32,
      leap: message[0]! >> 6,
      stratum: message[1]!,
    });
  });
  const request = new Uint8Array(48);
  request[0] = 0x23;
  const deadline = performance.now() + seconds * 1000;
  try {
    while (performance.now() < deadline) {
      socket.send(request, port, "127.0.0.1");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    socket.close();
  }
  return samples;
}

async function runAcrossLeap(announcing: readonly (0 | 1)[]) {
  const references = [];
  const ports: number[] = [];
  for (const announce of announcing) {
    const port = await freeUdpPort();
    ports.push(port);
    references.push(
      await startLeapReference({
        address: "127.0.0.1",
        port,
        leapUnixSeconds,
        secondsBeforeLeap: 25,
        announce,
      }),
    );
  }
  const shift = references[0]!.shiftSeconds;
  const servePort = await freeUdpPort();
  try {
    await using server = await startNtpServer({
      config: [
        ...ports.map((p) => `server 127.0.0.1 port ${p} iburst minpoll 3 maxpoll 3`),
        "tinker panic 0",
        `leapfile ${expiredLeapFile}`,
        "",
      ].join("\n"),
      configFormat: "conf",
      listen: [`127.0.0.1:${servePort}`],
      clock: "soft",
    });
    const samples = (await watchServed(servePort, 35)).filter((s) => s.stratum === 2);
    return { samples, shift, stderr: server.stderr };
  } finally {
    for (const reference of references) await reference[Symbol.asyncDispose]();
  }
}

Deno.test({
  name:
    "three references announcing: LI 1 served on 2027-06-30, the served time steps back one second at midnight with them, LI 0 after",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { samples, shift, stderr } = await runAcrossLeap([1, 1, 1]);
    const hostLeap = leapUnixSeconds - shift; // host time of the references' leap
    const before = samples.filter((s) => s.hostSeconds < hostLeap - 0.5);
    const after = samples.filter((s) => s.hostSeconds > hostLeap + 0.5);
    assert.ok(before.length >= 20 && after.length >= 20, `${before.length} / ${after.length}`);
    const offset = (s: Served) => s.servedSeconds - s.hostSeconds - shift;
    for (const s of before) {
      assert.ok(Math.abs(offset(s)) < 0.05, `before: ${offset(s)}`);
      assert.equal(s.leap, 1, `LI before the leap at ${s.servedSeconds - leapUnixSeconds}`);
    }
    for (const s of after) {
      assert.ok(Math.abs(offset(s) + 1) < 0.05, `after: ${offset(s)} (one second back)`);
    }
    assert.ok(after.slice(-10).every((s) => s.leap === 0), "LI cleared after the leap");
    // Never past midnight before stepping back (the repeated second is served twice instead).
    const late = samples.filter((s) =>
      s.servedSeconds >= leapUnixSeconds + 0.1 &&
      s.hostSeconds < hostLeap + 0.5
    );
    assert.deepEqual(late.map(offset), []);
    assert.match(stderr, /leap second announced \(LI 1, from the upstreams\)/);
    assert.match(
      stderr,
      /soft clock: leap second inserted \(23:59:59 repeated\) at 2027-07-01T00:00:00/,
    );
    console.log(
      `served ${samples.length} replies; offset before ${
        (before.map(offset).reduce((a, b) => a + b, 0) / before.length * 1e3).toFixed(1)
      } ms, after ${
        (after.map(offset).reduce((a, b) => a + b, 0) / after.length * 1e3).toFixed(1)
      } ms`,
    );
  },
});

Deno.test({
  name: "one reference of three announcing decides nothing: no LI, no step",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { samples, shift, stderr } = await runAcrossLeap([1, 0, 0]);
    assert.ok(samples.length > 40);
    assert.ok(samples.every((s) => s.leap === 0), "never announced");
    const offsets = samples.map((s) => s.servedSeconds - s.hostSeconds - shift);
    assert.ok(
      offsets.every((o) => Math.abs(o) < 0.05),
      `offsets ${Math.min(...offsets)}..${Math.max(...offsets)}`,
    );
    assert.doesNotMatch(stderr, /leap second (announced|inserted)/);
  },
});
