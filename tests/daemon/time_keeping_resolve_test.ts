// Time keeping retries names that did not resolve at start and polls them once they do.
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/mod.ts";
import { startTimeKeeping } from "../../src/daemon/time_keeping.ts";
import { createSoftClock } from "../../src/io/clock_soft.ts";
import type { ResolveOutcome } from "../../src/io/resolve_name.ts";
import { startChronydServer } from "../support/chronyd_server.ts";
import { freeUdpPort } from "../support/ports.ts";
import { delay } from "../support/processes.ts";

Deno.test("a server name that fails to resolve at start is polled once it resolves", async () => {
  const port = await freeUdpPort("127.0.0.1");
  await using _upstream = await startChronydServer({ port, bindAddresses: ["127.0.0.1"] });
  const config = parseConfigText(`server late.example port ${port} iburst minpoll 3 maxpoll 3\n`, {
    fileName: "test.conf",
    format: "ntp.conf",
  });
  const lookups: string[] = [];
  const resolve = (name: string): Promise<ResolveOutcome> => {
    lookups.push(name);
    return Promise.resolve(
      lookups.length < 3
        ? { ok: false, message: "no answer from DNS" }
        : { ok: true, addresses: [{ hostname: "127.0.0.1", family: 4 }], source: "dns" },
    );
  };
  const timeKeeping = await startTimeKeeping({
    config,
    clock: createSoftClock(),
    precisionLog2: -20,
    onChange: () => {},
    resolve,
    resolveRetrySeconds: 0.2,
  });
  try {
    assert.equal(timeKeeping.view().associations.length, 0);
    let reach = 0;
    for (let i = 0; i < 50 && reach === 0; i++) {
      await delay(100);
      reach = timeKeeping.view().associations[0]?.reach ?? 0;
    }
    const [association] = timeKeeping.view().associations;
    assert.ok(association, "no association after the name resolved");
    assert.equal(association.endpoint.name, "late.example");
    assert.equal(association.endpoint.hostname, "127.0.0.1");
    assert.ok(reach > 0, "the resolved server never answered");
    assert.deepEqual(lookups, ["late.example", "late.example", "late.example"]);
  } finally {
    await timeKeeping.close();
  }
});
