// The doctor's pure checks: each turns facts into OK/WARN/FAIL with a fix; the report's text, JSON and exit code.
import { checkNtsCrypto } from "../../src/core/doctor/nts_crypto_check.ts";
import { parseUnitSandbox } from "../../src/core/doctor/unit_sandbox_check.ts";
import assert from "node:assert/strict";
import { checkCapability } from "../../src/core/doctor/capability_check.ts";
import { checkConfig } from "../../src/core/doctor/config_check.ts";
import { diagnose, type DoctorFacts } from "../../src/core/doctor/diagnose.ts";
import {
  doctorExitCode,
  fail,
  findingsJson,
  formatFindings,
  ok,
  warn,
} from "../../src/core/doctor/finding.ts";
import { checkListenPort } from "../../src/core/doctor/listen_port_check.ts";
import {
  checkReadiness,
  type DaemonStatusFacts,
  type ReadinessFacts,
} from "../../src/core/doctor/readiness_checks.ts";
import {
  checkRivalDaemons,
  type RivalProcess,
  stopServiceCommand,
} from "../../src/core/doctor/rival_daemons_check.ts";
import { checkUpstreams, type UpstreamFacts } from "../../src/core/doctor/upstream_check.ts";

Deno.test("formatFindings() prints OK|WARN|FAIL, aligned check names, the detail and an indented fix line", () => {
  const lines = formatFindings([
    ok("config", "/etc/ntp/ntp.toml loads (4 upstreams)"),
    warn("poll", "64 s, not yet 1024 s", "wait"),
    fail("listen 0.0.0.0:123", "UDP 0.0.0.0:123 is taken by chronyd (pid 812)", "stop it"),
  ]);
  assert.deepEqual(lines, [
    "OK    config              /etc/ntp/ntp.toml loads (4 upstreams)",
    "WARN  poll                64 s, not yet 1024 s",
    "      fix: wait",
    "FAIL  listen 0.0.0.0:123  UDP 0.0.0.0:123 is taken by chronyd (pid 812)",
    "      fix: stop it",
    "",
    "1 failed, 1 warning, 1 ok",
  ]);
});

Deno.test("the exit code is 1 only when a check failed; warnings alone exit 0", () => {
  assert.equal(doctorExitCode([ok("a", "x"), warn("b", "y", "z")]), 0);
  assert.equal(doctorExitCode([ok("a", "x"), fail("b", "y", "z")]), 1);
  assert.deepEqual(findingsJson([fail("b", "y", "z")]), {
    ok: false,
    exitCode: 1,
    checks: [{ status: "fail", check: "b", detail: "y", fix: "z" }],
  });
});

Deno.test("checkConfig() fails on the first error and names the command that lists all of them", () => {
  const finding = checkConfig({
    path: "/etc/ntp/ntp.toml",
    searched: [],
    errors: ["line 3: server[0].minpoll: got 1, expected an integer from 3 to 17", "line 9: x"],
    warnings: [],
    upstreamCount: 0,
  });
  assert.equal(finding.status, "fail");
  assert.equal(
    finding.detail,
    "/etc/ntp/ntp.toml does not load: line 3: server[0].minpoll: got 1, expected an integer " +
      "from 3 to 17 (and 1 more)",
  );
  assert.equal(
    finding.fix,
    "correct the file; ntp config check /etc/ntp/ntp.toml lists every problem",
  );
  assert.equal(
    checkConfig({ path: null, searched: ["/a", "/b"], errors: [], warnings: [], upstreamCount: 0 })
      .status,
    "warn",
  );
  assert.deepEqual(
    checkConfig({ path: "/x.toml", searched: [], errors: [], warnings: [], upstreamCount: 4 }),
    ok("config", "/x.toml loads (4 upstreams)"),
  );
});

Deno.test("checkListenPort() accepts a port held by our daemon and names any other holder with the command that stops it", () => {
  const base = { hostname: "0.0.0.0", port: 123 } as const;
  assert.equal(
    checkListenPort({ ...base, bind: { kind: "free" }, controlVersion: null, owners: [] }).status,
    "ok",
  );
  const ours = checkListenPort({
    ...base,
    bind: { kind: "inUse" },
    controlVersion: "ntp 0.1.0",
    owners: [{ pid: 42, name: "ntp", localAddress: "0.0.0.0:123" }],
  });
  assert.equal(ours.status, "ok");
  assert.match(ours.detail, /ntp \(pid 42\).*"ntp 0\.1\.0": our daemon/);
  const chrony = checkListenPort({
    ...base,
    bind: { kind: "inUse" },
    controlVersion: null,
    owners: [{ pid: 812, name: "chronyd", localAddress: "0.0.0.0:123" }],
  });
  assert.equal(chrony.status, "fail");
  assert.equal(chrony.detail, "UDP 0.0.0.0:123 is taken by chronyd (pid 812)");
  assert.match(chrony.fix ?? "", /systemctl disable --now chrony/);
  const ntpsec = checkListenPort({
    ...base,
    bind: { kind: "inUse" },
    controlVersion: "ntpd ntpsec-1.2.2",
    owners: [],
  });
  assert.equal(ntpsec.status, "fail");
  assert.match(ntpsec.detail, /another NTP server \(mode 6 version "ntpd ntpsec-1\.2\.2"\)/);
  assert.match(ntpsec.fix ?? "", /ss -ulpn 'sport = :123'/);
  const denied = checkListenPort({
    ...base,
    bind: { kind: "denied", message: "EACCES" },
    controlVersion: null,
    owners: [],
  });
  assert.equal(denied.status, "fail");
  assert.match(denied.fix ?? "", /CAP_NET_BIND_SERVICE/);
});

Deno.test("checkCapability(): kernel without CAP_SYS_TIME fails, auto warns about the soft clock, soft never needs it", () => {
  assert.equal(checkCapability({ holdsSysTime: false, clock: "kernel" }).status, "fail");
  const auto = checkCapability({ holdsSysTime: false, clock: "auto" });
  assert.equal(auto.status, "warn");
  assert.match(auto.detail, /soft clock/);
  assert.match(auto.fix ?? "", /AmbientCapabilities=CAP_SYS_TIME/);
  assert.equal(checkCapability({ holdsSysTime: false, clock: "soft" }).status, "ok");
  assert.equal(checkCapability({ holdsSysTime: true, clock: "auto" }).status, "ok");
});

function rival(fields: Partial<RivalProcess>): RivalProcess {
  return {
    pid: 812,
    name: "chronyd",
    args: ["/usr/sbin/chronyd", "-F", "1"],
    sameNetworkNamespace: true,
    holdsSysTime: true,
    ...fields,
  };
}

Deno.test("checkRivalDaemons() fails on a time daemon here or one that can set the clock, and ignores a harmless one elsewhere", () => {
  assert.equal(checkRivalDaemons([]).status, "ok");
  const here = checkRivalDaemons([rival({ args: ["chronyd", "-x"], holdsSysTime: false })]);
  assert.equal(here.status, "fail");
  assert.match(here.detail, /chronyd \(pid 812\), cannot set the clock/);
  assert.match(here.fix ?? "", /systemctl disable --now chrony.*kill 812/);
  const elsewhereWithClock = checkRivalDaemons([rival({ sameNetworkNamespace: false })]);
  assert.equal(elsewhereWithClock.status, "fail");
  assert.match(elsewhereWithClock.detail, /another network namespace, can set the clock/);
  const harmless = checkRivalDaemons([
    rival({ sameNetworkNamespace: false, holdsSysTime: false }),
  ]);
  assert.equal(harmless.status, "ok");
  assert.equal(
    harmless.detail,
    "no other time daemon runs here; ignored chronyd (pid 812) in other network namespaces, " +
      "unable to set the clock",
  );
  const unknownNamespace = checkRivalDaemons([rival({ sameNetworkNamespace: null })]);
  assert.equal(unknownNamespace.status, "fail", "an unknown namespace counts as ours");
});

Deno.test("stopServiceCommand() tells ntpsec, OpenNTPD and systemd-timesyncd apart", () => {
  assert.equal(
    stopServiceCommand({
      name: "ntpd",
      args: ["/usr/sbin/ntpd", "-c", "/etc/ntpsec/ntp.conf", "-u", "ntpsec:ntpsec"],
    }),
    "systemctl disable --now ntpsec",
  );
  assert.equal(
    stopServiceCommand({ name: "ntpd", args: ["ntpd: ntp engine"] }),
    "systemctl disable --now openntpd",
  );
  assert.equal(stopServiceCommand({ name: "systemd-timesyn" }), "timedatectl set-ntp false");
  assert.equal(stopServiceCommand({ name: "sshd" }), null);
});

function upstream(
  answers: UpstreamFacts["resolved"],
  fields: Partial<UpstreamFacts> = {},
): UpstreamFacts {
  return { name: "a.example", port: 123, pool: false, resolved: answers, ...fields };
}

Deno.test("checkUpstreams() reports each upstream's answer, and fails on silence, KoD, unsynchronised and names that do not resolve", () => {
  const [good] = checkUpstreams([upstream({
    ok: true,
    answers: [{
      address: "192.0.2.1",
      answer: {
        kind: "ok",
        stratum: 2,
        refid: "GPS",
        offsetSeconds: 0.000012,
        delaySeconds: 0.0011,
      },
    }],
  })]);
  assert.deepEqual(
    good,
    ok(
      "upstream a.example",
      "192.0.2.1: stratum 2, refid GPS, offset +0.000012 s, delay 0.001100 s",
    ),
  );
  const [silent, kod, unsync, unresolved] = checkUpstreams([
    upstream({
      ok: true,
      answers: [{ address: "127.0.0.1", answer: { kind: "noAnswer", timeoutSeconds: 2 } }],
    }, { name: "127.0.0.1", port: 40999 }),
    upstream({
      ok: true,
      answers: [{
        address: "192.0.2.1",
        answer: { kind: "kissOfDeath", code: "RATE", meaning: "rate exceeded" },
      }],
    }),
    upstream({
      ok: true,
      answers: [{ address: "192.0.2.1", answer: { kind: "unsynchronised", leap: 3, stratum: 16 } }],
    }),
    upstream({ ok: false, message: "Cannot resolve 'a.example': NXDOMAIN" }),
  ]);
  assert.equal(silent!.status, "fail");
  assert.equal(silent!.check, "upstream 127.0.0.1:40999");
  assert.equal(silent!.detail, "no answer within 2 s");
  assert.match(silent!.fix ?? "", /ntp query 127\.0\.0\.1:40999/);
  assert.equal(kod!.status, "fail");
  assert.match(kod!.detail, /Kiss-o'-Death RATE \(rate exceeded\)/);
  assert.match(kod!.fix ?? "", /poll it less often/);
  assert.equal(unsync!.status, "fail");
  assert.equal(unresolved!.status, "fail");
  assert.match(unresolved!.fix ?? "", /getent hosts a\.example/);
  const partial = checkUpstreams([upstream({
    ok: true,
    answers: [
      {
        address: "192.0.2.1",
        answer: { kind: "ok", stratum: 1, refid: "GPS", offsetSeconds: 0, delaySeconds: 0.01 },
      },
      { address: "192.0.2.2", answer: { kind: "noAnswer", timeoutSeconds: 2 } },
    ],
  }, { pool: true, name: "pool.example" })]);
  assert.equal(partial[0]!.status, "warn");
  assert.match(partial[0]!.detail, /^1 of 2 addresses answer; 192\.0\.2\.2: no answer/);
  const high = checkUpstreams([upstream({
    ok: true,
    answers: [{
      address: "192.0.2.1",
      answer: { kind: "ok", stratum: 4, refid: "x", offsetSeconds: 0, delaySeconds: 0 },
    }],
  })]);
  assert.equal(high[0]!.status, "warn");
  assert.match(high[0]!.detail, /serve stratum 5/);
  assert.equal(checkUpstreams([])[0]!.status, "warn");
});

const synced: DaemonStatusFacts = {
  server: "127.0.0.1:123",
  synchronised: true,
  stratum: 3,
  refid: "10.201.1.1",
  systemPeerAssociationId: 1,
  offsetSeconds: 0.000123,
  pollSeconds: 1024,
  version: "ntp 0.1.0",
};

function readiness(fields: Partial<ReadinessFacts>): ReadinessFacts {
  return { daemon: { ok: true, status: synced }, maxPollLog2: 10, public: null, ...fields };
}

Deno.test("checkReadiness() passes a settled, synchronised server reached from its public address", () => {
  const findings = checkReadiness(readiness({
    public: {
      target: "203.0.113.5:123",
      answer: { kind: "ok", stratum: 3, refid: "x", offsetSeconds: 0, delaySeconds: 0.0002 },
    },
  }));
  assert.deepEqual(findings.map((f) => [f.check, f.status]), [
    ["daemon", "ok"],
    ["sync", "ok"],
    ["offset", "ok"],
    ["stratum", "ok"],
    ["poll", "ok"],
    ["public", "ok"],
  ]);
  assert.equal(findings[2]!.detail, "+0.123 ms, well under the pool's 25 ms");
});

Deno.test("checkReadiness() judges offset, stratum, poll, orphan mode and a skipped public check", () => {
  const at = (fields: Partial<DaemonStatusFacts>, more: Partial<ReadinessFacts> = {}) =>
    checkReadiness(readiness({ daemon: { ok: true, status: { ...synced, ...fields } }, ...more }));
  const status = (findings: ReturnType<typeof checkReadiness>, check: string) =>
    findings.find((f) => f.check === check)?.status;
  assert.equal(status(at({ offsetSeconds: 0.015 }), "offset"), "warn");
  assert.equal(status(at({ offsetSeconds: -0.030 }), "offset"), "fail");
  assert.equal(status(at({ stratum: 5 }), "stratum"), "fail");
  const young = at({ pollSeconds: 64 });
  assert.equal(status(young, "poll"), "warn");
  assert.match(young.find((f) => f.check === "poll")!.fix ?? "", /^wait/);
  const capped = at({ pollSeconds: 16 }, { maxPollLog2: 4 });
  assert.match(capped.find((f) => f.check === "poll")!.fix ?? "", /maxpoll = 10/);
  assert.equal(status(at({ systemPeerAssociationId: 0, stratum: 10 }), "sync"), "fail");
  assert.equal(status(at({}), "public"), "warn");
  const unsynced = at({ synchronised: false, stratum: 16 });
  assert.deepEqual(unsynced.map((f) => [f.check, f.status]), [
    ["daemon", "ok"],
    ["sync", "fail"],
    ["public", "warn"],
  ]);
  const down = checkReadiness(
    readiness({ daemon: { ok: false, server: "127.0.0.1:123", message: "no answer" } }),
  );
  assert.deepEqual(down.map((f) => [f.check, f.status]), [["daemon", "fail"], ["public", "warn"]]);
  const kod = checkReadiness(readiness({
    public: {
      target: "203.0.113.5:123",
      answer: { kind: "kissOfDeath", code: "RATE", meaning: null },
    },
  }));
  assert.equal(status(kod, "public"), "fail");
});

Deno.test("diagnose() runs every check in report order", () => {
  const facts: DoctorFacts = {
    config: { path: "/x.toml", searched: [], errors: [], warnings: [], upstreamCount: 1 },
    listen: [{
      hostname: "127.0.0.1",
      port: 123,
      bind: { kind: "free" },
      controlVersion: null,
      owners: [],
    }],
    capability: { holdsSysTime: true, clock: "auto" },
    rivals: [],
    upstreams: [upstream({
      ok: true,
      answers: [{ address: "192.0.2.1", answer: { kind: "noAnswer", timeoutSeconds: 1 } }],
    })],
    firewall: { ports: [123], listings: [{ tool: "nft", kind: "missing" }] },
    readiness: readiness({}),
    leapFile: null,
    leapSmear: null,
    unitSandbox: {
      files: ["/etc/systemd/system/ntp.service"],
      sandbox: parseUnitSandbox(["[Service]\nProtectSystem=strict\nStateDirectory=ntp\n"]),
      writes: [{ setting: "driftfile", path: "/var/lib/ntp/ntp.drift", directory: false }],
    },
    ntsCrypto: { backend: "nettle", reason: "" },
  };
  const findings = diagnose(facts);
  assert.deepEqual(findings.map((f) => f.check), [
    "config",
    "listen 127.0.0.1:123",
    "capability",
    "rival daemons",
    "upstream a.example",
    "leapfile",
    "unit sandbox",
    "nts crypto",
    "firewall",
    "daemon",
    "sync",
    "offset",
    "stratum",
    "poll",
    "public",
  ]);
  assert.equal(doctorExitCode(findings), 1);
});

Deno.test("checkReadiness() adds 'public nts' with NTS on: OK when NTS-KE works from the public address, FAIL when TCP does not get through, WARN when TLS or NTS-KE fails", () => {
  const publicNts = (outcome: NonNullable<ReadinessFacts["publicNts"]>["outcome"]) =>
    checkReadiness(readiness({ publicNts: { target: "203.0.113.5:4460", kePort: 4460, outcome } }))
      .find((f) => f.check === "public nts")!;
  const good = publicNts({ kind: "ok", cookies: 8 });
  assert.equal(good.status, "ok");
  assert.match(good.detail, /8 cookies/);
  const closed = publicNts({
    kind: "unreachable",
    reason: "cannot connect to 203.0.113.5:4460: Connection refused",
  });
  assert.equal(closed.status, "fail");
  assert.match(closed.fix ?? "", /inbound TCP 4460/);
  const certificate = publicNts({
    kind: "refused",
    reason: "TLS with 203.0.113.5:4460 failed: its certificate: hostname mismatch",
  });
  assert.equal(certificate.status, "warn");
  assert.match(certificate.detail, /TCP 4460 is reachable, but NTS-KE failed: .*hostname mismatch/);
  assert.equal(
    checkReadiness(readiness({})).some((f) => f.check === "public nts"),
    false,
    "nothing without NTS or --public",
  );
});

Deno.test("checkLeapFile(): OK while valid, WARN within 30 days of expiry or for tzdata's expired copy, FAIL for a configured file expired or damaged (its line)", async () => {
  const { checkLeapFile } = await import("../../src/core/doctor/leap_file_check.ts");
  const { readLeapSecondsFile } = await import("../../src/core/leap/leap_seconds_file.ts");
  const text = await Deno.readTextFile(
    new URL("../testdata/leap/tzdata-2025b-leap-seconds.list", import.meta.url),
  );
  const reading = readLeapSecondsFile(text);
  const at = (date: string, configured = true) =>
    checkLeapFile({
      path: "/etc/ntp/leap-seconds.list",
      configured,
      reading,
      nowUnixSeconds: Date.parse(date) / 1000,
    });
  const valid = at("2026-01-01T00:00:00Z");
  assert.equal(valid.status, "ok");
  assert.match(valid.detail, /TAI-UTC 37 s, last leap 2017-01-01; valid until 2026-06-28/);
  assert.equal(at("2026-06-10T00:00:00Z").status, "warn");
  const expired = at("2026-12-06T00:00:00Z");
  assert.equal(expired.status, "fail");
  assert.match(expired.detail, /expired on 2026-06-28 \(ntpd's expire=202606280000\)/);
  assert.match(expired.fix ?? "", /apt upgrade tzdata/);
  assert.equal(at("2026-12-06T00:00:00Z", false).status, "warn", "tzdata's, not configured");
  const damaged = checkLeapFile({
    path: "/etc/ntp/leap-seconds.list",
    configured: true,
    reading: readLeapSecondsFile(text.replace(/^#h.*$/m, "#h 0 0 0 0 0")),
    nowUnixSeconds: Date.parse("2026-01-01T00:00:00Z") / 1000,
  });
  assert.equal(damaged.status, "fail");
  assert.match(damaged.detail, /leap-seconds\.list:\d+: the #h hash does not match/);
  assert.equal(checkLeapFile(null).status, "warn");
});

Deno.test("checkLeapSmear(): none when off, OK on private addresses, FAIL on a public one or a wildcard on a machine with a public address", async () => {
  const { checkLeapSmear, isPublicAddress } = await import(
    "../../src/core/doctor/leap_smear_check.ts"
  );
  const v4 = (...bytes: number[]) => new Uint8Array(bytes);
  const v6 = (text: string) => {
    const bytes = new Uint8Array(16);
    const [head, tail = ""] = text.split("::");
    const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
    const h = groups(head!);
    const t = groups(tail);
    [...h, ...Array(8 - h.length - t.length).fill(0), ...t].forEach((g, i) => {
      bytes[2 * i] = g >> 8;
      bytes[2 * i + 1] = g & 0xff;
    });
    return bytes;
  };
  for (
    const address of [v4(10, 1, 2, 3), v4(192, 168, 1, 1), v4(172, 31, 0, 1), v4(127, 0, 0, 1)]
  ) {
    assert.equal(isPublicAddress(address), false, address.join("."));
  }
  assert.equal(isPublicAddress(v4(100, 64, 0, 1)), false);
  assert.equal(isPublicAddress(v4(172, 32, 0, 1)), true);
  assert.equal(isPublicAddress(v4(203, 0, 113, 5)), true);
  assert.equal(isPublicAddress(v6("fd00::1")), false);
  assert.equal(isPublicAddress(v6("fe80::1")), false);
  assert.equal(isPublicAddress(v6("::1")), false);
  assert.equal(isPublicAddress(v6("::ffff:c0a8:101")), false);
  assert.equal(isPublicAddress(v6("2001:db8::5")), true);

  assert.equal(checkLeapSmear(null), null);
  const privateOnly = checkLeapSmear({
    intervalSeconds: 7200,
    listeners: [{ text: "10.0.0.1:123", bytes: v4(10, 0, 0, 1) }],
    hostAddresses: [{ text: "203.0.113.5", bytes: v4(203, 0, 113, 5) }],
  });
  assert.equal(privateOnly?.status, "ok");
  assert.match(privateOnly?.detail ?? "", /smeared over 7200 s on 10\.0\.0\.1:123/);
  const publicOne = checkLeapSmear({
    intervalSeconds: 7200,
    listeners: [{ text: "203.0.113.5:123", bytes: v4(203, 0, 113, 5) }],
    hostAddresses: [],
  });
  assert.equal(publicOne?.status, "fail");
  assert.match(publicOne?.detail ?? "", /public address 203\.0\.113\.5:123.*NTP pool forbids/);
  const wildcard = (addresses: Uint8Array[] | null) =>
    checkLeapSmear({
      intervalSeconds: 86400,
      listeners: [{ text: "[::]:123", bytes: new Uint8Array(16) }],
      hostAddresses: addresses?.map((bytes) => ({ text: "host", bytes })) ?? null,
    })?.status;
  assert.equal(wildcard([v6("::1"), v6("fd00::1"), v4(203, 0, 113, 5)]), "ok");
  assert.equal(wildcard([v6("::1"), v6("2001:db8::5")]), "fail");
  assert.equal(wildcard(null), "warn");
});

Deno.test("checkNtsCrypto(): nothing without NTS, OK on Nettle, WARN on the OpenSSL fallback naming the reason and the package", () => {
  assert.equal(checkNtsCrypto(null), null);
  const nettle = checkNtsCrypto({ backend: "nettle", reason: "" });
  assert.equal(nettle?.status, "ok");
  assert.match(nettle?.detail ?? "", /Nettle/);
  const fallback = checkNtsCrypto({
    backend: "openssl",
    reason: "libnettle.so.8 could not be loaded: cannot open shared object file " +
      "(Debian/Ubuntu: apt install libnettle8)",
  });
  assert.equal(fallback?.status, "warn");
  assert.match(fallback?.detail ?? "", /OpenSSL.*libnettle\.so\.8 could not be loaded/);
  assert.match(fallback?.detail ?? "", /apt install libnettle8/);
  assert.match(fallback?.fix ?? "", /install Nettle's library.*restart ntp/);
});
