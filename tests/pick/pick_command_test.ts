// `ntp pick --from FILE` against local upstreams at different delays (chronyd -x behind relays), silent, KoD, unsynchronised and +0.5 s servers; and --write.
import assert from "node:assert/strict";
import { chronydBehindRelay, fakeNtpServer, runNtp, silentServer } from "./_upstreams.ts";

/** The (address, port) pairs of the [[server]] tables in `text`, in order. */
function serverTables(text: string): string[] {
  return [...text.matchAll(/\[\[server\]\]\naddress = "([^"]+)"\n(?:port = (\d+)\n)?/g)].map((m) =>
    `${m[1]}:${m[2] ?? 123}`
  );
}

Deno.test("ntp pick --from FILE picks exactly the nearest healthy servers in order, and --write passes ntp config check", async () => {
  await using stack = new AsyncDisposableStack();
  // No relay, and one-way delays of 3, 6, 10 and 16 ms: round trips of about 0.1, 6, 12, 20 and 32 ms.
  const chronyds = [];
  for (const oneWayMs of [10, 0, 16, 3, 6]) {
    chronyds.push({ oneWayMs, ...await chronydBehindRelay(stack, oneWayMs) });
  }
  const kod = await fakeNtpServer(stack, "kod-RATE");
  const unsync = await fakeNtpServer(stack, "unsync");
  const ahead = await fakeNtpServer(stack, "ahead");
  const silent = [await silentServer(stack), await silentServer(stack)];
  const dir = await Deno.makeTempDir({ prefix: "ntpt-pick-" });
  stack.defer(() => Deno.remove(dir, { recursive: true }));

  const byDelay = [...chronyds].sort((a, b) => a.oneWayMs - b.oneWayMs).map((c) => c.port);
  const list = [
    "# candidates for the test",
    `127.0.0.1:${silent[0]}`,
    `127.0.0.1:${chronyds[0]!.port}   # 10 ms each way`,
    `127.0.0.1:${ahead.port}          # 0.5 s ahead: a falseticker`,
    `127.0.0.1:${chronyds[1]!.port}`,
    `127.0.0.1:${kod.port}            # Kiss-o'-Death RATE`,
    `127.0.0.1:${chronyds[2]!.port}`,
    `127.0.0.1:${unsync.port}         # unsynchronised`,
    `127.0.0.1:${chronyds[3]!.port}`,
    `127.0.0.1:${silent[1]}`,
    `127.0.0.1:${chronyds[4]!.port}`,
    "",
  ].join("\n");
  await Deno.writeTextFile(`${dir}/candidates.txt`, list);
  const config = `# test config: its comments must survive
driftfile = "${dir}/drift"

# the servers we had
[[server]]
address = "192.0.2.1"
iburst = true

[[server]]
address = "192.0.2.2"

# access rules
[[restrict]]
address = "default"
flags = ["kod", "limited"]

[tos]
minsane = 1 # one is enough here
`;
  await Deno.writeTextFile(`${dir}/ntp.toml`, config);

  const started = performance.now();
  const result = await runNtp([
    "pick",
    "--from",
    `${dir}/candidates.txt`,
    "--count",
    "4",
    "--write",
    `${dir}/ntp.toml`,
  ]);
  const seconds = (performance.now() - started) / 1000;
  const described = `exit ${result.code} after ${
    seconds.toFixed(1)
  } s\n${result.stdout}\n${result.stderr}`;
  console.log(result.stdout);
  assert.equal(result.code, 0, described);

  // Picked: the four nearest chronyds, nearest first; the fifth is a spare.
  const expected = byDelay.slice(0, 4).map((port) => `127.0.0.1:${port}`);
  assert.deepEqual(serverTables(result.stdout), expected, described);
  const rows = result.stdout.split("\n");
  const row = (port: number) => rows.find((r) => r.includes(`127.0.0.1:${port} `)) ?? "";
  byDelay.slice(0, 4).forEach((port, i) => {
    assert.match(
      row(port),
      new RegExp(`^ ${i + 1} .*4/4 picked: (nearest|rank ${i + 1})`),
      described,
    );
  });
  assert.match(row(byDelay[4]!), /^ 5 .*spare: rank 5/, described);
  assert.match(
    row(ahead.port),
    /dropped: falseticker: offset \+0\.(49|50)\d+ s is outside/,
    described,
  );
  assert.match(row(kod.port), /dropped: Kiss-o'-Death RATE/, described);
  assert.match(row(kod.port), / 0\/1 /, "one request only after the kiss\n" + described);
  assert.match(row(unsync.port), /dropped: not synchronised \(leap 3, stratum 16\)/, described);
  for (const port of silent) {
    assert.match(row(port), /0\/4 dropped: no answer to 4 requests/, described);
  }
  assert.match(result.stdout, /picked 4 of 5 usable candidates \(10 listed\)/, described);
  // Delays measured through the relays: about 0.1, 6, 12, 20 and 32 ms.
  const delays = byDelay.map((port) => Number(/ (\d+\.\d{3}) +[-+]/.exec(row(port))?.[1]));
  assert.ok(delays[0]! < 1, `direct delay ${delays[0]} ms\n${described}`);
  [6, 12, 20, 32].forEach((ms, k) => {
    const i = k + 1;
    assert.ok(
      delays[i]! >= ms - 0.2 && delays[i]! < ms + 3,
      `delay ${delays[i]} ms, expected ~${ms}\n${described}`,
    );
  });
  // Polite: about 4 rounds 2 s apart, all servers at once.
  assert.ok(seconds > 6 && seconds < 20, `took ${seconds} s`);
  assert.match(result.stderr, /probing: \d+\/\d+ requests sent/);

  // --write: the servers replaced in place, every comment and other table kept, and it checks.
  const written = await Deno.readTextFile(`${dir}/ntp.toml`);
  assert.deepEqual(serverTables(written), expected, written);
  for (
    const line of config.split("\n").filter((l) =>
      !/^(\[\[server\]\]|address = "192|iburst)/.test(l)
    )
  ) {
    assert.ok(written.includes(line), `lost line '${line}'\n${written}`);
  }
  assert.ok(!written.includes("192.0.2.1") && !written.includes("192.0.2.2"), written);
  assert.match(
    written,
    /# picked by ntp pick on \d{4}-\d\d-\d\d from .*candidates\.txt\n\[\[server\]\]/,
  );
  const check = await runNtp(["config", "check", `${dir}/ntp.toml`]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /valid toml \(4 servers, 0 pools, 1 restrict rule/);
  const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(leftovers, ["candidates.txt", "ntp.toml"]);
});
