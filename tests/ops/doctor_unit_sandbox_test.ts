// `ntp doctor`'s "unit sandbox" check: the installed ntp.service (its file and drop-ins, read where systemd looks) against the files the config has the daemon write.
import assert from "node:assert/strict";
import {
  checkUnitSandbox,
  parseUnitSandbox,
  unitMayWrite,
} from "../../src/core/doctor/unit_sandbox_check.ts";
import { readUnitFiles } from "../../src/io/systemd_unit_files.ts";
import { unitSandboxFacts } from "../../src/cli/doctor_facts.ts";
import { parseConfigText } from "../../src/config/mod.ts";

const shippedUnit = await Deno.readTextFile(new URL("../../conf/ntp.service", import.meta.url));

Deno.test("parseUnitSandbox(): [Service] only, lists add up and an empty assignment clears them, ProtectSystem's last value wins", () => {
  const sandbox = parseUnitSandbox([
    [
      "[Unit]",
      "ReadWritePaths=/not/a/service/key",
      "[Service]",
      "# ReadWritePaths=/commented",
      "ProtectSystem=full",
      "StateDirectory=ntp other",
      "ReadWritePaths=-/var/log/a \\",
      "  +/var/log/b",
      "LogsDirectory=ntp",
    ].join("\n"),
    "[Service]\nProtectSystem=strict\nReadWritePaths=\nReadWritePaths=/srv/stats\n",
  ]);
  assert.equal(sandbox.protectSystem, "strict");
  assert.deepEqual(sandbox.stateDirectories, ["ntp", "other"]);
  assert.deepEqual(sandbox.logsDirectories, ["ntp"]);
  assert.deepEqual(sandbox.readWritePaths, ["/srv/stats"]);
  assert.equal(parseUnitSandbox(["[Service]\nExecStart=/x\n"]).protectSystem, "no");
});

Deno.test("unitMayWrite(): strict allows only the unit's directories, ReadWritePaths and the temporary ones; full and yes protect /usr, /boot, /efi (and /etc)", () => {
  const strict = parseUnitSandbox([shippedUnit]);
  assert.equal(strict.protectSystem, "strict");
  for (const path of ["/var/lib/ntp", "/var/lib/ntp/sub", "/var/log/ntp", "/tmp/x"]) {
    assert.ok(unitMayWrite(strict, path), path);
  }
  for (const path of ["/var/log/ntpstats", "/var/lib/ntpsec", "/var/log", "/etc/ntp", "/srv"]) {
    assert.ok(!unitMayWrite(strict, path), path);
  }
  const full = parseUnitSandbox(["[Service]\nProtectSystem=full\nReadWritePaths=/etc/ntp\n"]);
  assert.ok(!unitMayWrite(full, "/etc/chrony") && unitMayWrite(full, "/etc/ntp"));
  assert.ok(unitMayWrite(full, "/var/log/ntpstats") && !unitMayWrite(full, "/usr/share/ntp"));
  const yes = parseUnitSandbox(["[Service]\nProtectSystem=yes\n"]);
  assert.ok(unitMayWrite(yes, "/etc/ntp") && !unitMayWrite(yes, "/boot/x"));
  assert.ok(unitMayWrite(parseUnitSandbox([""]), "/usr/lib"));
});

Deno.test("checkUnitSandbox() with the shipped unit: OK for /var/lib/ntp and /var/log/ntp, WARN naming each read-only path with the drop-in that fixes it", () => {
  const sandbox = parseUnitSandbox([shippedUnit]);
  const files = ["/etc/systemd/system/ntp.service"];
  const good = checkUnitSandbox({
    files,
    sandbox,
    writes: [
      { setting: "driftfile", path: "/var/lib/ntp/ntp.drift", directory: false },
      { setting: "statsdir", path: "/var/log/ntp/", directory: true },
    ],
  })!;
  assert.equal(good.status, "ok", good.detail);
  const bad = checkUnitSandbox({
    files,
    sandbox,
    writes: [
      { setting: "driftfile", path: "/var/lib/ntp/ntp.drift", directory: false },
      { setting: "statsdir", path: "/var/log/ntpstats", directory: true },
      { setting: "logfile", path: "/var/log/ntpsec/ntp.log", directory: false },
    ],
  })!;
  assert.equal(bad.status, "warn");
  assert.equal(
    bad.detail,
    "/etc/systemd/system/ntp.service (ProtectSystem=strict) keeps statsdir /var/log/ntpstats, " +
      "logfile /var/log/ntpsec/ntp.log read-only: those writes will fail (serving goes on)",
  );
  assert.equal(
    bad.fix,
    "move them under /var/lib/ntp or /var/log/ntp, or systemctl edit ntp and add [Service] " +
      "ReadWritePaths=/var/log/ntpstats /var/log/ntpsec",
  );
  // The fix it prints, applied as a drop-in, makes it pass.
  const fixed = parseUnitSandbox([
    shippedUnit,
    "[Service]\nReadWritePaths=/var/log/ntpstats /var/log/ntpsec\n",
  ]);
  assert.equal(checkUnitSandbox({ files, sandbox: fixed, writes: [] })!.status, "ok");
  assert.equal(checkUnitSandbox(null), null);
});

Deno.test("readUnitFiles() takes the first unit file on systemd's search path and every drop-in by name, a higher directory's hiding a lower one's; unitSandboxFacts() lists the config's writes", async () => {
  const root = await Deno.makeTempDir({ prefix: "ntpt-unit-" });
  const put = async (path: string, text: string) => {
    await Deno.mkdir(`${root}${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${root}${path}`, text);
  };
  try {
    assert.equal(await readUnitFiles("ntp.service", root), null);
    await put("/lib/systemd/system/ntp.service", "[Service]\nProtectSystem=full\n");
    await put("/etc/systemd/system/ntp.service", shippedUnit);
    await put("/lib/systemd/system/ntp.service.d/10-a.conf", "[Service]\nReadWritePaths=/hidden\n");
    await put("/etc/systemd/system/ntp.service.d/10-a.conf", "[Service]\nReadWritePaths=/srv/a\n");
    await put(
      "/usr/lib/systemd/system/ntp.service.d/20-b.conf",
      "[Service]\nReadWritePaths=/srv/b\n",
    );
    await put("/etc/systemd/system/ntp.service.d/notes.txt", "[Service]\nReadWritePaths=/no\n");
    const unit = (await readUnitFiles("ntp.service", root))!;
    assert.deepEqual(unit.paths, [
      "/etc/systemd/system/ntp.service",
      "/etc/systemd/system/ntp.service.d/10-a.conf",
      "/usr/lib/systemd/system/ntp.service.d/20-b.conf",
    ]);
    assert.deepEqual(parseUnitSandbox(unit.texts).readWritePaths, ["/srv/a", "/srv/b"]);

    const config = parseConfigText(
      [
        "driftfile /var/lib/ntp/ntp.drift",
        "statsdir /srv/b/stats",
        "statistics loopstats",
        "logfile /var/log/ntpsec/ntp.log",
        "server 192.0.2.1",
        "",
      ].join("\n"),
      { fileName: "ntp.conf" },
    );
    const facts = (await unitSandboxFacts(config, root))!;
    assert.deepEqual(facts.writes.map((w) => `${w.setting} ${w.path}`), [
      "driftfile /var/lib/ntp/ntp.drift",
      "logfile /var/log/ntpsec/ntp.log",
      "statsdir /srv/b/stats",
    ]);
    const finding = checkUnitSandbox(facts)!;
    assert.equal(finding.status, "warn");
    assert.match(finding.detail, /keeps logfile \/var\/log\/ntpsec\/ntp\.log read-only/);
    assert.doesNotMatch(finding.detail, /statsdir|driftfile/);
    // statsdir without statistics writes nothing: not listed.
    const quiet = parseConfigText("statsdir /srv/c\nserver 192.0.2.1\n", { fileName: "ntp.conf" });
    assert.deepEqual((await unitSandboxFacts(quiet, root))!.writes, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
