// The seed's restrict lines (noquery for the world, full access for 127.0.0.1): mode 6 from another host gets nothing, localhost gets answers.
import assert from "node:assert/strict";
import {
  billboardRows,
  runNtpCli,
  runNtpq,
  startControlFixture,
} from "../support/control_clients.ts";
import { connectNetns, createNetns } from "../support/netns.ts";
import { clientRequest, exchange, fromHex } from "../support/udp_probe.ts";

Deno.test("with the seed's restrict lines, mode 6 from a non-localhost address gets no answer while time service works", async (t) => {
  await using serverNs = await createNetns();
  await using clientNs = await createNetns();
  const link = await connectNetns(serverNs, clientNs);
  await using _fixture = await startControlFixture({
    listen: ["0.0.0.0:123"],
    view: "synced",
    restrict: "seed",
    netns: serverNs.name,
  });
  const remote = { host: link.ipv4A, port: 123, netns: clientNs.name };

  await t.step(
    "a mode 3 request from the other namespace is answered (the path works)",
    async () => {
      const replies = await exchange(remote, clientRequest(), { waitMs: 1000 });
      assert.equal(replies.length, 1);
      assert.equal(replies[0]![0]! & 7, 4);
    },
  );

  await t.step("READSTAT, READVAR and ntpstat's request from there get nothing back", async () => {
    for (
      const hex of [
        "d60100010000000000000000",
        "d60200020000000000000000",
        "16020001" + "00".repeat(572),
      ]
    ) {
      assert.deepEqual(await exchange(remote, fromHex(hex), { waitMs: 1000 }), [], hex.slice(0, 8));
    }
  });

  await t.step("ntpq -np from there times out and ntp status exits 2", async () => {
    const ntpq = await runNtpq(remote, ["timeout 500", "peers"]);
    assert.match(ntpq.stderr, /Request timed out/, ntpq.stdout);
    assert.deepEqual(billboardRows(ntpq.stdout), []);
    const status = await runNtpCli(
      ["status", "--server", `${link.ipv4A}:123`, "--timeout", "0.5"],
      {
        netns: clientNs.name,
      },
    );
    assert.equal(status.code, 2, status.stdout + status.stderr);
  });

  await t.step(
    "the same queries from 127.0.0.1 inside the server's namespace are answered",
    async () => {
      const local = { host: "127.0.0.1", port: 123, netns: serverNs.name };
      assert.equal(
        (await exchange(local, fromHex("d60100010000000000000000"), { waitMs: 1000 })).length,
        1,
      );
      assert.equal(billboardRows((await runNtpq(local, ["peers"])).stdout).length, 3);
    },
  );
});
