// TrueClock: the true time from three agreeing servers while a fourth is 0.5 s off and the local clock 90 s behind; a Kiss-o'-Death obeyed; silent and unsynchronised servers never trusted; nothing left running after stop (the test sanitizers check timers and sockets).
import assert from "node:assert/strict";
import { totp, totpAt, TrueClock } from "../../mod.ts";
import { startFakeNtpServer } from "../support/fake_ntp_server.ts";

const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

Deno.test("TrueClock outvotes a falseticker among 4 and corrects a local clock 90 s behind; TOTP codes are right", async () => {
  await using a = await startFakeNtpServer({ behaviour: "ok" });
  await using b = await startFakeNtpServer({ behaviour: "ok" });
  await using c = await startFakeNtpServer({ behaviour: "ok" });
  await using ahead = await startFakeNtpServer({ behaviour: "ahead" });
  const changes: boolean[] = [];
  await using clock = await TrueClock.start({
    servers: [a, b, c, ahead].map((s) => `127.0.0.1:${s.port}`),
    localClock: () => Date.now() - 90_000,
    onChange: (state) => changes.push(state.synchronised),
  });
  assert.equal(clock.synchronised, false);
  assert.equal(clock.state().errorBoundSeconds, Infinity);
  await clock.synchronisation(AbortSignal.timeout(30_000));
  const state = clock.state();
  assert.ok(Math.abs(state.offsetSeconds - 90) < 0.01, `offset ${state.offsetSeconds}`);
  const errorMs = Math.abs(clock.nowMilliseconds() - Date.now());
  assert.ok(errorMs < 10, `now() is ${errorMs} ms from the true time`);
  assert.ok(
    state.errorBoundSeconds > 0 && state.errorBoundSeconds < 0.1,
    `${state.errorBoundSeconds}`,
  );
  // The bound covers the error (the fakes answer from Date.now(): 1 ms steps).
  assert.ok(errorMs <= state.errorBoundSeconds * 1000 + 1, `${errorMs} ms > the bound`);
  assert.equal(state.stratum, 3);
  const falseticker = state.servers.find((s) => s.port === ahead.port)!;
  assert.ok(Math.abs(falseticker.offsetSeconds - 0.5) < 0.05, `${falseticker.offsetSeconds}`);
  for (const agreeing of state.servers.filter((s) => s.port !== ahead.port)) {
    assert.ok(Math.abs(agreeing.offsetSeconds) < 0.01, JSON.stringify(agreeing));
  }
  assert.equal(falseticker.tally, "x", JSON.stringify(state.servers));
  assert.ok(state.servers.some((s) => s.tally === "*"), JSON.stringify(state.servers));
  assert.ok(changes.includes(true), "onChange saw the synchronisation");
  // The codes of the true time, not of the local clock 90 s behind.
  const at = clock.nowMilliseconds();
  const code = await totp(secret, { clock });
  const now = Date.now();
  assert.ok(
    [await totpAt(secret, at), await totpAt(secret, at + 1000)].includes(code),
    "a code of the clock's time",
  );
  assert.notEqual(code, await totp(secret, { clock: { now: () => new Date(now - 90_000) } }));
  await clock.stop();
  await clock.stop(); // idempotent
});

Deno.test("TrueClock obeys a Kiss-o'-Death (DENY: that server is dropped) and follows the other", async () => {
  await using good = await startFakeNtpServer({ behaviour: "ok" });
  await using deny = await startFakeNtpServer({ behaviour: "kod-DENY" });
  await using clock = await TrueClock.start({
    servers: [`127.0.0.1:${good.port}`, `127.0.0.1:${deny.port}`],
  });
  await clock.synchronisation(AbortSignal.timeout(30_000));
  const denied = clock.state().servers.find((s) => s.port === deny.port);
  assert.equal(denied?.kissOfDeath, "DENY", JSON.stringify(clock.state().servers));
  assert.ok(deny.answered >= 1);
  const answered = deny.answered;
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(deny.answered, answered, "the denying server is still asked");
});

Deno.test("TrueClock never trusts a silent or an unsynchronised server; stop ends a wait", async () => {
  await using silent = await startFakeNtpServer({ behaviour: "silent" });
  await using unsync = await startFakeNtpServer({ behaviour: "unsync" });
  await using clock = await TrueClock.start({
    servers: [`127.0.0.1:${silent.port}`, `127.0.0.1:${unsync.port}`],
  });
  await assert.rejects(clock.synchronisation(AbortSignal.timeout(4000)), /TimeoutError|timed out/i);
  assert.equal(clock.synchronised, false);
  assert.equal(clock.offsetSeconds, 0);
  await assert.rejects(totp(secret, { clock }), /not synchronised/);
  assert.ok(unsync.answered > 0, "the unsynchronised server was asked");
  const waiting = clock.synchronisation();
  await clock.stop();
  await assert.rejects(waiting, /stopped before it synchronised/);
  await assert.rejects(clock.synchronisation(), /is stopped/);
});

Deno.test("TrueClock.start refuses no servers, a malformed one and names that do not resolve, naming them", async () => {
  await assert.rejects(TrueClock.start({}), /at least one server or pool/);
  await assert.rejects(TrueClock.start({ servers: ["127.0.0.1:99999"] }), /99999/);
  await assert.rejects(
    TrueClock.start({ servers: ["127.0.0.1"], minPollLog2: 1 }),
    /minPollLog2 1 is not an integer from 3 to 17/,
  );
  await assert.rejects(
    TrueClock.start({ servers: ["name.invalid"] }),
    /none of name\.invalid resolves/,
  );
});

Deno.test("a jump of the local clock (a step, a suspend) makes TrueClock start afresh: unsynchronised, then right again", async () => {
  await using a = await startFakeNtpServer({ behaviour: "ok" });
  await using b = await startFakeNtpServer({ behaviour: "ok" });
  let shiftMs = -90_000;
  await using clock = await TrueClock.start({
    servers: [a, b].map((s) => `127.0.0.1:${s.port}`),
    localClock: () => Date.now() + shiftMs,
  });
  await clock.synchronisation(AbortSignal.timeout(30_000));
  assert.ok(Math.abs(clock.nowMilliseconds() - Date.now()) < 10);
  shiftMs += 10_000; // the local clock steps 10 s forward
  assert.equal(clock.synchronised, false, "still trusted after the step");
  assert.equal(clock.state().errorBoundSeconds, Infinity);
  await clock.synchronisation(AbortSignal.timeout(30_000));
  const errorMs = Math.abs(clock.nowMilliseconds() - Date.now());
  assert.ok(errorMs < 10, `${errorMs} ms off after the step`);
});
