// `ntp doctor`'s "unit sandbox" check: the installed ntp.service (its file and drop-ins, read where systemd looks) against the files the config has the daemon write.
import assert from "node:assert/strict";
import {
  checkUnitSandbox,
  normalisePath,
  parseUnitSandbox,
  unitMayWrite,
  writeFixFor,
  writtenDirectory,
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
  assert.equal(sandbox.dynamicUser, false);
  assert.equal(sandbox.privateTmp, false);
  assert.deepEqual(sandbox.stateDirectories, ["ntp", "other"]);
  assert.deepEqual(sandbox.logsDirectories, ["ntp"]);
  assert.deepEqual(sandbox.readWritePaths, ["/srv/stats"]);
  assert.equal(parseUnitSandbox(["[Service]\nExecStart=/x\n"]).protectSystem, "no");
  // DynamicUser forces strict and a private /tmp, whatever ProtectSystem says; CRLF is read.
  const dynamic = parseUnitSandbox(["[Service]\r\nDynamicUser=yes\r\nProtectSystem=no\r\n"]);
  assert.deepEqual(
    [dynamic.protectSystem, dynamic.dynamicUser, dynamic.privateTmp],
    ["strict", true, true],
  );
});

Deno.test("normalisePath() and writtenDirectory(): '..', '.' and repeated slashes are taken as the kernel takes them", () => {
  assert.equal(normalisePath("/var/lib/ntp/../../../etc//ntp.drift"), "/etc/ntp.drift");
  assert.equal(normalisePath("/var/log/ntp/./stats/"), "/var/log/ntp/stats");
  assert.equal(normalisePath("/../.."), "/");
  assert.equal(
    writtenDirectory({ path: "/var/lib/ntp/../x/ntp.drift", directory: false }),
    "/var/lib/x",
  );
  assert.equal(writtenDirectory({ path: "/ntp.log", directory: false }), "/");
  assert.equal(writtenDirectory({ path: "/var/log/ntp/", directory: true }), "/var/log/ntp");
  const strict = parseUnitSandbox([shippedUnit]);
  assert.ok(!unitMayWrite(strict, "/var/lib/ntp/../../../etc"));
  assert.equal(
    writeFixFor("/", strict),
    "use a path under /var/lib/ntp or /var/log/ntp (the unit's dynamic user can own no other directory)",
  );
});

Deno.test("unitMayWrite(): strict allows only the unit's directories, ReadWritePaths and the temporary ones; full and yes protect /usr, /boot, /efi (and /etc)", () => {
  const strict = parseUnitSandbox([shippedUnit]);
  assert.equal(strict.protectSystem, "strict");
  for (const path of ["/var/lib/ntp", "/var/lib/ntp/sub", "/var/log/ntp", "/tmp/x", "/dev/shm"]) {
    assert.ok(unitMayWrite(strict, path), path);
  }
  for (const path of ["/var/log/ntpstats", "/var/lib/ntpsec", "/var/log", "/etc/ntp", "/srv"]) {
    assert.ok(!unitMayWrite(strict, path), path);
  }
  const full = parseUnitSandbox(["[Service]\nProtectSystem=full\nReadWritePaths=/etc/ntp\n"]);
  assert.ok(!unitMayWrite(full, "/etc/chrony") && unitMayWrite(full, "/etc/ntp"));
  assert.ok(unitMayWrite(full, "/var/log/ntpstats") && !unitMayWrite(full, "/usr/share/ntp"));
  // Without PrivateTmp, strict leaves /tmp read-only too.
  assert.ok(!unitMayWrite(parseUnitSandbox(["[Service]\nProtectSystem=strict\n"]), "/tmp"));
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
  const badWrites = [
    { setting: "driftfile", path: "/var/lib/ntp/ntp.drift", directory: false },
    { setting: "statsdir", path: "/var/log/ntpstats", directory: true },
    { setting: "logfile", path: "/var/log/ntpsec/ntp.log", directory: false },
  ];
  const bad = checkUnitSandbox({ files, sandbox, writes: badWrites })!;
  assert.equal(bad.status, "warn");
  assert.equal(
    bad.detail,
    "/etc/systemd/system/ntp.service (ProtectSystem=strict, DynamicUser) keeps statsdir " +
      "/var/log/ntpstats, logfile /var/log/ntpsec/ntp.log read-only: those writes will fail " +
      "(serving goes on)",
  );
  assert.equal(
    bad.fix,
    "/var/log/ntpstats: systemctl edit ntp and add [Service] LogsDirectory=ntpstats (systemd " +
      "creates /var/log/ntpstats for the service's user), or use /var/lib/ntp or /var/log/ntp; " +
      "/var/log/ntpsec: systemctl edit ntp and add [Service] LogsDirectory=ntpsec (systemd " +
      "creates /var/log/ntpsec for the service's user), or use /var/lib/ntp or /var/log/ntp",
  );
  // The fixes it prints, applied as a drop-in, make the same writes pass.
  const fixed = parseUnitSandbox([
    shippedUnit,
    "[Service]\nLogsDirectory=ntpstats\nLogsDirectory=ntpsec\n",
  ]);
  const again = checkUnitSandbox({ files, sandbox: fixed, writes: badWrites })!;
  assert.equal(again.status, "ok", again.detail);
  // A unit edited to run as a fixed user is told ReadWritePaths=.
  const fixedUser = parseUnitSandbox(["[Service]\nProtectSystem=strict\nStateDirectory=ntp\n"]);
  assert.equal(
    checkUnitSandbox({
      files,
      sandbox: fixedUser,
      writes: [{ setting: "statsdir", path: "/srv/ntp/stats", directory: true }],
    })!.fix,
    "/srv/ntp/stats: systemctl edit ntp and add [Service] ReadWritePaths=-/srv/ntp/stats (and " +
      "make /srv/ntp/stats writable to the service's User=), or use a path under /var/lib/ntp",
  );
  assert.equal(checkUnitSandbox(null), null);
});

Deno.test("readUnitFiles() takes the first unit file on systemd's search path and every drop-in by name (service.d's too), a higher directory's or the unit's own hiding another; a masked unit is none; unitSandboxFacts() lists the config's writes", async () => {
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
    // systemctl set-property's folder, and a drop-in for every service, hidden by name.
    await put(
      "/etc/systemd/system.control/ntp.service.d/50-x.conf",
      "[Service]\nReadWritePaths=/srv/x\n",
    );
    await put("/usr/lib/systemd/system/service.d/20-b.conf", "[Service]\nReadWritePaths=/no\n");
    await put("/usr/lib/systemd/system/service.d/30-c.conf", "[Service]\nReadWritePaths=/srv/c\n");
    const unit = (await readUnitFiles("ntp.service", root))!;
    assert.deepEqual(unit.paths, [
      "/etc/systemd/system/ntp.service",
      "/etc/systemd/system/ntp.service.d/10-a.conf",
      "/usr/lib/systemd/system/ntp.service.d/20-b.conf",
      "/usr/lib/systemd/system/service.d/30-c.conf",
      "/etc/systemd/system.control/ntp.service.d/50-x.conf",
    ]);
    assert.deepEqual(parseUnitSandbox(unit.texts).readWritePaths, [
      "/srv/a",
      "/srv/b",
      "/srv/c",
      "/srv/x",
    ]);

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
    // With NTS: the cookie key file the daemon saves, not the TLS key it only reads.
    const nts = parseConfigText(
      [
        "nts enable",
        "nts cert /etc/ntp/cert.pem",
        "nts key /etc/ntp/key.pem",
        "nts cookie /srv/ntp/cookies",
        "server 192.0.2.1",
        "",
      ].join("\n"),
      { fileName: "ntp.conf" },
    );
    assert.deepEqual((await unitSandboxFacts(nts, root))!.writes, [
      { setting: "nts cookie_keys", path: "/srv/ntp/cookies", directory: false },
    ]);
    // A masked unit (a link to /dev/null) runs nothing: no facts.
    await Deno.remove(`${root}/etc/systemd/system/ntp.service`);
    await Deno.symlink("/dev/null", `${root}/etc/systemd/system/ntp.service`);
    assert.equal(await readUnitFiles("ntp.service", root), null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
