// The time keeping's wiring with its time and sockets injected: a datagram during startup is handled, a failed socket leaves nothing open, close() stops every timer and socket.
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/mod.ts";
import { startTimeKeeping } from "../../src/daemon/time_keeping.ts";
import { createSoftClock } from "../../src/io/clock_soft.ts";
import { answer, fakeSockets, manualTime } from "./_time_keeping_fakes.ts";

const twoFamilies = parseConfigText(
  "server 192.0.2.1 iburst\nserver 2001:db8::1 iburst\n",
  { fileName: "test.conf", format: "ntp.conf" },
);

/** Starts the time keeping on the soft clock with `time` and `sockets` injected. */
function start(
  config: ReturnType<typeof parseConfigText>,
  time: ReturnType<typeof manualTime>,
  sockets: ReturnType<typeof fakeSockets>,
  onChange: () => void = () => {},
) {
  return startTimeKeeping({
    config,
    clock: createSoftClock(),
    precisionLog2: -20,
    onChange,
    time,
    openSocket: sockets.open,
  });
}

/** A 48-byte mode 4 reply with a zero origin: a bogus answer the keeper must drop, not choke on. */
function strayReply(): Uint8Array {
  const reply = new Uint8Array(48);
  reply[0] = (4 << 3) | 4;
  reply[1] = 1;
  return reply;
}

Deno.test("a datagram from an upstream that arrives while another family's socket is still opening is handled", async () => {
  const time = manualTime();
  let delivered = false;
  const sockets = fakeSockets({
    whileOpening: (family) => {
      if (family !== 6) return;
      // The IPv4 socket is open; its upstream answers before the IPv6 one is.
      sockets.deliver(4, { hostname: "192.0.2.1", port: 123 }, strayReply());
      delivered = true;
    },
  });
  const timeKeeping = await start(twoFamilies, time, sockets);
  try {
    assert.ok(delivered, "the test delivered nothing");
    assert.equal(timeKeeping.view().associations.length, 2);
    // Polling runs: the first polls go out through both sockets.
    time.runDue(1);
    assert.deepEqual(new Set(sockets.sent.map((s) => s.family)), new Set([4, 6]));
  } finally {
    await timeKeeping.close();
  }
  assert.deepEqual(sockets.counts(), { opened: 2, closed: 2 });
  assert.equal(time.pending(), 0, "a timer outlived close()");
});

Deno.test("a socket that cannot be opened fails the start and leaves no socket or timer behind", async () => {
  const time = manualTime();
  const sockets = fakeSockets({ failing: [6] });
  await assert.rejects(
    start(twoFamilies, time, sockets),
    /cannot open the IPv6 upstream socket: Cannot open an IPv6 UDP socket/,
  );
  assert.deepEqual(sockets.counts(), { opened: 1, closed: 1 });
  assert.equal(time.pending(), 0);
});

Deno.test("after close() no datagram reaches the keeper and no timer is left", async () => {
  const time = manualTime();
  const sockets = fakeSockets();
  let changes = 0;
  const timeKeeping = await start(twoFamilies, time, sockets, () => changes++);
  assert.ok(time.pending() > 0, "no poll timer while running");
  /** The server transmit time of the last answer the association took in. */
  const lastAnswer = () =>
    JSON.stringify(
      timeKeeping.view().associations.find((a) => a.endpoint.hostname === "192.0.2.1")
        ?.transmitTime,
    );
  // The first request out, its answer taken in...
  const sentTo192 = () => sockets.sent.filter((s) => s.to === "192.0.2.1:123").map((s) => s.data);
  time.runDue(1);
  assert.equal(sentTo192().length, 1, "one request to 192.0.2.1 after 1 s");
  const none = lastAnswer();
  sockets.deliver(4, { hostname: "192.0.2.1", port: 123 }, answer(sentTo192()[0]!, 1));
  assert.notEqual(lastAnswer(), none, "the answer was not taken in: the test proves nothing");
  // ...the next request out (iburst: 2 s later), and after close() its answer is not taken in.
  time.runDue(2);
  const requests = sentTo192();
  assert.equal(requests.length, 2, "the burst's second request");
  const atClose = lastAnswer();
  await timeKeeping[Symbol.asyncDispose]();
  const before = changes;
  sockets.deliver(4, { hostname: "192.0.2.1", port: 123 }, answer(requests[1]!, 2));
  time.runDue(3600);
  assert.equal(lastAnswer(), atClose, "an answer after close() reached the keeper");
  assert.equal(changes, before);
  assert.equal(time.pending(), 0);
  assert.deepEqual(sockets.counts(), { opened: 2, closed: 2 });
  await timeKeeping.close(); // idempotent
});

Deno.test("a pause between writing the transmit field and sending is no path delay: T1 is the socket's reading right before the send", async () => {
  const time = manualTime();
  // 20 ms between the field being written and the datagram leaving; the server answers at once
  // with this host's time to the millisecond, so the true delay and offset are under 2 ms.
  const sockets = fakeSockets({ sendPauseMs: 20 });
  const timeKeeping = await start(
    parseConfigText("server 192.0.2.1 iburst\n", {
      fileName: "test.conf",
      format: "ntp.conf",
    }),
    time,
    sockets,
  );
  try {
    time.runDue(1);
    assert.equal(sockets.sent.length, 1);
    sockets.deliver(4, { hostname: "192.0.2.1", port: 123 }, answer(sockets.sent[0]!.data, 1));
    const association = timeKeeping.view().associations[0]!;
    // Measured from the field, the delay would be >= 20 ms and the offset about +10 ms (too
    // uncertain for the startup step: it would show here).
    assert.ok(association.delaySeconds < 0.012, `delay ${association.delaySeconds} s`);
    assert.ok(Math.abs(association.offsetSeconds) < 0.006, `offset ${association.offsetSeconds} s`);
  } finally {
    await timeKeeping.close();
  }
});
