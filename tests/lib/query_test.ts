// The library's query(): a checked answer from our own daemon and from chronyd, typed errors for a Kiss-o'-Death, an unsynchronised server, silence and an abort, and the offset of a local clock 90 s behind.
import assert from "node:assert/strict";
import { KissOfDeathError, NtpQueryError, query, UnsynchronisedServerError } from "../../mod.ts";
import { startFakeNtpServer } from "../support/fake_ntp_server.ts";
import { startChronydServer } from "../support/chronyd_server.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";

Deno.test({
  name: "query() gets a checked answer from our daemon over IPv4 and IPv6, and from chronyd",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const port = await freeUdpPort("127.0.0.1", { alsoFreeOn: "::1" });
    await using _ours = await startNtpServer({
      config: "[tos]\norphan = 5\norphanwait = 0\n",
      configFormat: "toml",
      listen: [`127.0.0.1:${port}`, `[::1]:${port}`],
      clock: "soft",
    });
    const chronydPort = await freeUdpPort("127.0.0.1");
    await using _chronyd = await startChronydServer({
      port: chronydPort,
      bindAddresses: ["127.0.0.1"],
    });
    for (const server of [`127.0.0.1:${port}`, `[::1]:${port}`, `127.0.0.1:${chronydPort}`]) {
      const answer = await query(server, { timeoutMs: 2000 });
      assert.equal(answer.server, server);
      // Both stamps are taken in JavaScript here: the bound is the round trip plus 2 ms.
      assert.ok(
        Math.abs(answer.offsetSeconds) <= answer.delaySeconds / 2 + 0.002,
        `${server}: ${answer.offsetSeconds}`,
      );
      assert.ok(answer.delaySeconds >= 0 && answer.delaySeconds < 0.05, `${answer.delaySeconds}`);
      assert.ok(answer.stratum >= 1 && answer.stratum < 16);
      assert.equal(answer.leap, 0);
      assert.ok(answer.rootDistanceSeconds >= answer.delaySeconds / 2);
    }
    const v6 = await query(`[::1]:${port}`);
    assert.equal(v6.address, "::1");
    assert.equal(v6.port, port);
  },
});

Deno.test("query() measures against the local clock it is given: 90 s behind gives +90 s", async () => {
  await using server = await startFakeNtpServer({ behaviour: "ok" });
  const answer = await query(`127.0.0.1:${server.port}`, {
    localClock: () => Date.now() - 90_000,
  });
  assert.ok(Math.abs(answer.offsetSeconds - 90) < 0.01, `${answer.offsetSeconds}`);
});

Deno.test("query() turns a Kiss-o'-Death, an unsynchronised server and silence into typed errors", async () => {
  await using kod = await startFakeNtpServer({ behaviour: "kod-RATE" });
  await using unsync = await startFakeNtpServer({ behaviour: "unsync" });
  await using silent = await startFakeNtpServer({ behaviour: "silent" });
  await using init = await startFakeNtpServer({ behaviour: "kod-INIT" });
  await assert.rejects(
    query(`127.0.0.1:${init.port}`),
    (error: unknown) => error instanceof UnsynchronisedServerError && error.stratum === 0,
    "INIT is ntpd not synchronised yet, not a Kiss-o'-Death to obey",
  );
  await assert.rejects(
    query(`127.0.0.1:${kod.port}`),
    (error: unknown) =>
      error instanceof KissOfDeathError && error.code === "RATE" && error.kind === "kissOfDeath",
  );
  await assert.rejects(
    query(`127.0.0.1:${unsync.port}`),
    (error: unknown) =>
      error instanceof UnsynchronisedServerError && error.stratum === 16 && error.leap === 3,
  );
  await assert.rejects(
    query(`127.0.0.1:${silent.port}`, { timeoutMs: 300 }),
    (error: unknown) => error instanceof NtpQueryError && error.kind === "noAnswer",
  );
  await assert.rejects(query("not a host name:x"), TypeError);
  await assert.rejects(
    query("name.invalid", { timeoutMs: 300 }),
    (error: unknown) => error instanceof NtpQueryError && error.kind === "resolve",
  );
});

Deno.test("query() stops waiting when its signal aborts, with the signal's reason", async () => {
  await using silent = await startFakeNtpServer({ behaviour: "silent" });
  const controller = new AbortController();
  const started = performance.now();
  setTimeout(() => controller.abort(new Error("no longer needed")), 100);
  await assert.rejects(
    query(`127.0.0.1:${silent.port}`, { timeoutMs: 5000, signal: controller.signal }),
    /no longer needed/,
  );
  assert.ok(performance.now() - started < 2000, "it waited for the timeout");
  await assert.rejects(
    query(`127.0.0.1:${silent.port}`, { signal: AbortSignal.abort(new Error("at once")) }),
    /at once/,
  );
  // Aborted while the socket opens (before the exchange listens for it).
  const early = new AbortController();
  const pending = query(`127.0.0.1:${silent.port}`, { timeoutMs: 5000, signal: early.signal });
  early.abort(new Error("early"));
  const before = performance.now();
  await assert.rejects(pending, /early/);
  assert.ok(performance.now() - before < 1000, "an early abort waited for the timeout");
});

Deno.test("an aborted query() leaves nothing behind: the program exits at once, not at the timeout", async () => {
  await using silent = await startFakeNtpServer({ behaviour: "silent" });
  const probe = decodeURIComponent(new URL("./_abort_exit_probe.ts", import.meta.url).pathname);
  const started = performance.now();
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--no-prompt", probe, String(silent.port)],
    cwd: decodeURIComponent(new URL("../../", import.meta.url).pathname),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const output = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, output);
  assert.match(output, /aborted/);
  assert.ok(seconds < 4, `the program ran ${seconds.toFixed(1)} s (the timeout is 5 s)`);
});
