// writeFileAtomically: the mode whatever the umask, old leftovers of killed writers removed (young ones kept), a failed write leaves the old file.
import assert from "node:assert/strict";
import {
  AtomicWriteError,
  temporaryPathFor,
  writeFileAtomically,
} from "../../src/io/atomic_write.ts";

Deno.test("writeFileAtomically replaces the file with the mode asked, and sweeps leftovers older than a minute", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-atomic-" });
  try {
    const path = `${dir}/state`;
    const old = temporaryPathFor(path, 999_991);
    const young = temporaryPathFor(path, 999_992);
    await Deno.writeTextFile(old, "torn");
    await Deno.writeTextFile(young, "in flight");
    const hourAgo = new Date(Date.now() - 3600_000);
    await Deno.utime(old, hourAgo, hourAgo);
    Deno.umask(0o077);
    await writeFileAtomically(path, "one\n", { mode: 0o644 });
    assert.equal(await Deno.readTextFile(path), "one\n");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, [young.slice(dir.length + 1), "state"].sort(), "old leftover gone");
  } finally {
    Deno.umask(0o022);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a write that cannot rename leaves the old file and no temporary file, and names the step", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-atomic-" });
  try {
    const path = `${dir}/state`;
    await Deno.mkdir(path); // a directory in the way: the rename fails
    await Deno.writeTextFile(`${path}/keep`, "x");
    const error = await writeFileAtomically(path, "new\n", { mode: 0o600 }).catch((e) => e);
    assert.ok(error instanceof AtomicWriteError, String(error));
    assert.equal(error.step, "rename");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["state"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writes of one file at the same time each leave a whole file (never each other's temporary file)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-atomic-" });
  try {
    const path = `${dir}/state`;
    const texts = Array.from({ length: 8 }, (_, i) => `${String(i).repeat(4000)}\n`);
    for (let round = 0; round < 20; round++) {
      await Promise.all(texts.map((text) => writeFileAtomically(path, text, { mode: 0o600 })));
      assert.ok(texts.includes(await Deno.readTextFile(path)), `round ${round}: a torn file`);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["state"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
