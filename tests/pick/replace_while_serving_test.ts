// A serving daemon ([pick] candidates, minpoll 3) replaces an upstream that dies with the best unused candidate, without a restart; `ntp status` shows it.
import { becomes } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { startChronydServer } from "../support/chronyd_server.ts";
import { freeUdpPort } from "../support/ports.ts";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { chronydBehindRelay, fakeNtpServer, runNtp, silentServer } from "./_upstreams.ts";

interface StatusPeer {
  readonly associationId: number;
  readonly reach: number | null;
  readonly variables: Record<string, string | null>;
}

Deno.test("ntp serve replaces an upstream that dies with the best unused candidate, logs it and shows it in ntp status, without a restart", async () => {
  await using stack = new AsyncDisposableStack();
  const ports = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
  const upstreams = [];
  for (const port of ports) {
    upstreams.push(
      stack.use(
        await startChronydServer({ port, bindAddresses: ["127.0.0.1"], localStratum: 1 }),
      ),
    );
  }
  // Unused candidates: a silent one, a KoD one, a far one (16 ms each way) and the near one that should win.
  const silent = await silentServer(stack);
  const kod = await fakeNtpServer(stack, "kod-DENY");
  const far = await chronydBehindRelay(stack, 16);
  const near = await chronydBehindRelay(stack, 3);
  const dir = await Deno.makeTempDir({ prefix: "ntpt-replace-" });
  stack.defer(() => Deno.remove(dir, { recursive: true }));
  await Deno.writeTextFile(
    `${dir}/candidates.txt`,
    [
      `127.0.0.1:${ports[0]} # in use: never a replacement for itself`,
      `127.0.0.1:${silent}`,
      `127.0.0.1:${far.port}`,
      `127.0.0.1:${kod.port}`,
      `127.0.0.1:${near.port}`,
      "",
    ].join("\n"),
  );
  const config = `${
    ports.map((port) =>
      `[[server]]\naddress = "127.0.0.1:${port}"\niburst = true\nminpoll = 3\nmaxpoll = 3\n`
    ).join("\n")
  }
[pick]
candidates = "${dir}/candidates.txt"
replace_after_polls = 2
`;
  const listenPort = await freeUdpPort();
  const server = stack.use(
    await startNtpServer({
      config,
      configFormat: "toml",
      listen: [`127.0.0.1:${listenPort}`],
      clock: "soft",
    }),
  );
  const pid = server.pid;
  assert.ok(
    await becomes(() => /synchronised at stratum 2/.test(server.stderr), {
      timeoutMs: 30_000,
      intervalMs: 250,
    }),
    `not synchronised\n${server.describe()}`,
  );

  // The first upstream dies.
  const killedAt = performance.now();
  await upstreams[0]![Symbol.asyncDispose]();
  const replaced = new RegExp(
    `replaced 127\\.0\\.0\\.1:${
      ports[0]
    } \\(unreachable for 2 polls\\) with 127\\.0\\.0\\.1:${near.port}`,
  );
  assert.ok(
    await becomes(() => replaced.test(server.stderr), { timeoutMs: 90_000, intervalMs: 250 }),
    `no replacement logged\n${server.describe()}`,
  );
  const seconds = (performance.now() - killedAt) / 1000;
  console.log(`replaced ${seconds.toFixed(1)} s after the upstream died:`);
  console.log(
    server.stderr.split("\n").filter((l) => /pick|unreachable|system peer/.test(l)).join("\n"),
  );
  // 2 unanswered polls of 8 s are judged when the 3rd begins, then ~8 s of probing.
  assert.ok(seconds > 16 && seconds < 45, `${seconds} s`);
  assert.match(server.stderr, /probing 4 unused candidates from /);

  // ntp status: the dead association is gone, the new one (a new id) is there and reachable.
  const status = async () => {
    const result = await runNtp(["status", "--server", `127.0.0.1:${listenPort}`, "--json"]);
    return JSON.parse(result.stdout) as { peers: StatusPeer[] };
  };
  let peers: StatusPeer[] = [];
  assert.ok(
    await becomes(async () => {
      peers = (await status()).peers;
      const fresh = peers.find((p) => p.variables.srcport === String(near.port));
      return fresh !== undefined && (fresh.reach ?? 0) > 0;
    }, { timeoutMs: 20_000, intervalMs: 250 }),
    `the new upstream is not reachable in ntp status: ${
      JSON.stringify(peers)
    }\n${server.describe()}`,
  );
  const srcports = peers.map((p) => p.variables.srcport);
  assert.deepEqual(srcports.sort(), [ports[1], ports[2], near.port].map(String).sort());
  const fresh = peers.find((p) => p.variables.srcport === String(near.port))!;
  assert.equal(fresh.associationId, 4);
  assert.ok(peers.every((p) => p.associationId !== 1), JSON.stringify(peers));
  const text = await runNtp(["status", "--server", `127.0.0.1:${listenPort}`]);
  assert.equal((text.stdout.match(/^[ *+#x.-]127\.0\.0\.1 /gm) ?? []).length, 3, text.stdout);

  // No restart: the same process, started once, still serving.
  assert.equal(server.pid, pid);
  assert.ok(server.running);
  assert.equal((server.stderr.match(/ starting: config /g) ?? []).length, 1);
  // The candidates that lost, and why, are not replacements.
  assert.doesNotMatch(
    server.stderr,
    new RegExp(`with 127\\.0\\.0\\.1:(${silent}|${kod.port}|${far.port})\\b`),
  );

  // A reload whose file no longer names the dead server ends its stand-in too.
  await Deno.writeTextFile(server.configFile, config.replace(/\[\[server\]\][^[]*/, ""));
  Deno.kill(server.pid, "SIGHUP");
  const ended = new RegExp(
    `127\\.0\\.0\\.1:${near.port} is no longer configured: not polled any more`,
  );
  assert.ok(
    await becomes(() => ended.test(server.stderr), { timeoutMs: 10_000, intervalMs: 250 }),
    `the stand-in outlived its server\n${server.describe()}`,
  );
  assert.match(server.stderr, new RegExp(`upstreams removed: 127\\.0\\.0\\.1:${ports[0]}`));
  peers = (await status()).peers;
  assert.deepEqual(
    peers.map((p) => p.variables.srcport).sort(),
    [ports[1], ports[2]].map(String).sort(),
  );
});

Deno.test("ntp serve keeps a dead server while no candidate is usable, and replaces it once the edited list offers one", async () => {
  await using stack = new AsyncDisposableStack();
  const goodPort = await freeUdpPort();
  stack.use(
    await startChronydServer({ port: goodPort, bindAddresses: ["127.0.0.1"], localStratum: 1 }),
  );
  const dead = await silentServer(stack);
  const silent = await silentServer(stack);
  const kod = await fakeNtpServer(stack, "kod-DENY");
  const near = await chronydBehindRelay(stack, 3);
  const dir = await Deno.makeTempDir({ prefix: "ntpt-replace-" });
  stack.defer(() => Deno.remove(dir, { recursive: true }));
  const list = `${dir}/candidates.txt`;
  await Deno.writeTextFile(list, `127.0.0.1:${silent}\n127.0.0.1:${kod.port}\n`);
  const config = `${
    [goodPort, dead].map((port) =>
      `[[server]]\naddress = "127.0.0.1:${port}"\niburst = true\nminpoll = 3\nmaxpoll = 3\n`
    ).join("\n")
  }
[pick]
candidates = "${list}"
replace_after_polls = 2
`;
  const listenPort = await freeUdpPort();
  const server = stack.use(
    await startNtpServer({
      config,
      configFormat: "toml",
      listen: [`127.0.0.1:${listenPort}`],
      clock: "soft",
    }),
  );
  const cannot = new RegExp(
    `cannot replace 127\\.0\\.0\\.1:${dead} \\(unreachable for 2 polls\\): no usable unused candidate ` +
      `\\(127\\.0\\.0\\.1:${silent}: no answer to 4 requests; 127\\.0\\.0\\.1:${kod.port}: Kiss-o'-Death DENY.*\\); trying again in 2 polls`,
  );
  assert.ok(
    await becomes(() => cannot.test(server.stderr), { timeoutMs: 60_000, intervalMs: 250 }),
    `no "cannot replace" logged\n${server.describe()}`,
  );
  // The operator adds a server to the list; the next try (2 polls later) finds it.
  await Deno.writeTextFile(list, `127.0.0.1:${near.port}\n`, { append: true });
  const replaced = new RegExp(
    `replaced 127\\.0\\.0\\.1:${dead} \\(unreachable for \\d+ polls\\) with 127\\.0\\.0\\.1:${near.port}`,
  );
  assert.ok(
    await becomes(() => replaced.test(server.stderr), { timeoutMs: 60_000, intervalMs: 250 }),
    `no replacement logged\n${server.describe()}`,
  );
  console.log(server.stderr.split("\n").filter((l) => /ntp.pick/.test(l)).join("\n"));
  const result = await runNtp(["status", "--server", `127.0.0.1:${listenPort}`, "--json"]);
  const peers = (JSON.parse(result.stdout) as { peers: StatusPeer[] }).peers;
  assert.deepEqual(
    peers.map((p) => [p.associationId, p.variables.srcport]),
    [[1, String(goodPort)], [3, String(near.port)]],
  );
  // The second round asked the silent one and the new one, not the server that sent DENY.
  assert.deepEqual(
    [...server.stderr.matchAll(/probing (\d) unused candidates? from /g)].map((m) => m[1]),
    ["2", "2"],
  );
});
