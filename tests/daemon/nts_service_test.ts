// The NTS service: cookie keys made, rotated, trimmed and published at start; start errors a user can act on.
import assert from "node:assert/strict";
import { startNtsService } from "../../src/daemon/nts_service.ts";
import { NtsStartError } from "../../src/daemon/nts_start_error.ts";
import { createCookieKeyBuffer, createCookieKeyReader } from "../../src/io/nts_key_buffer.ts";
import { readNtsKeyFile, writeNtsKeyFile } from "../../src/io/nts_key_file.ts";
import { parseConfigText } from "../../src/config/mod.ts";
import { makeTestCertificates, type TestCertificates } from "../support/test_ca.ts";

function ntsConfig(c: TestCertificates, extra: string[] = []) {
  return parseConfigText(
    [
      "[nts]",
      "enable = true",
      `cert = "${c.certificateFile}"`,
      `key = "${c.keyFile}"`,
      `cookie_keys = "${c.dir}/keys"`,
      `listen = ["127.0.0.1:0"]`,
      ...extra,
      "",
    ].join("\n"),
    { fileName: "ntp.toml" },
  ).nts;
}

Deno.test({
  name:
    "startNtsService(): makes a key file (0600), rotates a stale key keeping the old one, trims to keep + 1, publishes the ring",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const c = await makeTestCertificates(["127.0.0.1"]);
    try {
      const wiring = () => ({ keyBuffer: createCookieKeyBuffer(), ntpPort: () => 123 });
      // No file yet: one key, written with mode 0600.
      let w = wiring();
      let service = await startNtsService(ntsConfig(c), w);
      await service.close();
      const first = await readNtsKeyFile(`${c.dir}/keys`);
      assert.equal(first.length, 1);
      assert.equal((await Deno.stat(`${c.dir}/keys`)).mode! & 0o777, 0o600);
      const reader = createCookieKeyReader(w.keyBuffer);
      assert.ok(reader.refresh());
      assert.equal(reader.ring!.current.id, first[0]!.id);

      // A fresh key is kept as it is over a restart.
      w = wiring();
      service = await startNtsService(ntsConfig(c), w);
      await service.close();
      assert.deepEqual((await readNtsKeyFile(`${c.dir}/keys`)).map((k) => k.id), [first[0]!.id]);

      // Nine keys, the newest two days old: a new one, and the 7 newest old ones kept.
      const day = 86400;
      const now = Math.floor(Date.now() / 1000);
      const old = Array.from({ length: 9 }, (_, i) => ({
        id: 100 + i,
        key: new Uint8Array(32).fill(i),
        createdUnixSeconds: now - (2 + i) * day,
      }));
      await writeNtsKeyFile(`${c.dir}/keys`, old);
      w = wiring();
      service = await startNtsService(ntsConfig(c), w);
      await service.close();
      const rotated = await readNtsKeyFile(`${c.dir}/keys`);
      assert.equal(rotated.length, 8);
      assert.ok(rotated[0]!.createdUnixSeconds >= now);
      assert.deepEqual(rotated.slice(1).map((k) => k.id), [100, 101, 102, 103, 104, 105, 106]);
      const published = createCookieKeyReader(w.keyBuffer);
      assert.ok(published.refresh());
      assert.deepEqual(published.ring!.valid.map((k) => k.id), rotated.map((k) => k.id));
    } finally {
      await Deno.remove(c.dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "startNtsService(): a missing key, a malformed key file or a taken NTS-KE port end in NtsStartError naming the cause",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const c = await makeTestCertificates(["127.0.0.1"]);
    const wiring = { keyBuffer: createCookieKeyBuffer(), ntpPort: () => 123 };
    try {
      const noKey = { ...ntsConfig(c), keyFile: `${c.dir}/missing.key` };
      await assert.rejects(
        () => startNtsService(noKey, wiring),
        (error: Error) => error instanceof NtsStartError && error.message.includes("missing.key"),
      );
      await Deno.writeTextFile(`${c.dir}/keys`, "not a key\n");
      await assert.rejects(
        () => startNtsService(ntsConfig(c), wiring),
        (error: Error) => error instanceof NtsStartError && /keys:1: /.test(error.message),
      );
      await Deno.remove(`${c.dir}/keys`);
      using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const busy = {
        ...ntsConfig(c),
        listen: [{ hostname: "127.0.0.1", port: taken.addr.port, family: 4 as const }],
      };
      await assert.rejects(
        () => startNtsService(busy, wiring),
        (error: Error) =>
          error instanceof NtsStartError &&
          error.message.includes(`127.0.0.1:${taken.addr.port}`) &&
          /in use/i.test(error.message),
      );
    } finally {
      await Deno.remove(c.dir, { recursive: true });
    }
  },
});
