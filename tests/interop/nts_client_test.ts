// ntp serve as an NTS client: synchronised from chronyd's NTS server and from our own, every reply authenticated; a wrong CA or a closed KE port never gives a usable source, and says why.
import assert from "node:assert/strict";
import { startChronydServer } from "../support/chronyd_server.ts";
import { ntpTaskFlags, startNtpServer } from "../support/ntp_server_process.ts";
import { freeTcpPort, freeUdpPort } from "../support/ports.ts";
import { runCommand } from "../support/processes.ts";
import { makeTestCertificates } from "../support/test_ca.ts";

const repoRoot = new URL("../../", import.meta.url);

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
async function status(port: number): Promise<StatusJson | null> {
  const result = await runCommand([
    Deno.execPath(),
    "run",
    ...await ntpTaskFlags(),
    "main.ts",
    "status",
    "--json",
    "--server",
    `127.0.0.1:${port}`,
  ], { cwd: repoRoot, env: { NO_COLOR: "1" } });
  try {
    return JSON.parse(result.stdout) as StatusJson;
  } catch {
    return null;
  }
}

async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (performance.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last, null, 1)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    last = await read();
  }
  return last;
}

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
        extraConfig: [
          `ntsservercert ${certificates.certificateFile}`,
          `ntsserverkey ${certificates.keyFile}`,
          `ntsport ${chronydKePort}`,
          `ntsdumpdir ${dir}`,
        ],
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
        config: [
          `[[server]]`,
          `address = "127.0.0.2"`,
          `port = ${referencePort}`,
          `iburst = true`,
          `minpoll = 4`,
          `maxpoll = 4`,
          `[nts]`,
          `enable = true`,
          `cert = "${certificates.certificateFile}"`,
          `key = "${certificates.keyFile}"`,
          `cookie_keys = "${dir}/cookie-keys"`,
          `listen = ["127.0.0.1:${oursKePort}"]`,
          "",
        ].join("\n"),
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
      const synced = await waitFor(
        "the client to synchronise from both NTS servers",
        () => status(clientPort),
        (s) =>
          s !== null && s.synchronised && s.peers.length === 2 &&
          s.peers.every((p) =>
            unquote(p.variables["nts"]) === "ready" && Number(p.variables["ntsauth"]) >= 2
          ),
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(`synchronised over NTS from both after ${seconds.toFixed(1)} s`);
      for (const peer of synced!.peers) {
        assert.equal(Number(peer.variables["ntskefail"]), 0, JSON.stringify(peer.variables));
        assert.equal(Number(peer.variables["ntsnak"]), 0);
        assert.ok(Number(peer.variables["ntscookies"]) >= 7, JSON.stringify(peer.variables));
      }
      const text = await runCommand([
        Deno.execPath(),
        "run",
        ...await ntpTaskFlags(),
        "main.ts",
        "status",
        "--server",
        `127.0.0.1:${clientPort}`,
      ], { cwd: repoRoot, env: { NO_COLOR: "1" } });
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
