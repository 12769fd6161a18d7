// `ntp config check|import`: exit codes, output, and usage errors.
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { UsageError } from "../../src/cli/errors.ts";
import { runConfigCommand } from "../../src/cli/config_command.ts";
import { checkConfigText } from "../../src/config/parse_config.ts";
import { runCaptured, seedMachineProbe, typedPath } from "./_helpers.ts";

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ntp-config-command-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const fourServers = ["a", "b", "c", "d"]
  .map((name) => `[[server]]\naddress = "${name}.example.net"\niburst = true\n`)
  .join("\n");

Deno.test("config check exits 0 on a valid file and prints a summary", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/ntp.toml`;
    await Deno.writeTextFile(file, `driftfile = "${dir}/drift"\n\n${fourServers}`);
    const run = await runCaptured(["check", file]);
    assert.equal(run.code, 0);
    assert.equal(run.stderr, "");
    assert.equal(
      run.stdout,
      `${file}: valid toml (4 servers, 0 pools, 0 restrict rules, 0 warnings)\n`,
    );
  });
});

Deno.test("config check exits 0 with warnings printed when there are fewer than four servers", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/ntp.toml`;
    await Deno.writeTextFile(file, `# one server\n[[server]]\naddress = "a.example.net"\n`);
    const run = await runCaptured(["check", file]);
    assert.equal(run.code, 0);
    assert.equal(
      run.stderr,
      `${file}:2:1: warning: only 1 server configured; the NTP pool advises at least 4 so that ` +
        `one bad server can be outvoted\n`,
    );
  });
});

Deno.test("config check exits 1 with FILE:LINE:COL lines on a broken file", async () => {
  const file = typedPath("tests/testdata/config/diagnostics/bad_poll.toml");
  const run = await runCaptured(["check", file], { probe: seedMachineProbe });
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.match(line, /^[^:]+:\d+:\d+: error: server\[\d\]\.(minpoll|maxpoll): /);
  }
});

Deno.test("config check exits 1 when the file cannot be read", async () => {
  const run = await runCaptured(["check", "/nonexistent-ntp-config-test/ntp.toml"]);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /^\/nonexistent-ntp-config-test\/ntp\.toml:1:1: error: cannot read the file: /,
  );
});

Deno.test("config check warns about a world-writable config file but still exits 0", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/ntp.toml`;
    await Deno.writeTextFile(file, fourServers);
    await Deno.chmod(file, 0o666);
    const run = await runCaptured(["check", file]);
    assert.equal(run.code, 0);
    assert.equal(
      run.stderr,
      `${file}:1:1: warning: the file is writable by every user (mode 0666), so anyone can ` +
        `change its servers and access rules; run chmod o-w on it\n`,
    );
  });
});

Deno.test("config import of the seed prints TOML that parses and checks clean", async () => {
  const run = await runCaptured(["import", typedPath("tests/testdata/config/seed-ntp.conf")]);
  assert.equal(run.code, 0);
  assert.equal(run.stderr, "");
  const document = parse(run.stdout);
  assert.equal((document.server as unknown[]).length, 7);
  const checked = checkConfigText(run.stdout, { fileName: "imported.toml" });
  assert.deepEqual(checked.diagnostics, []);
  assert.ok(checked.config);
});

Deno.test("config import keeps comments and turns unknown directives into commented lines", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/ntp.conf`;
    await Deno.writeTextFile(
      file,
      "# header\n\n# the drift\ndriftfile /var/lib/ntp/drift # ppm\nenable stats\n" +
        "server a.example.net iburst\n",
    );
    const run = await runCaptured(["import", file]);
    assert.equal(run.code, 0);
    assert.equal(
      run.stderr,
      `${file}:5:1: warning: unknown directive "enable" is ignored and kept as a comment\n` +
        `${file}:6:1: warning: only 1 server configured; the NTP pool advises at least 4 so that ` +
        `one bad server can be outvoted\n`,
    );
    assert.equal(
      run.stdout,
      [
        `# Imported from ${file} by "ntp config import".`,
        "",
        "# header",
        "",
        "# the drift",
        'driftfile = "/var/lib/ntp/drift" # ppm',
        "",
        "# (ntp.conf line 5, not understood) enable stats",
        "",
        "[[server]]",
        'address = "a.example.net"',
        "iburst = true",
        "",
      ].join("\n"),
    );
  });
});

Deno.test("config import refuses a file that is already TOML", async () => {
  const run = await runCaptured(["import", typedPath("conf/ntp.toml")]);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /:1:1: error: this file is TOML already; check it with "ntp config check /,
  );
});

Deno.test("config import exits 1 and prints no TOML when the ntp.conf has errors", async () => {
  const run = await runCaptured([
    "import",
    typedPath("tests/testdata/config/diagnostics/unsupported.conf"),
  ]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /:6:1: error: peer: symmetric peering is not supported yet/);
});

Deno.test("runConfigCommand throws UsageError for a bad command line", async () => {
  const bad: string[][] = [[], ["lint", "x"], ["check"], ["import"], ["check", "a", "b"], [
    "check",
    "--strict",
    "a",
  ], [
    "check",
    "",
  ]];
  for (const args of bad) {
    await assert.rejects(
      () => runConfigCommand(args, { stdout: () => {}, stderr: () => {} }),
      UsageError,
    );
  }
});

Deno.test("config help prints the usage and exits 0", async () => {
  const run = await runCaptured(["--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^usage: ntp config check FILE/);
});
