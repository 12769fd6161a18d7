// The cookie key file (0600, atomic, errors with file:line) and the shared key buffer the responders read.
import assert from "node:assert/strict";
import { NtsKeyFileError, readNtsKeyFile, writeNtsKeyFile } from "../../src/io/nts_key_file.ts";
import {
  createCookieKeyBuffer,
  createCookieKeyReader,
  publishCookieKeys,
} from "../../src/io/nts_key_buffer.ts";

Deno.test("the key file round-trips, is written with mode 0600, and a missing file reads as no keys", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-keys-" });
  try {
    const path = `${dir}/keys`;
    assert.deepEqual(await readNtsKeyFile(path), []);
    const keys = [
      {
        id: 0xfffffffe,
        key: new Uint8Array(32).map((_, i) => i),
        createdUnixSeconds: 1_800_000_000,
      },
      { id: 7, key: new Uint8Array(32).fill(0xab), createdUnixSeconds: 1_799_000_000 },
    ];
    Deno.umask(0o022);
    await writeNtsKeyFile(path, keys);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const back = await readNtsKeyFile(path);
    assert.deepEqual(
      back.map((k) => ({ ...k, key: [...k.key] })),
      keys.map((k) => ({ ...k, key: [...k.key] })),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["keys"], "no temporary left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a malformed key file is refused with file:line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-keys-" });
  try {
    const path = `${dir}/keys`;
    await Deno.writeTextFile(path, "# comment\n\n1 100 abcd\n");
    await assert.rejects(() => readNtsKeyFile(path), (error: Error) => {
      assert.ok(error instanceof NtsKeyFileError);
      assert.match(error.message, new RegExp(`${path}:3: `));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the shared key buffer: nothing until published, then the ring; a new publication is seen once", () => {
  const buffer = createCookieKeyBuffer();
  const reader = createCookieKeyReader(buffer);
  assert.equal(reader.refresh(), false);
  assert.equal(reader.ring, null);
  const a = { id: 0x80000001, key: new Uint8Array(32).fill(1) };
  const b = { id: 2, key: new Uint8Array(32).map((_, i) => 255 - i) };
  publishCookieKeys(buffer, { current: a, valid: [a, b] });
  assert.equal(reader.refresh(), true);
  assert.equal(reader.refresh(), false);
  assert.equal(reader.ring!.current.id, 0x80000001);
  assert.deepEqual(reader.ring!.valid.map((k) => [k.id, [...k.key]]), [[a.id, [...a.key]], [b.id, [
    ...b.key,
  ]]]);
  publishCookieKeys(buffer, { current: b, valid: [b] });
  assert.equal(reader.refresh(), true);
  assert.equal(reader.ring!.current.id, 2);
  assert.throws(() => publishCookieKeys(buffer, { current: a, valid: [b] }), RangeError);
});
