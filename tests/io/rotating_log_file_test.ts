// openRotatingLogFile(): appends, rotates by size with FILE.1 newest, drops the oldest copy, never truncates on open.
import assert from "node:assert/strict";
import { openRotatingLogFile } from "../../src/io/rotating_log_file.ts";

Deno.test("openRotatingLogFile() shifts copies newest-first and keeps at most maxFiles of them", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ntpt-rotate-" });
  try {
    const path = `${dir}/ntp.log`;
    Deno.writeTextFileSync(path, "old\n");
    {
      using file = openRotatingLogFile(path, { maxBytes: 10, maxFiles: 2 });
      file.write("line-1\n"); // 4 + 7 > 10: "old" moves to .1
      file.write("line-2\n"); // .1 -> .2, line-1 -> .1
      file.write("line-3\n"); // .2 dropped, line-2 -> .1
    }
    const read = (name: string) => Deno.readTextFileSync(`${dir}/${name}`);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "ntp.log",
      "ntp.log.1",
      "ntp.log.2",
    ]);
    assert.equal(read("ntp.log"), "line-3\n");
    assert.equal(read("ntp.log.1"), "line-2\n");
    assert.equal(read("ntp.log.2"), "line-1\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("openRotatingLogFile() appends to an existing file below the limit and fails loudly when closed", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ntpt-rotate-" });
  try {
    const path = `${dir}/ntp.log`;
    Deno.writeTextFileSync(path, "first\n");
    const file = openRotatingLogFile(path, { maxBytes: 1000, maxFiles: 5 });
    file.write("second\n");
    file[Symbol.dispose]();
    assert.equal(Deno.readTextFileSync(path), "first\nsecond\n");
    assert.throws(() => file.write("third\n"), /closed/);
    assert.throws(
      () => openRotatingLogFile(`${dir}/missing/ntp.log`, { maxBytes: 10, maxFiles: 1 }),
      Deno.errors.NotFound,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
