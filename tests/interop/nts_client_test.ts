// ntp serve as an NTS client: synchronised from chronyd's NTS server and from our own, every reply authenticated; a wrong CA or a closed KE port never gives a usable source, and says why.
import { waitForValue } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { chronydNtsServerLines, startChronydServer } from "../support/chronyd_server.ts";
import { ntpdPath } from "../support/control_clients.ts";
import { createNetns } from "../support/netns.ts";
import { ntpTaskFlags, ntsServerToml, startNtpServer } from "../support/ntp_server_process.ts";
import { freeTcpPort, freeUdpPort } from "../support/ports.ts";
import { runCommand, startDaemon } from "../support/processes.ts";
import { makeTestCertificates } from "../support/test_ca.ts";
import { startUdpRelay } from "../support/udp_relay.ts";
import { defaultDisciplineSettings } from "../../src/core/discipline/discipline_state.ts";

const repoRoot = new URL("../../", import.meta.url);

/** `ntp ARGS...` from source (main.ts), as a user runs it, in `netns` when given. */
async function ntp(args: readonly string[], netns?: string) {
  return await runCommand([Deno.execPath(), "run", ...await ntpTaskFlags(), "main.ts", ...args], {
    cwd: repoRoot,
    env: { NO_COLOR: "1" },
    timeoutMs: 60_000,
    ...(netns === undefined ? {} : { netns }),
  });
}

interface PeerJson {
  readonly remote: string;
  readonly tally: string;
  readonly reach: number | null;
  readonly variables: Record<string, string | null>;
}

interface StatusJson {
  readonly synchronised: boolean;
  readonly peers: readonly PeerJson[];
}

/** `ntp status --json` of the daemon answering mode 6 on 127.0.0.1:`port`. */
async function status(
  port: number,
  netns?: string,
  host = "127.0.0.1",
): Promise<StatusJson | null> {
  const result = await ntp(["status", "--json", "--server", `${host}:${port}`], netns);
  try {
    return JSON.parse(result.stdout) as StatusJson;
  } catch {
    return null;
  }
}

/** How the NTS tests poll a daemon: every 500 ms, for up to 40,000 ms unless told otherwise. */
const poll = { timeoutMs: 40_000, intervalMs: 500 };

const unquote = (text: string | null | undefined) => (text ?? "").replace(/^"|"$/g, "");

Deno.test({
  name:
    "ntp serve synchronises over NTS from chronyd's NTS server and from another ntp serve; only authenticated replies count, status shows each session",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    const chronydPort = await freeUdpPort();
    const chronydKePort = freeTcpPort();
    const oursPort = await freeUdpPort();
    const oursKePort = freeTcpPort();
    const clientPort = await freeUdpPort();
    try {
      await using _chronyd = await startChronydServer({
        port: chronydPort,
        bindAddresses: ["127.0.0.1"],
        localStratum: 1,
        extraConfig: chronydNtsServerLines(certificates, chronydKePort, dir),
      });
      // Our NTS server takes its time from a plain chronyd on 127.0.0.2 (a refid of 127.0.0.1 would
      // be our client's own address: a loop), and serves it over NTS.
      const referencePort = await freeUdpPort();
      await using _reference = await startChronydServer({
        port: referencePort,
        bindAddresses: ["127.0.0.2"],
        localStratum: 1,
      });
      await using _server = await startNtpServer({
        config: ntsServerToml({
          upstream: { address: "127.0.0.2", port: referencePort },
          certificates,
          kePort: oursKePort,
          cookieKeysFile: `${dir}/cookie-keys`,
        }),
        configFormat: "toml",
        listen: [`127.0.0.1:${oursPort}`],
        clock: "soft",
      });
      // The client: ntp.conf as NTPsec writes it (HOST:PORT with nts is the KE port).
      const started = performance.now();
      await using client = await startNtpServer({
        config: [
          `server 127.0.0.1:${chronydKePort} port ${chronydPort} iburst nts ca ${certificates.caFile} minpoll 4 maxpoll 4`,
          `server 127.0.0.1:${oursKePort} port ${oursPort} iburst nts ca ${certificates.caFile} minpoll 4 maxpoll 4`,
          "tos minsane 2",
          "",
        ].join("\n"),
        configFormat: "conf",
        listen: [`127.0.0.1:${clientPort}`],
        clock: "soft",
      });
      const synced = await waitForValue(
        "the client to synchronise from both NTS servers",
        () => status(clientPort),
        (s) =>
          s !== null && s.synchronised && s.peers.length === 2 &&
          s.peers.every((p) =>
            unquote(p.variables["nts"]) === "ready" && Number(p.variables["ntsauth"]) >= 2
          ),
        poll,
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(`synchronised over NTS from both after ${seconds.toFixed(1)} s`);
      for (const peer of synced!.peers) {
        assert.equal(Number(peer.variables["ntskefail"]), 0, JSON.stringify(peer.variables));
        assert.equal(Number(peer.variables["ntsnak"]), 0);
        assert.ok(Number(peer.variables["ntscookies"]) >= 7, JSON.stringify(peer.variables));
      }
      const text = await ntp(["status", "--server", `127.0.0.1:${clientPort}`]);
      assert.match(
        text.stdout,
        new RegExp(
          `NTS 127\\.0\\.0\\.1: ready; KE 127\\.0\\.0\\.1:${chronydKePort}, \\d cookies, \\d+ authenticated, 0 dropped`,
        ),
      );
      assert.match(
        text.stdout,
        new RegExp(`NTS 127\\.0\\.0\\.1: ready; KE 127\\.0\\.0\\.1:${oursKePort}`),
      );
      assert.match(client.stderr, /NTS-KE with 127\.0\.0\.1:\d+ done: 8 cookies/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "an NTS upstream whose certificate is not trusted, names another host or has expired, or whose KE port is closed, never becomes usable: no plain NTP, a log line and the reason in ntp status",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    const chronydPort = await freeUdpPort();
    const chronydKePort = freeTcpPort();
    const closedKePort = freeTcpPort();
    const clientPort = await freeUdpPort();
    try {
      await using _chronyd = await startChronydServer({
        port: chronydPort,
        bindAddresses: ["127.0.0.1"],
        localStratum: 1,
        extraConfig: chronydNtsServerLines(certificates, chronydKePort, dir),
      });
      // Our NTS server with a certificate that expired yesterday.
      const expiredKePort = freeTcpPort();
      await using _expired = await startNtpServer({
        config: [
          "[nts]",
          "enable = true",
          `cert = "${certificates.expiredCertificateFile}"`,
          `key = "${certificates.expiredKeyFile}"`,
          `listen = ["127.0.0.1:${expiredKePort}"]`,
          "",
        ].join("\n"),
        configFormat: "toml",
        listen: [`127.0.0.1:${await freeUdpPort()}`],
        clock: "soft",
      });
      await using client = await startNtpServer({
        config: [
          "[[server]]",
          'address = "127.0.0.1"',
          `port = ${chronydPort}`,
          "iburst = true",
          "nts = true",
          `nts_ca = "${certificates.otherCaFile}"`,
          `nts_ke_port = ${chronydKePort}`,
          // The certificate names 127.0.0.1 only, not localhost.
          "[[server]]",
          'address = "localhost"',
          "ipv4 = true",
          `port = ${await freeUdpPort()}`,
          "iburst = true",
          "nts = true",
          `nts_ca = "${certificates.caFile}"`,
          `nts_ke_port = ${chronydKePort}`,
          "[[server]]",
          'address = "127.0.0.1"',
          `port = ${await freeUdpPort()}`,
          "iburst = true",
          "nts = true",
          `nts_ca = "${certificates.caFile}"`,
          `nts_ke_port = ${expiredKePort}`,
          "[[server]]",
          'address = "127.0.0.1"',
          `port = ${await freeUdpPort()}`,
          "iburst = true",
          "nts = true",
          `nts_ca = "${certificates.caFile}"`,
          `nts_ke_port = ${closedKePort}`,
          "",
        ].join("\n"),
        configFormat: "toml",
        listen: [`127.0.0.1:${clientPort}`],
        clock: "soft",
      });
      const failed = await waitForValue(
        "the four key exchanges to fail",
        () => status(clientPort),
        (s) =>
          s !== null && s.peers.length === 4 &&
          s.peers.every((p) => unquote(p.variables["nts"]) === "failed"),
        { ...poll, timeoutMs: 20_000 },
      );
      // Several seconds of iburst polls later, still nothing was sent or taken.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const later = (await status(clientPort))!;
      assert.equal(later.synchronised, false);
      for (const peer of later.peers) {
        assert.equal(peer.reach, 0, JSON.stringify(peer.variables));
        assert.equal(Number(peer.variables["ntsauth"]), 0);
      }
      const problems = failed!.peers.map((p) => unquote(p.variables["ntsproblem"])).sort();
      assert.match(problems.join("\n"), /its certificate: unable to get local issuer certificate/);
      assert.match(problems.join("\n"), /cannot connect to 127\.0\.0\.1:\d+: Connection refused/);
      assert.match(
        problems.join("\n"),
        /TLS with localhost:\d+ failed: its certificate: hostname mismatch/,
      );
      assert.match(problems.join("\n"), /its certificate: certificate has expired/);
      assert.match(
        client.stderr,
        /NTS-KE for 127\.0\.0\.1:\d+ failed: TLS with 127\.0\.0\.1:\d+ failed: its certificate/,
      );
      assert.match(
        client.stderr,
        /no time from it until a key exchange succeeds \(next try in \d+ s\)/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** Adds `seconds` to the NTP timestamp at `offset` of `packet` (in place). */
function shiftTimestamp(packet: Uint8Array, offset: number, seconds: number): void {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const value = view.getBigUint64(offset) + BigInt(Math.round(seconds * 2 ** 32));
  view.setBigUint64(offset, value & 0xffffffffffffffffn);
}

Deno.test({
  name:
    "a man in the middle that moves an NTS server's timestamps by +50 ms gets every altered reply dropped and counted; on a plain association the same relay is outvoted; the clock follows the honest sources",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    const chronydPort = await freeUdpPort();
    const chronydKePort = freeTcpPort();
    const honestPort = await freeUdpPort();
    const clientPort = await freeUdpPort();
    try {
      // chronyd's NTS-KE sends its clients to 127.0.0.3 (Server Negotiation): the relay is there.
      await using _chronyd = await startChronydServer({
        port: chronydPort,
        bindAddresses: ["127.0.0.1"],
        localStratum: 1,
        extraConfig: [
          ...chronydNtsServerLines(certificates, chronydKePort, dir),
          "ntsntpserver 127.0.0.3",
        ],
      });
      let altered = 0;
      await using relay = await startUdpRelay({
        listen: { hostname: "127.0.0.3", port: chronydPort },
        target: { hostname: "127.0.0.1", port: chronydPort },
        toClient: {
          rewrite: (reply) => {
            shiftTimestamp(reply, 32, 0.05); // receive
            shiftTimestamp(reply, 40, 0.05); // transmit
            altered++;
            return reply;
          },
        },
      });
      await using _honest = await startChronydServer({
        port: honestPort,
        bindAddresses: ["127.0.0.2"],
        localStratum: 1,
      });
      // A second honest source, and a plain association to it through the same kind of relay.
      const secondHonestPort = await freeUdpPort();
      await using _secondHonest = await startChronydServer({
        port: secondHonestPort,
        bindAddresses: ["127.0.0.2"],
        localStratum: 1,
      });
      const plainRelayPort = await freeUdpPort();
      await using _plainRelay = await startUdpRelay({
        listen: { hostname: "127.0.0.4", port: plainRelayPort },
        target: { hostname: "127.0.0.2", port: secondHonestPort },
        toClient: {
          rewrite: (reply) => {
            shiftTimestamp(reply, 32, 0.05);
            shiftTimestamp(reply, 40, 0.05);
            return reply;
          },
        },
      });
      await using client = await startNtpServer({
        config: [
          `server 127.0.0.1:${chronydKePort} iburst nts ca ${certificates.caFile} minpoll 4 maxpoll 4`,
          `server 127.0.0.2 port ${honestPort} iburst minpoll 4 maxpoll 4`,
          `server 127.0.0.2 port ${secondHonestPort} iburst minpoll 4 maxpoll 4`,
          `server 127.0.0.4 port ${plainRelayPort} iburst minpoll 4 maxpoll 4`,
          "",
        ].join("\n"),
        configFormat: "conf",
        listen: [`127.0.0.1:${clientPort}`],
        clock: "soft",
      });
      const seen = await waitForValue(
        "the client to synchronise to the honest source while the NTS one drops altered replies",
        () => status(clientPort),
        (s) => {
          const nts = s?.peers.find((p) => p.variables["nts"] !== undefined);
          return s !== null && s.synchronised && nts !== undefined &&
            Number(nts.variables["ntsdrop"]) >= 4;
        },
        poll,
      );
      const nts = seen!.peers.find((p) => p.variables["nts"] !== undefined)!;
      const honest = seen!.peers.find((p) =>
        p.variables["srcport"] === String(honestPort) ||
        p.variables["srcport"] === String(secondHonestPort)
      )!;
      const liar = seen!.peers.find((p) => p.variables["srcadr"] === "127.0.0.4")!;
      console.log(
        `altered ${altered} replies; NTS association dropped ${nts.variables["ntsdrop"]}, ` +
          `reach ${nts.reach}; honest source tally "${honest.tally}"`,
      );
      assert.equal(nts.variables["srcadr"], "127.0.0.3", "NTP went where NTS-KE said");
      assert.equal(nts.reach, 0, "no altered reply reached the clock filter");
      assert.equal(Number(nts.variables["ntsauth"]), 0);
      assert.equal(unquote(nts.variables["ntsproblem"]), "");
      assert.ok(Number(nts.variables["ntsdrop"]) >= 4);
      assert.ok(altered >= Number(nts.variables["ntsdrop"]), "only altered replies were dropped");
      assert.ok(relay.stats().forwardedToClient >= 4);
      assert.ok(["*", "+"].includes(honest.tally), `honest tally "${honest.tally}"`);
      assert.ok((liar.reach ?? 0) > 0, "the plain relay's replies do reach the filter");
      assert.ok(Math.abs(Number(liar.variables["offset"]) - 50) < 5, "50 ms off");
      assert.equal(liar.tally, "x", "outvoted as a falseticker");
      const offset = Number(honest.variables["offset"]);
      assert.ok(Math.abs(offset) < 5, `offset to the honest source ${offset} ms`);
      // A start-up step of a millisecond or two may happen; none of the 50 ms the relays add.
      const steps = [...client.stderr.matchAll(/clock stepped by (-?[\d.]+) s/g)].map((m) =>
        Number(m[1])
      );
      assert.ok(steps.every((s) => Math.abs(s) < 0.01), `steps ${steps.join(", ")}`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "an NTS server that lost its cookie keys (restart with a new key file) sends NAKs; the client runs NTS-KE again and stays synchronised without a step",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    const referencePort = await freeUdpPort();
    const serverPort = await freeUdpPort();
    const serverKePort = freeTcpPort();
    const clientPort = await freeUdpPort();
    const serverOptions = (keyFile: string) => ({
      config: ntsServerToml({
        upstream: { address: "127.0.0.2", port: referencePort },
        certificates,
        kePort: serverKePort,
        cookieKeysFile: keyFile,
      }),
      configFormat: "toml" as const,
      listen: [`127.0.0.1:${serverPort}`],
      clock: "soft" as const,
    });
    try {
      await using _reference = await startChronydServer({
        port: referencePort,
        bindAddresses: ["127.0.0.2"],
        localStratum: 1,
      });
      let server = await startNtpServer(serverOptions(`${dir}/keys-1`));
      try {
        await using client = await startNtpServer({
          config: [
            `server 127.0.0.1:${serverKePort} port ${serverPort} iburst nts ca ${certificates.caFile} minpoll 3 maxpoll 3`,
            "",
          ].join("\n"),
          configFormat: "conf",
          listen: [`127.0.0.1:${clientPort}`],
          clock: "soft",
        });
        const peerOf = (s: StatusJson | null) => s?.peers[0];
        const first = await waitForValue(
          "the first synchronisation",
          () => status(clientPort),
          (s) => s !== null && s.synchronised && Number(peerOf(s)?.variables["ntsauth"]) >= 2,
          poll,
        );
        // Within its start-up window (16 s after its first update) the client may still make
        // its one start-up step, on any offset over 1 ms: a restarted server gives one. Past it,
        // only a real step (over the 128 ms threshold) could show.
        await new Promise((resolve) =>
          setTimeout(resolve, (defaultDisciplineSettings.startupWindowSeconds + 1) * 1000)
        );
        const authenticatedBefore = Number(
          peerOf(await status(clientPort))?.variables["ntsauth"] ??
            peerOf(first)!.variables["ntsauth"],
        );
        const logBefore = client.stderr.length; // the start-up step, if any, came before this
        // Disposed, not just stopped: that also removes its config directory (and checks exit 0).
        await server[Symbol.asyncDispose]();
        server = await startNtpServer(serverOptions(`${dir}/keys-2`));
        const after = await waitForValue(
          "a NAK, a second key exchange and authenticated replies again",
          () => status(clientPort),
          (s) => {
            const v = peerOf(s)?.variables ?? {};
            return Number(v["ntsnak"]) >= 1 && Number(v["ntskeruns"]) >= 2 &&
              Number(v["ntsauth"]) >= authenticatedBefore + 2 &&
              unquote(v["nts"]) === "ready" && unquote(v["ntsproblem"]) === "" &&
              s!.synchronised;
          },
          poll,
        );
        const v = peerOf(after)!.variables;
        console.log(
          `NAKs ${v["ntsnak"]}, key exchanges ${v["ntskeruns"]}, authenticated ${v["ntsauth"]}`,
        );
        assert.equal(Number(v["ntskefail"]), 0);
        assert.doesNotMatch(client.stderr.slice(logBefore), /\bstep/i);
      } finally {
        await server[Symbol.asyncDispose]();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "ntp serve synchronises over NTS from ntpsec's ntpd (nts enable, cert, key)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    await using ns = await createNetns();
    try {
      await Deno.writeTextFile(
        `${dir}/ntpd.conf`,
        [
          "disable ntp",
          "disable kernel",
          // No upstream: orphan mode gives leap 00 at stratum 10 after a second.
          "tos orphan 10 orphanwait 1",
          "nts enable",
          `nts cert ${certificates.certificateFile}`,
          `nts key ${certificates.keyFile}`,
          `nts cookie ${dir}/ntpd-cookie-keys`,
          "restrict default",
          "",
        ].join("\n"),
      );
      const ntpd = await startDaemon(
        [ntpdPath, "-n", "-c", `${dir}/ntpd.conf`, "-l", `${dir}/ntpd.log`],
        {
          netns: ns.name,
          // Ready once its NTS-KE server listens on TCP 4460.
          ready: {
            probe: async () =>
              (await runCommand(["ss", "-ltnH", "sport = :4460"], { netns: ns.name })).stdout
                .trim() !== "",
            timeoutMs: 30_000,
          },
        },
      );
      try {
        await using _client = await startNtpServer({
          config: `server 127.0.0.1 iburst nts ca ${certificates.caFile} minpoll 4 maxpoll 4\n`,
          configFormat: "conf",
          // Not 127.0.0.1: the orphan ntpd's refid is 127.0.0.1, which would look like a loop.
          listen: ["127.0.0.3:12323"],
          clock: "soft",
          netns: ns.name,
        });
        const synced = await waitForValue(
          "the client to synchronise from ntpsec over NTS",
          () => status(12323, ns.name, "127.0.0.3"),
          (s) =>
            s !== null && s.synchronised && s.peers.length === 1 &&
            Number(s.peers[0]!.variables["ntsauth"]) >= 2,
          { ...poll, timeoutMs: 90_000 },
        );
        const v = synced!.peers[0]!.variables;
        console.log(
          `ntpsec: ${v["ntscookies"]} cookies, ${v["ntsauth"]} authenticated, ${
            v["ntsdrop"]
          } dropped, stratum ${v["stratum"]}`,
        );
        assert.equal(unquote(v["nts"]), "ready");
        assert.equal(Number(v["ntskefail"]), 0);
        assert.equal(synced!.peers[0]!.tally, "*");
      } finally {
        await ntpd.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "ntp doctor passes an NTS upstream that authenticates and fails one whose certificate is not trusted, naming the reason and the fix",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    const chronydPort = await freeUdpPort();
    const chronydKePort = freeTcpPort();
    try {
      await using _chronyd = await startChronydServer({
        port: chronydPort,
        bindAddresses: ["127.0.0.1"],
        localStratum: 1,
        extraConfig: chronydNtsServerLines(certificates, chronydKePort, dir),
      });
      const configFile = `${dir}/ntp.conf`;
      await Deno.writeTextFile(
        configFile,
        [
          `server 127.0.0.1:${chronydKePort} iburst nts ca ${certificates.caFile}`,
          `server 127.0.0.1:${chronydKePort} port 124 iburst nts ca ${certificates.otherCaFile}`,
          "",
        ].join("\n"),
      );
      // chronyd opens its NTS-KE port a moment after it starts.
      let checks: { status: string; check: string; detail: string; fix?: string }[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        const run = await ntp(["doctor", "--config", configFile, "--json"]);
        checks = (JSON.parse(run.stdout) as { checks: typeof checks }).checks;
        if (checks.some((c) => c.check === "upstream 127.0.0.1" && c.status === "ok")) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const good = checks.find((c) => c.check === "upstream 127.0.0.1");
      const bad = checks.find((c) => c.check === "upstream 127.0.0.1:124");
      assert.equal(good?.status, "ok", JSON.stringify(checks, null, 1));
      assert.match(good!.detail, /stratum 1, .*authenticated with NTS/);
      assert.equal(bad?.status, "fail", JSON.stringify(checks, null, 1));
      assert.match(bad!.detail, /NTS-KE failed: .*unable to get local issuer certificate/);
      assert.match(bad!.fix ?? "", new RegExp(`TCP ${chronydKePort}.*--nts-port ${chronydKePort}`));
      // NTS upstreams in the config: the crypto library is named (Nettle on this machine).
      const crypto = checks.find((c) => c.check === "nts crypto");
      assert.equal(crypto?.status, "ok", JSON.stringify(checks, null, 1));
      assert.match(crypto!.detail, /Nettle \(libnettle\.so\.8\)/);

      // As an NTS server with --public: NTS-KE from outside, as a client with the system's trust
      // store would run it (the test CA is not in it), and a KE port nothing listens on.
      const publicNts = async (kePort: number) => {
        const file = `${dir}/server-${kePort}.toml`;
        await Deno.writeTextFile(
          file,
          [
            "[nts]",
            "enable = true",
            `cert = "${certificates.certificateFile}"`,
            `key = "${certificates.keyFile}"`,
            `listen = ["127.0.0.1:${kePort}"]`,
            "",
          ].join("\n"),
        );
        const run = await ntp([
          "doctor",
          "--config",
          file,
          "--public",
          `127.0.0.1:${chronydPort}`,
          "--json",
        ]);
        const found = (JSON.parse(run.stdout) as { checks: typeof checks }).checks;
        // A config with the NTS server only (no NTS upstream) still gets the crypto check.
        assert.equal(
          found.find((c) => c.check === "nts crypto")?.status,
          "ok",
          JSON.stringify(found, null, 1),
        );
        return found.find((c) => c.check === "public nts");
      };
      const untrusted = await publicNts(chronydKePort);
      assert.equal(untrusted?.status, "warn", JSON.stringify(untrusted));
      assert.match(untrusted!.detail, /reachable, but NTS-KE failed: .*unable to get local issuer/);
      const closed = await publicNts(freeTcpPort());
      assert.equal(closed?.status, "fail", JSON.stringify(closed));
      assert.match(closed!.detail, /Connection refused/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "ntp pick --nts ranks the candidate whose NTS-KE succeeds first and writes it with nts = true; the plain one stays plain",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    const ntsPort = await freeUdpPort();
    const plainPort = await freeUdpPort();
    const kePort = freeTcpPort();
    try {
      await using _nts = await startChronydServer({
        port: ntsPort,
        bindAddresses: ["127.0.0.1"],
        localStratum: 1,
        extraConfig: chronydNtsServerLines(certificates, kePort, dir),
      });
      // The plain one is listed first and is as near: without --nts it would rank first.
      await using _plain = await startChronydServer({
        port: plainPort,
        bindAddresses: ["127.0.0.2"],
        localStratum: 1,
      });
      await new Promise((resolve) => setTimeout(resolve, 500)); // chronyd's NTS-KE port opens late
      await Deno.writeTextFile(
        `${dir}/candidates.txt`,
        `127.0.0.2:${plainPort}\n127.0.0.1:${ntsPort}\n`,
      );
      const run = await ntp([
        "pick",
        "--from",
        `${dir}/candidates.txt`,
        "--count",
        "4",
        "--nts",
        "--nts-ca",
        certificates.caFile,
        "--nts-port",
        String(kePort),
        "--json",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout) as {
        picked: string[];
        candidates: { candidate: string; reason: string }[];
        serverBlock: string;
      };
      assert.deepEqual(report.picked, [`127.0.0.1:${ntsPort}`, `127.0.0.2:${plainPort}`]);
      assert.match(report.candidates[0]!.reason, /picked: nearest, NTS-KE ok/);
      assert.match(run.stderr, new RegExp(`127\\.0\\.0\\.2:${plainPort}: no NTS: cannot connect`));
      const blocks = report.serverBlock.split("\n\n");
      assert.match(blocks[0]!, new RegExp(`address = "127\\.0\\.0\\.1"\nport = ${ntsPort}\n`));
      assert.match(blocks[0]!, /\nnts = true\n/);
      assert.match(blocks[0]!, new RegExp(`nts_ke_port = ${kePort}`));
      assert.doesNotMatch(blocks[1]!, /nts/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "NTPsec's `ask HOST:PORT` runs NTS-KE with another name (its certificate checked), and `noval` accepts any certificate with a warning",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // chronyd's certificate names localhost only, not 127.0.0.1.
    const certificates = await makeTestCertificates(["localhost"]);
    const dir = certificates.dir;
    const chronydPort = await freeUdpPort();
    const kePort = freeTcpPort();
    try {
      await using _chronyd = await startChronydServer({
        port: chronydPort,
        bindAddresses: ["127.0.0.1"],
        localStratum: 1,
        extraConfig: chronydNtsServerLines(certificates, kePort, dir),
      });
      for (
        const line of [
          `server 127.0.0.1 port ${chronydPort} iburst nts ask localhost:${kePort} ca ${certificates.caFile}`,
          `server 127.0.0.1:${kePort} port ${chronydPort} iburst nts noval`,
        ]
      ) {
        const clientPort = await freeUdpPort();
        await using client = await startNtpServer({
          config: `${line} minpoll 4 maxpoll 4\ntos minsane 1\n`,
          configFormat: "conf",
          listen: [`127.0.0.1:${clientPort}`],
          clock: "soft",
        });
        const synced = await waitForValue(
          `synchronised with: ${line}`,
          () => status(clientPort),
          (s) =>
            s !== null && s.synchronised && s.peers.length === 1 &&
            Number(s.peers[0]!.variables["ntsauth"]) >= 2,
          poll,
        );
        const v = synced!.peers[0]!.variables;
        if (line.includes("noval")) {
          assert.match(client.stderr, /certificate is NOT checked \(noval\)/);
          assert.equal(unquote(v["ntske"]), `127.0.0.1:${kePort}`);
        } else {
          assert.equal(unquote(v["ntske"]), `localhost:${kePort}`);
          assert.doesNotMatch(client.stderr, /NOT checked/);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
