// attachControlServer() on real responders, in process: answers, silence for malformed input, close(), mode 6 clients in the mrulist.
import assert from "node:assert/strict";
import type { ControlOutcome } from "../../src/core/control/answer_control.ts";
import { decodeControlMessage } from "../../src/core/control/control_message.ts";
import { defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import { attachControlServer } from "../../src/daemon/control_server.ts";
import { startResponders } from "../../src/daemon/responders.ts";
import { runNtpq } from "../support/control_clients.ts";
import { fakeControlView } from "../support/fake_control_views.ts";
import { exchange, fromHex } from "../support/udp_probe.ts";

for (const io of ["portable", "fast"] as const) {
  Deno.test(`attachControlServer() answers through the ${io} responders and stays silent on malformed requests`, async (t) => {
    const responders = await startResponders({
      listen: [{ hostname: "127.0.0.1", port: 0, family: 4 }, {
        hostname: "::1",
        port: 0,
        family: 6,
      }],
      workers: 1,
      restrict: [],
      rateLimit: defaultRateLimitPolicy,
      io,
    });
    const outcomes: ControlOutcome[] = [];
    const control = attachControlServer(responders, {
      view: () => fakeControlView("synced", { nowUnixSeconds: Date.now() / 1000 }),
      onRequest: (outcome) => outcomes.push(outcome),
    });
    const target = { host: "127.0.0.1", port: responders.addresses[0]!.port };
    try {
      await t.step(
        "READSTAT is answered from the address it was sent to, over IPv4 and IPv6",
        async () => {
          for (
            const [host, port] of [["127.0.0.1", target.port], [
              "::1",
              responders.addresses[1]!.port,
            ]] as const
          ) {
            const replies = await exchange({ host, port }, fromHex("d60100070000000000000000"));
            assert.equal(replies.length, 1, host);
            const reply = decodeControlMessage(replies[0]!);
            assert.equal(reply?.sequence, 7);
            assert.equal(reply?.data.length, 12);
          }
        },
      );

      await t.step("malformed mode 6 datagrams get nothing back", async () => {
        for (
          const hex of [
            "d68100010000000000000000",
            "d60100010000000000040000",
            "d60200010000000000000008",
          ]
        ) {
          assert.deepEqual(await exchange(target, fromHex(hex), { waitMs: 500 }), [], hex);
        }
        assert.ok(outcomes.includes("dropped"));
      });

      await t.step("ntpq's own requests show up in its mrulist as a mode 6 client", async () => {
        const result = await runNtpq(target, ["mrulist"]);
        assert.match(result.stdout, / \. 6 2 .*127\.0\.0\.1$/m, result.stdout + result.stderr);
      });

      await t.step("after close() requests are no longer answered", async () => {
        control.close();
        assert.deepEqual(
          await exchange(target, fromHex("d60100070000000000000000"), { waitMs: 500 }),
          [],
        );
      });
    } finally {
      control.close();
      await responders.close();
    }
  });
}
