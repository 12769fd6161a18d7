// loadConfigFile(): format detection, ConfigError with diagnostics, and the file-system checks.
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/diagnostics.ts";
import { inspectConfigFile, loadConfigFile } from "../../src/config/load_config_file.ts";
import { detectFormat } from "../../src/config/parse_config.ts";

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ntp-config-load-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const conf = "server a.example.net\nserver b.example.net\nserver c.example.net\n" +
  "server d.example.net\n";
const toml = ["a", "b", "c", "d"].map((n) => `[[server]]\naddress = "${n}.example.net"\n`).join("");

Deno.test("detectFormat() goes by extension, then by the first meaningful line", () => {
  assert.equal(detectFormat("ntp.toml", "server x"), "toml");
  assert.equal(detectFormat("/etc/ntp.conf", 'a = "b"'), "ntp.conf");
  assert.equal(detectFormat("ntp", "# c\n\nserver x iburst\n"), "ntp.conf");
  assert.equal(detectFormat("ntp", "# c\n[[server]]\n"), "toml");
  assert.equal(detectFormat("ntp", '  driftfile = "/x"\n'), "toml");
  assert.equal(detectFormat("ntp", ""), "toml");
});

Deno.test("loadConfigFile() reads both formats, by extension or by content, to the same config", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.conf`, conf);
    await Deno.writeTextFile(`${dir}/a.toml`, toml);
    await Deno.writeTextFile(`${dir}/conf-without-extension`, conf);
    await Deno.writeTextFile(`${dir}/toml-without-extension`, toml);
    const fromToml = await loadConfigFile(`${dir}/a.toml`);
    assert.equal(fromToml.servers.length, 4);
    assert.deepEqual(await loadConfigFile(`${dir}/a.conf`), fromToml);
    assert.deepEqual(await loadConfigFile(`${dir}/toml-without-extension`), fromToml);
    assert.deepEqual(
      await loadConfigFile(`${dir}/conf-without-extension`),
      await loadConfigFile(`${dir}/a.conf`),
    );
  });
});

Deno.test("loadConfigFile() throws ConfigError carrying every diagnostic", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bad.toml`;
    await Deno.writeTextFile(
      file,
      '[[server]]\naddress = "a.example.net"\nminpoll = 1\nmaxpol = 9\n',
    );
    const error = await loadConfigFile(file).then(
      () => assert.fail("expected ConfigError"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.diagnostics.map((d) => [d.severity, d.line, d.column]), [
      ["warning", 1, 1],
      ["error", 3, 1],
      ["error", 4, 1],
    ]);
    assert.equal(
      error.message.split("\n")[1],
      `${file}:3:1: error: server[0].minpoll: got 1, expected an integer from 3 to 17 (log2 s)`,
    );
  });
});

Deno.test("loadConfigFile() passes warnings to onWarning and still returns the config", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/one.conf`;
    await Deno.writeTextFile(file, "server a.example.net\n");
    const warnings: string[] = [];
    const config = await loadConfigFile(file, { onWarning: (w) => warnings.push(w.message) });
    assert.equal(config.servers.length, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /^only 1 server configured/);
  });
});

Deno.test("paths whose directory does not exist are warnings at the key (the config loads); existing ones pass", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/paths.toml`;
    await Deno.writeTextFile(
      file,
      `driftfile = "${dir}/drift"\nlogfile = "${dir}/missing/ntp.log"\n` +
        `statsdir = "${dir}/stats"\nleapfile = "${dir}/leap-seconds.list"\n${toml}`,
    );
    const result = await inspectConfigFile(file);
    assert.ok(result.config !== null, "missing directories must not stop the config loading");
    assert.deepEqual(
      result.diagnostics.map((d) => `${d.line}:${d.column} ${d.severity} ${d.message}`),
      [
        `2:1 warning logfile: directory ${dir}/missing does not exist (yet); create it (mkdir -p ${dir}/missing) or choose another path, or nothing is written there`,
        `3:1 warning statsdir: no statistics are enabled, so nothing is written there; add e.g. \`statistics loopstats peerstats\``,
        `3:1 warning statsdir: directory ${dir}/stats does not exist (yet); create it (mkdir -p ${dir}/stats) or choose another path, or nothing is written there`,
      ],
    );
    await Deno.mkdir(`${dir}/missing`);
    await Deno.mkdir(`${dir}/stats`);
    const fixed = await inspectConfigFile(file);
    assert.deepEqual(fixed.diagnostics.map((d) => d.message.split(":")[0]), ["statsdir"]);
    assert.equal(fixed.config?.logFile, `${dir}/missing/ntp.log`);
    assert.equal(
      (await inspectConfigFile(file, { checkPaths: false })).diagnostics.length,
      1,
      "only the nothing-enabled warning of statsdir",
    );
  });
});

Deno.test("a path check in ntp.conf points at the path token", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/ntp.conf`;
    await Deno.writeTextFile(file, `${conf}driftfile    ${dir}/none/drift\n`);
    const result = await inspectConfigFile(file);
    assert.deepEqual(result.diagnostics.map((d) => [d.line, d.column, d.message.split(":")[0]]), [
      [5, 14, "driftfile"],
    ]);
  });
});
