// `ntp config check` on [nts]: the certificate and key are loaded, matched and dated, each problem at its key's line.
import assert from "node:assert/strict";
import { checkConfigText } from "../../src/config/parse_config.ts";
import { ntsFileDiagnostics } from "../../src/cli/nts_file_checks.ts";
import { makeTestCertificates } from "../support/test_ca.ts";

Deno.test("ntsFileDiagnostics(): a good pair passes; expired, mismatched, soon expiring and a bad key file are reported at their keys", async () => {
  const c = await makeTestCertificates(["127.0.0.1"]);
  try {
    const toml = (cert: string, key: string, cookieKeys?: string) =>
      [
        "[nts]",
        "enable = true",
        `cert = "${cert}"`,
        `key = "${key}"`,
        ...(cookieKeys === undefined ? [] : [`cookie_keys = "${cookieKeys}"`]),
        "",
      ].join("\n");
    const check = (text: string, now?: Date) =>
      ntsFileDiagnostics("ntp.toml", checkConfigText(text, { fileName: "ntp.toml" }), now);

    assert.deepEqual(await check(toml(c.certificateFile, c.keyFile)), []);

    const expired = await check(toml(c.expiredCertificateFile, c.expiredKeyFile));
    assert.equal(expired.length, 1);
    assert.equal(expired[0]!.severity, "error");
    assert.equal(expired[0]!.line, 3);
    assert.match(expired[0]!.message, /^nts\.cert: the certificate expired on 20/);

    const mismatched = await check(toml(c.certificateFile, c.expiredKeyFile));
    assert.equal(mismatched[0]!.line, 4);
    assert.match(mismatched[0]!.message, /expired\.key/);

    const soon = await check(
      toml(c.certificateFile, c.keyFile),
      new Date(Date.now() + 25 * 86400_000),
    );
    assert.equal(soon[0]!.severity, "warning");
    assert.match(soon[0]!.message, /expires on .* \(in [45] days\); renew it/);

    await Deno.writeTextFile(`${c.dir}/keys`, "garbage\n");
    const badKeys = await check(toml(c.certificateFile, c.keyFile, `${c.dir}/keys`));
    assert.equal(badKeys[0]!.line, 5);
    assert.match(badKeys[0]!.message, /keys:1: expected/);

    assert.deepEqual(await check("[nts]\nenable = false\n"), []);
  } finally {
    await Deno.remove(c.dir, { recursive: true });
  }
});
