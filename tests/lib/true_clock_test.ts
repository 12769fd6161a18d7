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
  assert.ok(Math.abs(clock.nowMilliseconds() - Date.now()) < 10, "now() is the true time");
  assert.ok(
    state.errorBoundSeconds > 0 && state.errorBoundSeconds < 0.1,
    `${state.errorBoundSeconds}`,
  );
  assert.equal(state.stratum, 3);
  const falseticker = state.servers.find((s) => s.port === ahead.port)!;
  assert.ok(Math.abs(falseticker.offsetSeconds - 0.5) < 0.05, `${falseticker.offsetSeconds}`);
  for (const agreeing of state.servers.filter((s) => s.port !== ahead.port)) {
    assert.ok(Math.abs(agreeing.offsetSeconds) < 0.01, JSON.stringify(agreeing));
  }
  assert.notEqual(falseticker.tally, "*");
  assert.ok(state.servers.some((s) => s.tally === "*"), JSON.stringify(state.servers));
  assert.ok(changes.includes(true), "onChange saw the synchronisation");
  // The codes of the true time, not of the local clock 90 s behind.
  const code = await totp(secret, { clock });
  const now = Date.now();
  assert.ok(
    [await totpAt(secret, now - 1000), await totpAt(secret, now)].includes(code),
    "a code of the true time",
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
  assert.ok(denied === undefined || denied.kissOfDeath === "DENY", JSON.stringify(denied));
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
  assert.ok(unsync.answered > 0, "the unsynchronised server was asked");
  const waiting = clock.synchronisation();
  await clock.stop();
  await assert.rejects(waiting, /stopped before it synchronised/);
});

Deno.test("TrueClock.start refuses no servers and a malformed one, naming it", async () => {
  await assert.rejects(TrueClock.start({}), /at least one server or pool/);
  await assert.rejects(TrueClock.start({ servers: ["127.0.0.1:99999"] }), TypeError);
});
