// Time keeping retries names that did not resolve at start and polls them once they do; a reload adds and removes upstreams.
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/mod.ts";
import { startTimeKeeping } from "../../src/daemon/time_keeping.ts";
import { createSoftClock } from "../../src/io/clock_soft.ts";
import type { ResolveOutcome } from "../../src/io/resolve_name.ts";
import { startChronydServer } from "../support/chronyd_server.ts";
import { freeUdpPort } from "../support/ports.ts";
import { delay } from "../support/processes.ts";
import { startFakeNtpServer } from "../support/fake_ntp_server.ts";
import { planReload } from "../../src/config/reload_plan.ts";
import { fakeSockets, manualTime } from "./_time_keeping_fakes.ts";

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

Deno.test("reconfigure() ends removed upstreams (also one still unresolved) and polls added ones, keeping the others", async () => {
  await using upstreamA = await startFakeNtpServer({ behaviour: "ok" });
  await using upstreamB = await startFakeNtpServer({ behaviour: "ok" });
  await using upstreamC = await startFakeNtpServer({ behaviour: "ok" });
  const text = (ports: readonly number[], late: boolean) =>
    ports.map((p) => `server 127.0.0.1 port ${p} iburst minpoll 3 maxpoll 3\n`).join("") +
    (late ? "server late.example iburst\n" : "");
  const parse = (t: string) => parseConfigText(t, { fileName: "test.conf", format: "ntp.conf" });
  const before = parse(text([upstreamA.port, upstreamB.port], true));
  const lookups: string[] = [];
  const resolve = (name: string): Promise<ResolveOutcome> => {
    lookups.push(name);
    return Promise.resolve(
      name === "127.0.0.1"
        ? { ok: true, addresses: [{ hostname: "127.0.0.1", family: 4 }], source: "literal" }
        : { ok: false, message: "no answer from DNS" },
    );
  };
  const timeKeeping = await startTimeKeeping({
    config: before,
    clock: createSoftClock(),
    precisionLog2: -20,
    onChange: () => {},
    resolve,
    resolveRetrySeconds: 0.2,
  });
  try {
    const ports = () => timeKeeping.view().associations.map((a) => a.endpoint.port);
    assert.deepEqual(ports(), [upstreamA.port, upstreamB.port]);
    for (let i = 0; i < 50 && (upstreamA.answered === 0 || upstreamB.answered === 0); i++) {
      await delay(100);
    }
    const idB = timeKeeping.view().associations[1]!.associationId;
    const after = parse(text([upstreamB.port, upstreamC.port], false));
    const plan = planReload(before, after);
    await timeKeeping.reconfigure(after, {
      added: plan.upstreamsAdded,
      removed: plan.upstreamsRemoved,
    });
    assert.deepEqual(ports(), [upstreamB.port, upstreamC.port]);
    assert.equal(timeKeeping.view().associations[0]!.associationId, idB, "B kept its association");
    const polledA = upstreamA.answered;
    const lateLookups = lookups.filter((name) => name === "late.example").length;
    for (let i = 0; i < 50 && upstreamC.answered === 0; i++) await delay(100);
    assert.ok(upstreamC.answered > 0, "the added upstream was never polled");
    await delay(700);
    assert.equal(upstreamA.answered, polledA, "the removed upstream is still polled");
    assert.equal(
      lookups.filter((name) => name === "late.example").length,
      lateLookups,
      "the removed, unresolved name is still looked up",
    );
  } finally {
    await timeKeeping.close();
  }
});

Deno.test("a late-resolved upstream whose socket cannot open yet is logged and tried again, never an unhandled rejection", async () => {
  const time = manualTime();
  const failing: (4 | 6)[] = [6];
  const sockets = fakeSockets({ failing });
  const config = parseConfigText("server late.example iburst\n", {
    fileName: "test.conf",
    format: "ntp.conf",
  });
  let lookups = 0;
  const resolve = (): Promise<ResolveOutcome> => {
    lookups++;
    return Promise.resolve(
      lookups === 1
        ? { ok: false, message: "no answer from DNS" }
        : { ok: true, addresses: [{ hostname: "2001:db8::5", family: 6 }], source: "dns" },
    );
  };
  const timeKeeping = await startTimeKeeping({
    config,
    clock: createSoftClock(),
    precisionLog2: -20,
    onChange: () => {},
    resolve,
    resolveRetrySeconds: 10,
    time,
    openSocket: sockets.open,
  });
  const settle = () => delay(20);
  try {
    assert.equal(lookups, 1);
    // The name resolves, but the IPv6 socket does not open: logged, the name kept for later.
    time.runDue(10);
    await settle();
    assert.equal(lookups, 2);
    assert.equal(timeKeeping.view().associations.length, 0);
    assert.ok(time.pending() > 0, "no retry scheduled after the socket failed");
    // IPv6 comes up: the next retry polls it.
    failing.length = 0;
    time.runDue(10);
    await settle();
    assert.equal(lookups, 3);
    assert.deepEqual(
      timeKeeping.view().associations.map((a) => a.endpoint.hostname),
      ["2001:db8::5"],
    );
    assert.equal(sockets.counts().opened, 1);
  } finally {
    await timeKeeping.close();
  }
});
