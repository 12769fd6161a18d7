// The ARM stage's end-to-end check: the aarch64 Deno (npm @deno/linux-arm64-glibc) runs `ntp` under qemu-user; `ntp serve` with the fast I/O back end answers ntpdig, chronyd -Q and the scapy probe, `ntp status` reads it, `ntp config check` passes conf/ntp.toml.
//
// Usage: deno run -A scripts/arm64_emulation_check.ts [AARCH64_DENO]  (default where
// scripts/install_arm64_emulation.sh puts it). It listens on 0.0.0.0 (the pktinfo path) and [::1]. Exit 0 when every check passed, 1 otherwise.
// Every daemon runs without CAP_SYS_TIME (setpriv); the soft clock never touches the host clock.
import { startChronydServer } from "../tests/support/chronyd_server.ts";
import { chronydQuery, ntpdig, scapyProbe } from "../tests/support/clients.ts";
import { freeUdpPort } from "../tests/support/ports.ts";
import { runCommand, startDaemon } from "../tests/support/processes.ts";
import { ntpTaskFlags } from "../tests/support/ntp_server_process.ts";

const aarch64Deno = Deno.args[0] ?? "/var/cache/ntp-arm64/deno-2.9.6/deno";
const repo = decodeURIComponent(new URL("../", import.meta.url).pathname);
const emulate = (argv: readonly string[]) => ["qemu-aarch64-static", aarch64Deno, ...argv];
const ntp = async (args: readonly string[]) =>
  emulate(["run", ...await ntpTaskFlags(), `${repo}main.ts`, ...args]);

let failures = 0;
function check(name: string, ok: boolean, detail: string): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${detail}`);
  if (!ok) failures++;
}

const started = performance.now();
const version = await runCommand(emulate(["--version"]));
check(
  "aarch64 deno",
  /aarch64-unknown-linux-gnu/.test(version.stdout),
  version.stdout.split("\n")[0] ?? "",
);

const configCheck = await runCommand(await ntp(["config", "check", `${repo}conf/ntp.toml`]), {
  timeoutMs: 120_000,
});
check(
  "ntp config check conf/ntp.toml",
  configCheck.code === 0,
  `exit ${configCheck.code}: ${(configCheck.stdout + configCheck.stderr).trim().split("\n")[0]}`,
);

const upstreamPort = await freeUdpPort();
const servePort = await freeUdpPort();
const dir = await Deno.makeTempDir({ prefix: "ntpt-arm64-" });
try {
  await using upstream = await startChronydServer({
    port: upstreamPort,
    bindAddresses: ["127.0.0.1"],
    localStratum: 1,
  });
  void upstream;
  await Deno.writeTextFile(
    `${dir}/ntp.toml`,
    [
      `listen = ["0.0.0.0:${servePort}", "[::1]:${servePort}"]`,
      "[[server]]",
      'address = "127.0.0.1"',
      `port = ${upstreamPort}`,
      "iburst = true",
      "minpoll = 3",
      "maxpoll = 3",
      "",
    ].join("\n"),
  );
  await using serve = await startDaemon(
    await ntp(["serve", "--config", `${dir}/ntp.toml`, "--clock", "soft"]),
    { ready: { stderrPattern: /synchronised to|time correct|serving on/i, timeoutMs: 120_000 } },
  );
  // Synchronised: wait for the first update (up to 60 s under emulation).
  const target = { host: "127.0.0.1", port: servePort };
  let synced = false;
  for (let i = 0; i < 60 && !synced; i++) {
    const probe = await scapyProbe(target, { count: 1, timeoutSeconds: 2 });
    synced = probe.ok && Number(probe.samples[0]?.fields.stratum) === 2;
    if (!synced) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  check("ntp serve (fast I/O) synchronised to chronyd", synced, "stratum 2 served");
  const stderr = serve.stderr;
  check(
    "fast I/O kept going without SO_TIMESTAMPNS, warned once",
    /serving on 0\.0\.0\.0:\d+, \[::1\]:\d+ \(fast I\/O/.test(stderr) &&
      (stderr.match(/responders: SO_TIMESTAMPNS refused/g) ?? []).length === 1,
    (stderr.match(/(responders: SO_TIMESTAMPNS refused|serving on ).*/g) ?? []).join(" | "),
  );
  const dig = await ntpdig(target);
  check(
    "ntpdig (through the 0.0.0.0 listener)",
    dig.ok && dig.stratum === 2,
    `offset ${dig.offsetSeconds} s, stratum ${dig.stratum}`,
  );
  const chrony = await chronydQuery({ host: "::1", port: servePort });
  check("chronyd -Q over IPv6 ([::1])", chrony.ok, `offset ${chrony.offsetSeconds} s`);
  const probe = await scapyProbe(target, { count: 3 });
  check(
    "scapy probe",
    probe.ok && probe.samples.every((s) => s.result === "OK" && s.problems.length === 0),
    probe.samples.map((s) => `${s.result} ${s.fields.offset ?? ""}`).join(", "),
  );
  const status = await runCommand(
    await ntp(["status", "--server", `127.0.0.1:${servePort}`, "--timeout", "5"]),
    { timeoutMs: 120_000 },
  );
  check(
    "ntp status (aarch64) reads it",
    status.code === 0 && /synchronised to NTP server \(127\.0\.0\.1\)/.test(status.stdout),
    `exit ${status.code}: ${status.stdout.split("\n").find((l) => /synchronised/.test(l)) ?? ""}`,
  );
  const exit = await serve.stop({ graceMs: 20_000 });
  check("ntp serve stops on SIGTERM", exit.code === 0 && !exit.killed, `exit ${exit.code}`);
} catch (error) {
  check("end-to-end run", false, String(error));
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
console.log(
  `${failures === 0 ? "all checks passed" : `${failures} check(s) failed`} in ${
    ((performance.now() - started) / 1000).toFixed(0)
  } s`,
);
Deno.exit(failures === 0 ? 0 : 1);
