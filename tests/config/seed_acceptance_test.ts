// Acceptance: the seed ntp.conf imports to TOML that check accepts and that loads like conf/ntp.toml.
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { type FileProbe, loadConfigFile } from "../../src/config/load_config_file.ts";
import { repoPath, runCaptured, seedMachineProbe, typedPath } from "./_helpers.ts";

const seed = typedPath("tests/testdata/config/seed-ntp.conf");
const reference = repoPath("conf/ntp.toml");

Deno.test("the seed fixture is the deployment's exact ntp.conf, byte for byte", async () => {
  // The SHA-256 of the seed deployment's /etc/ntp.conf, taken when the fixture was copied in.
  const seedSha256 = "3129263359b33c24ae3c6777a495def9324a8f801703514dc9b1c9f88610bcb5";
  const fixture = await Deno.readFile(repoPath("tests/testdata/config/seed-ntp.conf"));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", fixture));
  assert.equal([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""), seedSha256);
});

Deno.test("the seed ntp.conf imports to TOML that check accepts and that loads like conf/ntp.toml", async () => {
  const imported = await runCaptured(["import", seed], { probe: seedMachineProbe });
  assert.equal(imported.stderr, "");
  assert.equal(imported.code, 0);
  parse(imported.stdout); // valid TOML

  const dir = await Deno.makeTempDir({ prefix: "ntp-config-seed-" });
  try {
    const importedPath = `${dir}/imported.toml`;
    await Deno.writeTextFile(importedPath, imported.stdout);
    const checked = await runCaptured(["check", importedPath], { probe: seedMachineProbe });
    assert.equal(checked.stderr, "");
    assert.equal(checked.code, 0);
    assert.match(checked.stdout, /valid toml \(7 servers, 0 pools, 4 restrict rules, 0 warnings\)/);

    const fromImport = await loadConfigFile(importedPath, { probe: seedMachineProbe });
    const fromReference = await loadConfigFile(reference, { probe: seedMachineProbe });
    const fromSeed = await loadConfigFile(seed, { probe: seedMachineProbe });
    // conf/ntp.toml is the seed with one change: its log file moves into /var/log/ntp/, the
    // only log directory the systemd unit lets the daemon write.
    const asSeed = { ...fromReference, logFile: "/var/log/ntp.log" };
    assert.deepEqual(fromImport, asSeed);
    assert.deepEqual(fromSeed, asSeed);
    assert.equal(fromReference.logFile, "/var/log/ntp/ntp.log");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("conf/ntp.toml resolves to the seed's settings", async () => {
  const config = await loadConfigFile(reference, { probe: seedMachineProbe });
  assert.equal(config.driftFile, "/var/lib/ntp/drift");
  assert.equal(config.logFile, "/var/log/ntp/ntp.log");
  assert.deepEqual(config.servers.map((s) => [s.host, s.family, s.iburst]), [
    ["clock.fmt.he.net", 4, true],
    ["clock.sjc.he.net", 4, true],
    ["usno.hpl.hp.com", 4, true],
    ["clepsydra.dec.com", 4, true],
    ["tick.ucla.edu", 4, true],
    ["time-a.timefreq.bldrdoc.gov", 4, true],
    ["time-c.timefreq.bldrdoc.gov", 4, true],
  ]);
  // Flags in the canonical order of RestrictFlag, whatever order ntp.conf wrote them in.
  const world = ["noquery", "nomodify", "notrap", "nopeer", "kod", "limited"];
  assert.deepEqual(config.restrict, [
    { kind: "default", family: 4, flags: world },
    { kind: "default", family: 6, flags: world },
    { kind: "network", family: 4, network: "127.0.0.1", prefixLength: 32, flags: [] },
    { kind: "network", family: 6, network: "::1", prefixLength: 128, flags: [] },
  ]);
});

Deno.test("conf/ntp.toml writes only where conf/ntp.service lets the daemon write", async () => {
  const config = await loadConfigFile(reference, { probe: seedMachineProbe });
  const unit = await Deno.readTextFile(repoPath("conf/ntp.service"));
  const directory = (key: string, base: string): string => {
    const match = unit.match(new RegExp(`^${key}=(\\S+)$`, "m"));
    assert.ok(match, `conf/ntp.service has no ${key}=`);
    return `${base}/${match[1]}`;
  };
  const parent = (path: string | null): string => path?.replace(/\/[^/]+$/, "") ?? "";
  assert.equal(parent(config.driftFile), directory("StateDirectory", "/var/lib"));
  assert.equal(parent(config.logFile), directory("LogsDirectory", "/var/log"));
  assert.match(unit, /^ProtectSystem=strict$/m); // so nothing else is writable
});

Deno.test("config check of the seed's ntp.conf exits 0 on a machine without /var/lib/ntp, warning with the fix", async () => {
  const bare: FileProbe = {
    isDirectory: (path) => Promise.resolve(path === "/var/log"),
    mode: () => Promise.resolve(0o644),
  };
  const checked = await runCaptured(["check", seed], { probe: bare });
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(
    checked.stderr,
    /seed-ntp\.conf:\d+:\d+: warning: driftfile: directory \/var\/lib\/ntp does not exist \(yet\); create it \(mkdir -p \/var\/lib\/ntp\) or choose another path, or nothing is written there/,
  );
  assert.match(
    checked.stdout,
    /valid ntp\.conf \(7 servers, 0 pools, 4 restrict rules, 1 warning\)/,
  );
});
