// Sanity check of the end-to-end harness itself: every real client accepts chronyd -x, and rejects silence.
import assert from "node:assert/strict";
import { startChronydServer } from "../support/chronyd_server.ts";
import {
  assertClientsAccept,
  checkNtpTime,
  ntpdateQuery,
  ntpdig,
  runEveryClient,
  scapyProbe,
} from "../support/clients.ts";
import { createNetns } from "../support/netns.ts";
import { freeUdpPort } from "../support/ports.ts";
import { inspectExchanges, startCapture } from "../support/tshark.ts";

Deno.test("every real client accepts chronyd -x on a high loopback port over IPv4 and IPv6", async () => {
  const port = await freeUdpPort("127.0.0.1", { alsoFreeOn: "::1" });
  await using _chronyd = await startChronydServer({ port });
  for (const host of ["127.0.0.1", "::1"]) {
    const results = await runEveryClient({ host, port }, { retryOffsetAboveSeconds: 0.001 });
    console.log(
      assertClientsAccept(results, {
        maxAbsOffsetSeconds: 0.001,
        stratum: 10,
        label: `[${host}]:${port}`,
      })
        .join("\n"),
    );
  }
});

Deno.test("the clients report failure when nothing answers", async () => {
  const target = { host: "127.0.0.1", port: await freeUdpPort() };
  const results = [
    await ntpdig(target),
    await ntpdateQuery(target),
    await checkNtpTime(target),
    await scapyProbe(target, { count: 1, timeoutSeconds: 0.5 }),
  ];
  for (const result of results) assert.equal(result.ok, false, result.raw);
});

Deno.test("every real client accepts chronyd -x on port 123 in a netns, and tshark sees clean, echoed exchanges", async () => {
  await using ns = await createNetns();
  await using _chronyd = await startChronydServer({ port: 123, netns: ns.name });
  await using capture = await startCapture(ns.name, 123);
  for (const host of ["127.0.0.1", "::1"]) {
    const results = await runEveryClient({ host, port: 123, netns: ns.name }, {
      retryOffsetAboveSeconds: 0.001,
    });
    console.log(
      assertClientsAccept(results, {
        maxAbsOffsetSeconds: 0.001,
        stratum: 10,
        label: `netns [${host}]:123`,
      })
        .join("\n"),
    );
  }
  const report = inspectExchanges(await capture.stopAndDecode());
  console.log(
    `tshark: ${report.requests} requests, ${report.replies} replies, ${report.randomTransmitsEchoed} random transmits echoed`,
  );
  assert.deepEqual(report.problems, []);
  assert.ok(report.replies >= 20, `only ${report.replies} replies captured`);
  assert.ok(
    report.randomTransmitsEchoed >= 2,
    "chronyd -Q's random transmit timestamps were not seen echoed",
  );
});
