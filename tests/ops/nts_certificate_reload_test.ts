// A renewed NTS certificate is picked up without a restart: SIGHUP makes ntp serve look at once, a broken pair is refused and the old one kept.
import { waitFor } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { startNtpServer } from "../support/ntp_server_process.ts";
import { freeTcpPort, freeUdpPort } from "../support/ports.ts";
import { makeTestCertificates } from "../support/test_ca.ts";
import { runNtsKeyExchange } from "../../src/io/nts_ke_client.ts";

/** How these tests poll the daemon. */
const poll = { timeoutMs: 5000, intervalMs: 50 };

Deno.test({
  name:
    "SIGHUP reloads a renewed NTS certificate at once (logged with its expiry); a mismatched pair is refused and the old one kept",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const c = await makeTestCertificates(["127.0.0.1"]);
    const cert = `${c.dir}/live.pem`;
    const key = `${c.dir}/live.key`;
    await Deno.copyFile(c.expiredCertificateFile, cert);
    await Deno.copyFile(c.expiredKeyFile, key);
    const kePort = freeTcpPort();
    try {
      await using server = await startNtpServer({
        config: [
          "[nts]",
          "enable = true",
          `cert = "${cert}"`,
          `key = "${key}"`,
          `listen = ["127.0.0.1:${kePort}"]`,
          "",
        ].join("\n"),
        configFormat: "toml",
        listen: [`127.0.0.1:${await freeUdpPort()}`],
        clock: "soft",
      });
      assert.match(server.stderr, /NTS certificate .*live\.pem expired on/);
      const exchange = () =>
        runNtsKeyExchange({ host: "127.0.0.1", port: kePort, caFile: c.caFile, timeoutMs: 3000 });
      await assert.rejects(exchange, /certificate has expired/);

      // certbot renews: new files, then the deploy hook's `kill -HUP`.
      await Deno.copyFile(c.certificateFile, cert);
      await Deno.copyFile(c.keyFile, key);
      Deno.kill(server.pid, "SIGHUP");
      await waitFor(
        "the reload log line",
        () => /NTS certificate reloaded from .*valid until/.test(server.stderr),
        poll,
      );
      assert.equal((await exchange()).cookies.length, 8);

      // A pair that does not match is refused; the good one stays in use.
      await Deno.copyFile(c.expiredKeyFile, key);
      Deno.kill(server.pid, "SIGHUP");
      await waitFor(
        "the refusal",
        () => /NTS certificate not reloaded \(the old one stays in use\)/.test(server.stderr),
        poll,
      );
      assert.equal((await exchange()).cookies.length, 8);
      assert.ok(server.running);
    } finally {
      await Deno.remove(c.dir, { recursive: true }).catch(() => {});
    }
  },
});
