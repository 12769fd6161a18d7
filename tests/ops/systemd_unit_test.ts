// Tests of conf/ntp.service and conf/ntp.socket: systemd-analyze verify accepts them, and the service grants only what the daemon needs.
import assert from "node:assert/strict";

const unitPath = decodeURIComponent(new URL("../../conf/ntp.service", import.meta.url).pathname);
const socketPath = decodeURIComponent(new URL("../../conf/ntp.socket", import.meta.url).pathname);
const unitText = await Deno.readTextFile(unitPath);
const installedBinary = "/usr/local/bin/ntp";

async function systemdAnalyze(args: readonly string[]): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command("systemd-analyze", {
    args: [...args],
    env: { SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: (decoder.decode(result.stdout) + decoder.decode(result.stderr)).trim(),
  };
}

/**
 * A copy of the unit in a temp dir with ExecStart's binary replaced by a stand-in script there
 * (systemd-analyze verify checks that the binary exists). Dispose it to remove the dir.
 */
async function unitWithStandInBinary(): Promise<
  AsyncDisposable & { path: string; binary: string }
> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-unit-" });
  const binary = `${dir}/ntp`;
  await Deno.writeTextFile(binary, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const path = `${dir}/ntp.service`;
  await Deno.writeTextFile(path, unitText.replaceAll(installedBinary, binary));
  return {
    path,
    binary,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The values of `key=` lines in the unit (all sections), in order. */
function values(key: string): string[] {
  return unitText.split("\n").flatMap((line) => {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    return match !== null && match[1] === key ? [match[2]!] : [];
  });
}

Deno.test("systemd-analyze verify accepts conf/ntp.service without a warning", async () => {
  await using unit = await unitWithStandInBinary();
  const result = await systemdAnalyze(["verify", "--man=no", unit.path]);
  assert.equal(result.code, 0, result.output);
  assert.equal(result.output, "", "verify printed warnings");
});

Deno.test("systemd-analyze verify accepts conf/ntp.socket beside the service; alone it has no service to start", async () => {
  await using unit = await unitWithStandInBinary();
  const socket = unit.path.replace(/ntp\.service$/, "ntp.socket");
  await Deno.copyFile(socketPath, socket);
  const together = await systemdAnalyze(["verify", "--man=no", socket, unit.path]);
  assert.equal(together.code, 0, together.output);
  assert.equal(together.output, "", "verify printed warnings");
  await Deno.remove(unit.path);
  const alone = await systemdAnalyze(["verify", "--man=no", socket]);
  assert.match(alone.output, /ntp\.socket: service ntp\.service not loaded/);
  const text = await Deno.readTextFile(socketPath);
  assert.match(text, /^ListenDatagram=0\.0\.0\.0:123$/m);
  assert.match(text, /^ListenDatagram=\[::\]:123$/m);
  assert.match(text, /^BindIPv6Only=ipv6-only$/m);
});

Deno.test("systemd-analyze verify of the unit as shipped complains at most about the missing /usr/local/bin/ntp", async () => {
  const result = await systemdAnalyze(["verify", "--man=no", unitPath]);
  const binaryInstalled = await Deno.stat(installedBinary).then(() => true, () => false);
  if (binaryInstalled) {
    assert.equal(result.code, 0, result.output);
  } else {
    assert.equal(result.code, 1, result.output);
    assert.equal(
      result.output,
      `ntp.service: Command ${installedBinary} is not executable: No such file or directory`,
    );
  }
});

Deno.test("systemd-analyze verify reports a broken copy of the unit (so the checks above can fail)", async () => {
  await using unit = await unitWithStandInBinary();
  await Deno.writeTextFile(
    unit.path,
    (await Deno.readTextFile(unit.path)).replace("Type=exec", "Type=bogus"),
  );
  const result = await systemdAnalyze(["verify", "--man=no", unit.path]);
  assert.match(result.output, /ntp\.service:\d+: Failed to parse service type, ignoring: bogus/);
});

Deno.test("the unit runs /usr/local/bin/ntp serve with the installed config, restarting on failure", () => {
  assert.deepEqual(values("ExecStart"), [`${installedBinary} serve --config /etc/ntp/ntp.toml`]);
  assert.deepEqual(values("Restart"), ["on-failure"]);
  assert.deepEqual(values("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
  assert.deepEqual(values("WantedBy"), ["multi-user.target"]);
});

Deno.test("the unit runs as a dynamic user with exactly CAP_NET_BIND_SERVICE and CAP_SYS_TIME", () => {
  assert.deepEqual(values("DynamicUser"), ["yes"]);
  const capabilities = "CAP_NET_BIND_SERVICE CAP_SYS_TIME";
  assert.deepEqual(values("AmbientCapabilities"), [capabilities]);
  assert.deepEqual(values("CapabilityBoundingSet"), [capabilities]);
  assert.deepEqual(values("NoNewPrivileges"), ["yes"]);
});

Deno.test("the unit is hardened, keeps state and logs in its own directories, and leaves V8's JIT and the clock alone", () => {
  for (
    const [key, value] of [
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["StateDirectory", "ntp"],
      ["LogsDirectory", "ntp"],
    ]
  ) {
    assert.deepEqual(values(key!), [value], key);
  }
  // V8 needs writable+executable memory; ProtectClock would forbid clock_adjtime.
  assert.deepEqual(values("MemoryDenyWriteExecute"), []);
  assert.deepEqual(values("ProtectClock"), []);
});

Deno.test("the unit conflicts with every other time daemon", () => {
  const conflicts = values("Conflicts").flatMap((v) => v.split(/\s+/));
  for (
    const other of [
      "chronyd.service",
      "chrony.service",
      "ntpd.service",
      "ntpsec.service",
      "systemd-timesyncd.service",
      "openntpd.service",
    ]
  ) {
    assert.ok(conflicts.includes(other), `${other} missing from Conflicts=`);
  }
  // The unit is ntp.service itself: systemd drops a conflict with itself, with a warning.
  assert.ok(!conflicts.includes("ntp.service"));
});

Deno.test("systemd-analyze security rates the unit's exposure 4.0 or lower", async () => {
  await using unit = await unitWithStandInBinary();
  const result = await systemdAnalyze(["security", "--offline=yes", "--no-pager", unit.path]);
  const exposure = /Overall exposure level for ntp\.service: (\d+\.\d)/.exec(result.output);
  assert.ok(exposure !== null, result.output);
  assert.ok(Number(exposure[1]) <= 4.0, `exposure ${exposure[1]}\n${result.output}`);
});
