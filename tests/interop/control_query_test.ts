// `ntp query` against our responders, chronyd -x, and the misbehaving test double (KoD, unsynchronised, bad origin, silence).
import assert from "node:assert/strict";
import { startChronydServer } from "../support/chronyd_server.ts";
import { runNtpCli, startControlFixture } from "../support/control_clients.ts";
import { freeUdpPort } from "../support/ports.ts";
import { startFakeNtpServer } from "../support/fake_ntp_server.ts";

Deno.test("ntp query gets a valid answer from our responders: stratum 2, refid, offset under 1 ms", async () => {
  const port = await freeUdpPort();
  await using _fixture = await startControlFixture({
    listen: [`127.0.0.1:${port}`],
    view: "synced",
  });
  const text = await runNtpCli(["query", `127.0.0.1:${port}`, "--samples", "3"]);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, /^sample [123]: offset [-+]0\.0000\d\d s, delay 0\.000\d+ s$/m);
  assert.match(
    text.stdout,
    new RegExp(
      `^server 127\\.0\\.0\\.1:${port}, stratum 2, refid 66\\.220\\.9\\.122, leap no-leap, version 4, precision 2\\^-\\d+ s$`,
      "m",
    ),
  );
  assert.match(
    text.stdout,
    /^offset [-+]0\.000\d+ s, delay 0\.000\d+ s, root distance 0\.01\d+ s \(best of 3 by delay\)$/m,
  );
  const json = JSON.parse((await runNtpCli(["query", `127.0.0.1:${port}`, "--json"])).stdout);
  assert.equal(json.ok, true);
  assert.equal(json.stratum, 2);
  assert.ok(Math.abs(json.offsetSeconds) < 0.001, String(json.offsetSeconds));
  assert.ok(json.delaySeconds >= 0 && json.delaySeconds < 0.01, String(json.delaySeconds));
});

Deno.test("ntp query gets a valid answer from chronyd -x", async () => {
  const port = await freeUdpPort("127.0.0.1", { alsoFreeOn: "::1" });
  await using _chronyd = await startChronydServer({ port, localStratum: 10 });
  for (const host of ["127.0.0.1", "[::1]"]) {
    const result = await runNtpCli(["query", `${host}:${port}`, "--json"]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.stratum, 10);
    assert.equal(json.refid, "127.127.1.1");
    assert.ok(Math.abs(json.offsetSeconds) < 0.001, String(json.offsetSeconds));
  }
});

Deno.test("ntp query reports a Kiss-o'-Death by its code and exits 1", async () => {
  for (const code of ["RATE", "DENY"] as const) {
    const fake = await startFakeNtpServer({ behaviour: `kod-${code}` });
    try {
      const result = await runNtpCli(["query", `127.0.0.1:${fake.port}`, "--samples", "3"]);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stderr, new RegExp(`sent a Kiss-o'-Death: ${code} \\(`));
      // A KoD stops the run: one request only.
      assert.doesNotMatch(result.stdout, /sample 2/);
      const json = JSON.parse(
        (await runNtpCli(["query", `127.0.0.1:${fake.port}`, "--json"])).stdout,
      );
      assert.deepEqual([json.ok, json.error, json.kissCode], [false, "kissOfDeath", code]);
    } finally {
      await fake.close();
    }
  }
});

Deno.test("ntp query rejects an unsynchronised server and one that does not echo our transmit timestamp", async () => {
  const unsync = await startFakeNtpServer({ behaviour: "unsync" });
  try {
    const result = await runNtpCli(["query", `127.0.0.1:${unsync.port}`]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not synchronised \(leap 3, stratum 16\)/);
  } finally {
    await unsync.close();
  }
  const badOrigin = await startFakeNtpServer({ behaviour: "badorigin" });
  try {
    const result = await runNtpCli(["query", `127.0.0.1:${badOrigin.port}`]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid answer .*origin timestamp does not echo our request/);
  } finally {
    await badOrigin.close();
  }
});

Deno.test("ntp query exits 1 after its timeout when the port is silent or closed", async () => {
  const silent = await startFakeNtpServer({ behaviour: "silent" });
  try {
    const started = performance.now();
    const result = await runNtpCli(["query", `127.0.0.1:${silent.port}`, "--timeout", "0.5"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no answer from 127\.0\.0\.1:\d+ within 0\.5 s/);
    assert.ok(performance.now() - started < 10_000);
  } finally {
    await silent.close();
  }
  const closed = await runNtpCli(["query", `127.0.0.1:${await freeUdpPort()}`, "--timeout", "0.3"]);
  assert.equal(closed.code, 1);
});

Deno.test("ntp query exits 2 on bad flags", async () => {
  for (
    const args of [["query"], ["query", "--samples", "0", "127.0.0.1"], [
      "query",
      "127.0.0.1",
      "--bogus",
    ]]
  ) {
    const result = await runNtpCli(args);
    assert.equal(result.code, 2, args.join(" "));
  }
});
