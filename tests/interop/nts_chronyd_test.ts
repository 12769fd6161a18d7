// chronyd as an NTS client of `ntp serve`: NTS-KE, authenticated time, cookies that survive a restart, a wrong CA refused.
import { waitForValue } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { chronydNtsServerLines, startChronydServer } from "../support/chronyd_server.ts";
import {
  ntpServeArgv,
  ntpTaskFlags,
  ntsServerToml,
  startNtpServer,
} from "../support/ntp_server_process.ts";
import { freeTcpPort, freeUdpPort } from "../support/ports.ts";
import { type Daemon, runCommand, startDaemon } from "../support/processes.ts";
import { makeTestCertificates } from "../support/test_ca.ts";

/** chronyd -x as an NTS client of 127.0.0.1, with its command socket in `dir`. */
async function startNtsClient(
  dir: string,
  setup: { ntpPort: number; kePort: number; caFile: string; name: string },
): Promise<{ daemon: Daemon; chronyc: (command: string) => Promise<string> }> {
  const socketDir = `${dir}/${setup.name}-sock`;
  await Deno.mkdir(socketDir, { mode: 0o700 });
  const conf = `${dir}/${setup.name}.conf`;
  await Deno.writeTextFile(
    conf,
    [
      `server 127.0.0.1 port ${setup.ntpPort} iburst nts ntsport ${setup.kePort} minpoll 0 maxpoll 0`,
      `ntstrustedcerts ${setup.caFile}`,
      "nosystemcert",
      `pidfile ${dir}/${setup.name}.pid`,
      "cmdport 0",
      `bindcmdaddress ${socketDir}/chronyd.sock`,
      "",
    ].join("\n"),
  );
  const daemon = await startDaemon(["chronyd", "-x", "-d", "-u", "root", "-f", conf], {
    ready: { stderrPattern: /chronyd version/ },
  });
  const chronyc = async (command: string) => {
    const result = await runCommand(["chronyc", "-h", `${socketDir}/chronyd.sock`, "-n", command]);
    return result.stdout;
  };
  return { daemon, chronyc };
}

/** The authdata row of chronyd's one source: mode, KE attempts, NAKs, cookies, cookie length. */
function authRow(text: string) {
  const row = text.split("\n").find((line) => line.startsWith("127.0.0.1"));
  if (row === undefined) return null;
  const [, mode, , , , last, attempts, naks, cookies, length] = row.trim().split(/\s+/);
  return {
    mode,
    lastKeSeconds: Number(last),
    attempts: Number(attempts),
    naks: Number(naks),
    cookies: Number(cookies),
    cookieLength: Number(length),
  };
}

/** How the NTS tests poll a daemon: every 500 ms, for up to 30,000 ms unless told otherwise. */
const poll = { timeoutMs: 30_000, intervalMs: 500 };

const repoRoot = new URL("../../", import.meta.url);

/** Runs `ntp query ARGS` from source. */
async function ntpQuery(args: readonly string[]) {
  return await runCommand([
    Deno.execPath(),
    "run",
    ...await ntpTaskFlags(),
    "main.ts",
    "query",
    ...args,
  ], {
    cwd: repoRoot,
  });
}

Deno.test({
  name:
    "ntp query --nts authenticates with chronyd's NTS server, and refuses it with a CA that did not sign its certificate",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    const ntpPort = await freeUdpPort();
    const kePort = freeTcpPort();
    await Deno.writeTextFile(
      `${dir}/server.conf`,
      [
        `port ${ntpPort}`,
        "bindaddress 127.0.0.1",
        "local stratum 1",
        "allow 127.0.0.1",
        "cmdport 0",
        `pidfile ${dir}/server.pid`,
        ...chronydNtsServerLines(certificates, kePort, dir),
        "",
      ].join("\n"),
    );
    const chronyd = await startDaemon([
      "chronyd",
      "-x",
      "-d",
      "-u",
      "root",
      "-f",
      `${dir}/server.conf`,
    ], {
      ready: { stderrPattern: /chronyd version/ },
    });
    const args = (
      ca: string,
    ) => [`127.0.0.1:${ntpPort}`, "--nts", "--nts-ca", ca, "--nts-port", String(kePort)];
    try {
      // chronyd opens its NTS-KE port a moment after it logs its version.
      let query = await ntpQuery(args(certificates.caFile));
      for (let i = 0; i < 20 && query.code !== 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        query = await ntpQuery(args(certificates.caFile));
      }
      assert.equal(query.code, 0, query.stderr);
      assert.match(query.stdout, /stratum 1/);
      assert.match(query.stdout, /authenticated with NTS \(AEAD 15/);
      const refused = await ntpQuery(args(certificates.otherCaFile));
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /its certificate: unable to get local issuer certificate/);
    } finally {
      await chronyd.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "chronyd synchronises to ntp serve over NTS; its cookies survive a restart of ntp serve; a client with another CA is refused",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    const referencePort = await freeUdpPort();
    const ntpPort = await freeUdpPort();
    const kePort = freeTcpPort();
    const config = ntsServerToml({
      upstream: { address: "127.0.0.1", port: referencePort },
      certificates,
      kePort,
      cookieKeysFile: `${dir}/cookie-keys`,
    });
    const serverOptions = {
      config,
      configFormat: "toml" as const,
      listen: [`127.0.0.1:${ntpPort}`],
      clock: "soft" as const,
    };
    await using _reference = await startChronydServer({
      port: referencePort,
      bindAddresses: ["127.0.0.1"],
      localStratum: 1,
    });
    let server = await startNtpServer(serverOptions);
    try {
      const good = await startNtsClient(dir, {
        ntpPort,
        kePort,
        caFile: certificates.caFile,
        name: "good",
      });
      const wrong = await startNtsClient(dir, {
        ntpPort,
        kePort,
        caFile: certificates.otherCaFile,
        name: "wrong",
      });
      try {
        const ntpdata = await waitForValue(
          "an authenticated, selected NTS source",
          async () => (await good.chronyc("ntpdata")) + (await good.chronyc("sources")),
          (text) =>
            /Authenticated\s*:\s*Yes/.test(text) && /Total good RX\s*:\s*([4-9]|\d\d)/.test(text) &&
            /\^\* 127\.0\.0\.1/.test(text),
          poll,
        );
        assert.match(ntpdata, /Stratum\s*:\s*2/);
        const auth = authRow(await good.chronyc("authdata"));
        assert.ok(auth !== null);
        assert.equal(auth.mode, "NTS");
        assert.equal(auth.naks, 0);
        assert.equal(auth.cookieLength, 104);
        assert.ok(auth.cookies >= 6, `cookies ${auth.cookies}`);

        // Our own NTS client (ntp query --nts) against our server: KE, port negotiation, auth.
        const query = await ntpQuery([
          "127.0.0.1",
          "--nts",
          "--nts-ca",
          certificates.caFile,
          "--nts-port",
          String(kePort),
          "--json",
        ]);
        assert.equal(query.code, 0, query.stderr);
        const answer = JSON.parse(query.stdout);
        assert.equal(answer.ok, true);
        assert.equal(answer.port, ntpPort, "NTP went to the negotiated port");
        assert.equal(answer.nts.aeadId, 15);
        assert.equal(answer.nts.cookiesLeft, 8, "7 from NTS-KE left, 1 fresh from the reply");

        // Restart ntp serve with the same cookie key file: chronyd goes on with its cookies.
        await server[Symbol.asyncDispose]();
        server = await startNtpServer(serverOptions);
        const before = (await good.chronyc("ntpdata")).match(/Total good RX\s*:\s*(\d+)/)?.[1];
        await waitForValue(
          "more authenticated replies after the restart",
          async () => (await good.chronyc("ntpdata")).match(/Total good RX\s*:\s*(\d+)/)?.[1],
          (after) => Number(after) >= Number(before) + 3,
          poll,
        );
        const afterRestart = authRow(await good.chronyc("authdata"));
        assert.ok(afterRestart !== null);
        assert.equal(afterRestart.naks, 0, "no NTS NAK after the restart");
        assert.equal(afterRestart.attempts, 0, "no new NTS-KE needed");
        assert.ok(afterRestart.lastKeSeconds >= auth.lastKeSeconds);

        // The client trusting another CA never gets a cookie, and never a reply.
        const refused = authRow(await wrong.chronyc("authdata"));
        assert.ok(refused !== null);
        assert.equal(refused.cookies, 0);
        assert.match(await wrong.chronyc("sources"), /127\.0\.0\.1\s+0\s+\d+\s+0 /);
        assert.match(wrong.daemon.stderr, /certificate|verify|TLS/i);
      } finally {
        await good.daemon.stop();
        await wrong.daemon.stop();
      }
      assert.match(server.stderr, /NTS-KE on 127\.0\.0\.1:/);
    } finally {
      await server[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** Where the dynamic linker finds libnettle.so.8 (ldconfig's cache), resolved to the file. */
async function libnettlePath(): Promise<string> {
  const cache = await runCommand(["ldconfig", "-p"]);
  const line = cache.stdout.split("\n").find((entry) => /^\s*libnettle\.so\.8 /.test(entry));
  const path = line?.split("=>")[1]?.trim();
  assert.ok(path !== undefined, `ldconfig -p lists no libnettle.so.8:\n${cache.stdout}`);
  return await Deno.realPath(path);
}

Deno.test({
  name:
    "without libnettle (hidden in a mount namespace of its own) ntp serve says so once and serves NTS through OpenSSL: chronyd (Nettle) and ntp query --nts authenticate it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const certificates = await makeTestCertificates(["127.0.0.1"]);
    const dir = certificates.dir;
    let serveDir: string | null = null;
    try {
      const referencePort = await freeUdpPort();
      const ntpPort = await freeUdpPort();
      const kePort = freeTcpPort();
      await using _reference = await startChronydServer({
        port: referencePort,
        bindAddresses: ["127.0.0.1"],
        localStratum: 1,
      });
      const serve = await ntpServeArgv({
        config: ntsServerToml({
          upstream: { address: "127.0.0.1", port: referencePort },
          certificates,
          kePort,
          cookieKeysFile: `${dir}/cookie-keys`,
        }),
        configFormat: "toml",
        listen: [`127.0.0.1:${ntpPort}`],
        clock: "soft",
      });
      serveDir = serve.dir;
      // /dev/null over the library, seen by this process only: dlopen fails ("file too short").
      // unshare without --fork and sh's exec keep the daemon's PID the one startDaemon watches.
      const hide = ["unshare", "--mount", "--propagation", "private", "sh", "-c"];
      await using server = await startDaemon(
        [...hide, 'mount --bind /dev/null "$0" && exec "$@"', await libnettlePath(), ...serve.argv],
        {
          cwd: repoRoot,
          env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
          ready: { stderrPattern: /NTS-KE on 127\.0\.0\.1:/ },
        },
      );
      {
        const client = await startNtsClient(dir, {
          ntpPort,
          kePort,
          caFile: certificates.caFile,
          name: "nettle-client",
        });
        await using _client = client.daemon;
        await waitForValue(
          "an authenticated, selected NTS source",
          async () => (await client.chronyc("ntpdata")) + (await client.chronyc("sources")),
          (text) =>
            /Authenticated\s*:\s*Yes/.test(text) && /Total good RX\s*:\s*([3-9]|\d\d)/.test(text) &&
            /\^\* 127\.0\.0\.1/.test(text),
          poll,
        );
        const auth = authRow(await client.chronyc("authdata"));
        assert.ok(auth !== null);
        assert.equal(auth.mode, "NTS");
        assert.equal(auth.naks, 0);
      }
      const query = await ntpQuery([
        "127.0.0.1",
        "--nts",
        "--nts-ca",
        certificates.caFile,
        "--nts-port",
        String(kePort),
      ]);
      assert.equal(query.code, 0, query.stderr);
      assert.match(query.stdout, /authenticated with NTS \(AEAD 15/);
      const warnings = server.stderr.match(/AES-SIV through OpenSSL/g) ?? [];
      assert.equal(warnings.length, 1, server.describe());
      assert.match(server.stderr, /libnettle\.so\.8 could not be loaded/);
    } finally {
      if (serveDir !== null) await Deno.remove(serveDir, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
