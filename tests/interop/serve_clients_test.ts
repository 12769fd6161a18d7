// Acceptance of `ntp serve`: the real Debian clients accept it on loopback and on port 123 in a netns, over IPv4 and IPv6; KoD, mode 7, version echo, bind failure.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { assertClientsAccept, probeFlood, runEveryClient, scapyProbe } from "../support/clients.ts";
import { connectNetns, createNetns } from "../support/netns.ts";
import { runNtpServeToExit, startNtpServer } from "../support/ntp_server_process.ts";
import { freeUdpPort } from "../support/ports.ts";
import { runCommand } from "../support/processes.ts";
import { inspectExchanges, startCapture } from "../support/tshark.ts";
import { exchange, fromHex } from "../support/udp_probe.ts";

/** The seed config's access rules, orphan mode instead of upstream servers (clients need LI=0). */
const config = `# end-to-end test configuration (ntp.conf syntax)
tos orphan 10 orphanwait 0
restrict default kod limited nomodify notrap nopeer noquery
restrict 127.0.0.1
restrict ::1
`;

const acceptance = { maxAbsOffsetSeconds: 0.001, stratum: 10 };

Deno.test("ntp serve on a high loopback port, IPv4 and IPv6", async (t) => {
  const port = await freeUdpPort("127.0.0.1", { alsoFreeOn: "::1" });
  await using server = await startNtpServer({
    config,
    listen: [`127.0.0.1:${port}`, `[::1]:${port}`],
  });

  for (const host of ["127.0.0.1", "::1"]) {
    await t.step(`every real client accepts it at ${host} with an offset below 1 ms`, async () => {
      const results = await runEveryClient({ host, port }, { retryOffsetAboveSeconds: 0.001 });
      console.log(
        assertClientsAccept(results, { ...acceptance, label: `[${host}]:${port}` }).join("\n"),
      );
    });
  }

  await t.step("it answers versions 1 to 4 with the request's version", async () => {
    for (const version of [1, 2, 3, 4]) {
      const probe = await scapyProbe({ host: "127.0.0.1", port }, { version, count: 1 });
      assert.ok(probe.ok, probe.raw);
      assert.equal(probe.samples[0]?.fields.version, version, probe.raw);
    }
  });

  await t.step("it echoes chrony-style random transmit timestamps as the origin", async () => {
    // The two transmit timestamps chronyd -Q really sent (years 2011 and 2079), then fresh random ones.
    for (const transmit of ["d17ad116d40cf153", "51a77fddcdba9cda", "random", "random"]) {
      const probe = await scapyProbe({ host: "::1", port }, { transmit, count: 1 });
      assert.ok(probe.ok, probe.raw);
      const sample = probe.samples[0]!;
      assert.equal(sample.fields.origin, sample.fields.request_transmit, probe.raw);
      if (transmit !== "random") assert.equal(sample.fields.origin, transmit);
    }
  });

  await t.step("it never answers mode 7 (ntpdc) requests", async () => {
    const mode7 = [
      "1700032a00000000", // ntpdc monlist, the classic amplification probe (8 bytes)
      "1700032a" + "00".repeat(44), // the same padded to 48 bytes
      "2700032a" + "00".repeat(44), // version 4
      "17000300" + "00".repeat(188), // REQ_PEER_LIST, 192 bytes
      "17800304" + "00".repeat(44), // authenticated bit set, REQ_SYS_INFO
      "9700032a" + "00".repeat(44), // response bit set (a reflected mode 7 reply)
    ];
    const replies = await Promise.all(
      mode7.flatMap((hex) =>
        ["127.0.0.1", "::1"].map((host) => exchange({ host, port }, fromHex(hex), { waitMs: 1000 }))
      ),
    );
    assert.deepEqual(replies.map((r) => r.length), new Array(replies.length).fill(0));
    assert.ok(server.running, server.describe());
  });
});

Deno.test("ntp serve on port 123 in a network namespace, IPv4 and IPv6, decoded cleanly by Wireshark", async (t) => {
  await using ns = await createNetns();
  await using _server = await startNtpServer({
    config,
    listen: ["127.0.0.1:123", "[::1]:123"],
    netns: ns.name,
  });
  await using capture = await startCapture(ns.name, 123);
  for (const host of ["127.0.0.1", "::1"]) {
    await t.step(
      `every real client accepts it at ${host}:123 with an offset below 1 ms`,
      async () => {
        const results = await runEveryClient({ host, port: 123, netns: ns.name }, {
          retryOffsetAboveSeconds: 0.001,
        });
        console.log(
          assertClientsAccept(results, { ...acceptance, label: `netns [${host}]:123` }).join("\n"),
        );
      },
    );
  }
  await t.step(
    "tshark finds nothing malformed, every reply echoes its request, none is larger",
    async () => {
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
    },
  );
});

Deno.test("ntp serve sends KoD RATE to a flooding client that restrict marks kod limited", async (t) => {
  await using serverNs = await createNetns();
  await using clientNs = await createNetns();
  const link = await connectNetns(serverNs, clientNs);
  // A second client address for chronyd, with a rate-limit record of its own.
  const chronydSource = link.ipv4B.replace(/\.2$/, ".3");
  const added = await runCommand(
    ["ip", "addr", "add", `${chronydSource}/24`, "dev", link.deviceB],
    {
      netns: clientNs.name,
    },
  );
  assert.equal(added.code, 0, added.stderr);
  // Two responder threads: the priming burst and chronyd -Q's requests come from different
  // source ports and must still meet one rate-limit bucket (source-address steering).
  await using server = await startNtpServer({
    config,
    listen: ["127.0.0.1:123", `${link.ipv4A}:123`],
    netns: serverNs.name,
    extraArgs: ["--workers", "2"],
  });
  const serverTarget = { host: link.ipv4A, port: 123, netns: clientNs.name };
  let burstAnswered = 0;

  await t.step(
    "an exempt address (restrict 127.0.0.1) is answered however fast it asks",
    async () => {
      const flood = await probeFlood({ host: "127.0.0.1", port: 123, netns: serverNs.name }, {
        count: 50,
      });
      assert.deepEqual(flood, { sent: 50, ok: 50, kod: {}, other: 0 });
    },
  );

  await t.step(
    "a client flooding over the veth gets a RATE Kiss-o'-Death and is limited",
    async () => {
      const flood = await probeFlood(serverTarget, { count: 50 });
      console.log(`flood from ${link.ipv4B}: ${JSON.stringify(flood)}`);
      assert.ok((flood.kod.RATE ?? 0) >= 1, JSON.stringify(flood));
      assert.ok(flood.ok < 50, JSON.stringify(flood));
      assert.deepEqual(Object.keys(flood.kod).filter((code) => code !== "RATE"), []);
      burstAnswered = flood.ok;
    },
  );

  await t.step(
    "chronyd -Q from a client that used up its burst reports 'Received KoD RATE'",
    async () => {
      // chronyd -Q sends only a few requests, too few to be limited by itself: first use up this
      // address's burst allowance (the number the flood above got answered), without a KoD yet.
      const preload = await probeFlood(serverTarget, {
        count: burstAnswered,
        sourceAddress: chronydSource,
        waitSeconds: 0.2,
      });
      assert.deepEqual(preload.kod, {}, JSON.stringify(preload));
      const result = await runCommand([
        "chronyd",
        "-Q",
        "-t",
        "4",
        `bindacqaddress ${chronydSource}`,
        `server ${link.ipv4A} iburst minpoll -6 maxpoll -6 maxsamples 4`,
      ], { netns: clientNs.name, timeoutMs: 15_000 });
      assert.match(
        result.stderr,
        new RegExp(`Received KoD RATE from ${link.ipv4A.replaceAll(".", "\\.")}`),
        `${result.stdout}\n${result.stderr}`,
      );
    },
  );
  assert.ok(server.running, server.describe());
});

Deno.test("ntp serve exits non-zero with a clear message when its port is taken", async () => {
  const port = await freeUdpPort();
  const blocker = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => blocker.bind(port, "127.0.0.1", () => resolve()));
  try {
    const result = await runNtpServeToExit({ config, listen: [`127.0.0.1:${port}`] });
    const output = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.timedOut, false, `still running after 20 s:\n${output}`);
    assert.notEqual(result.code, 0, output);
    assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port}|port ${port}`), output);
    assert.match(
      result.stderr,
      /in use|EADDRINUSE|cannot bind|could not bind|failed to bind/i,
      output,
    );
    assert.doesNotMatch(result.stderr, /listening|serving on/i, output);
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});

Deno.test("ntp serve exits 0 promptly on SIGINT as well as on SIGTERM", async () => {
  const port = await freeUdpPort();
  await using server = await startNtpServer({ config, listen: [`127.0.0.1:${port}`] });
  const exit = await server.stop({ signal: "SIGINT" });
  assert.deepEqual(exit, { code: 0, signal: null, killed: false }, server.describe());
});
