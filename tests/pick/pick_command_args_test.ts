// `ntp pick` without the network: flag parsing, the picked [[server]] entries, and --write's check-then-rename.
import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/errors.ts";
import {
  parsePickArgs,
  pickedUpstream,
  pickUsage,
  writePickedServers,
} from "../../src/cli/pick_command.ts";

Deno.test("parsePickArgs() reads --from, --count, -4/-6, --write and --json, with defaults", () => {
  assert.deepEqual(parsePickArgs([]), {
    from: null,
    count: 5,
    family: null,
    write: null,
    json: false,
    nts: null,
  });
  assert.deepEqual(
    parsePickArgs(["--from", "list.txt", "--count=7", "-6", "--write", "ntp.toml", "--json"]),
    { from: "list.txt", count: 7, family: 6, write: "ntp.toml", json: true, nts: null },
  );
  assert.deepEqual(parsePickArgs(["--nts"]).nts, { caFile: null, kePort: 4460 });
  assert.deepEqual(parsePickArgs(["--nts", "--nts-ca", "/ca.pem", "--nts-port", "4461"]).nts, {
    caFile: "/ca.pem",
    kePort: 4461,
  });
});

Deno.test("parsePickArgs() refuses counts outside 4..7, -4 with -6, unknown flags and missing values", () => {
  for (
    const args of [
      ["--count", "3"],
      ["--count", "8"],
      ["--count", "5x"],
      ["-4", "-6"],
      ["--from"],
      [
        "--frm",
        "x",
      ],
      ["extra"],
      ["--nts-ca", "/ca.pem"],
      ["--nts", "--nts-port", "0"],
    ]
  ) {
    assert.throws(() => parsePickArgs(args), UsageError, args.join(" "));
  }
  assert.match(pickUsage, /--count N +how many servers to pick, 4 to 7 \(default 5\)/);
});

Deno.test("pickedUpstream() gives iburst and the schema defaults, and the family only to names", () => {
  assert.deepEqual(pickedUpstream({ host: "a.example", port: 123, line: 1 }, { family: 4 }), {
    host: "a.example",
    port: 123,
    family: 4,
    iburst: true,
    burst: false,
    prefer: false,
    noselect: false,
    minPollLog2: 6,
    maxPollLog2: 10,
    version: 4,
    nts: null,
  });
  assert.deepEqual(
    pickedUpstream({ host: "a.example", port: 123, line: 1 }, {
      family: null,
      nts: { caFile: null, kePort: 4460 },
    }).nts,
    { caFile: null, kePort: 4460, keServer: null, verifyCertificate: true },
  );
  assert.equal(pickedUpstream({ host: "::1", port: 1123, line: 1 }, { family: null }).family, 6);
  assert.equal(
    pickedUpstream({ host: "b.example", port: 123, line: 1 }, { family: null }).family,
    null,
  );
});

const servers = [1, 2, 3, 4].map((n) =>
  pickedUpstream({ host: `127.0.0.${n}`, port: 11000 + n, line: n }, { family: null })
);

Deno.test("writePickedServers() replaces the servers, keeps the file's mode and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-pickw-" });
  try {
    const path = `${dir}/ntp.conf`;
    await Deno.writeTextFile(path, "# mine\nserver 192.0.2.1 iburst\nrestrict default kod\n", {
      mode: 0o640,
    });
    await Deno.chmod(path, 0o640);
    const written = await writePickedServers(path, servers, { note: " now" });
    assert.deepEqual(written, { ok: true, messages: [] });
    assert.equal(
      await Deno.readTextFile(path),
      "# mine\n# picked by ntp pick now\nserver 127.0.0.1 port 11001 iburst\nserver 127.0.0.2 port 11002 iburst\n" +
        "server 127.0.0.3 port 11003 iburst\nserver 127.0.0.4 port 11004 iburst\nrestrict default kod\n",
    );
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o640);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ntp.conf"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writePickedServers() leaves the file as it was when the result fails ntp config check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-pickw-" });
  try {
    const path = `${dir}/ntp.toml`;
    const text = `[tos]\nminclock = 5\nmaxclock = 3\n\n[[server]]\naddress = "192.0.2.1"\n`;
    await Deno.writeTextFile(path, text);
    const written = await writePickedServers(path, servers, { note: "" });
    assert.equal(written.ok, false);
    assert.match(
      written.messages.join("\n"),
      new RegExp(
        `^${path}:\\d+:\\d+: error: tos\\.minclock: minclock 5 is greater than maxclock 3`,
        "m",
      ),
    );
    assert.match(written.messages.at(-1)!, /not written: the result fails 'ntp config check'/);
    assert.equal(await Deno.readTextFile(path), text);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ntp.toml"]);
    const missing = await writePickedServers(`${dir}/nope.toml`, servers, { note: "" });
    assert.equal(missing.ok, false);
    assert.match(missing.messages[0]!, /cannot read it/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
