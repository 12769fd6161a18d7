// Tests reading and atomically writing the drift file on a real file system.
import assert from "node:assert/strict";
import { readDriftFile, writeDriftFile } from "../../src/io/drift_file.ts";

async function withDirectory(run: (directory: string) => Promise<void>): Promise<void> {
  const directory = await Deno.makeTempDir({ prefix: "ntp-drift-" });
  try {
    await run(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

async function entries(directory: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) names.push(entry.name);
  return names.sort();
}

Deno.test("writeDriftFile() then readDriftFile() round-trips the frequency in ntpd's format", async () => {
  await withDirectory(async (directory) => {
    const path = `${directory}/drift`;
    assert.deepEqual(await writeDriftFile(path, -12.3456), { ok: true });
    assert.equal(await Deno.readTextFile(path), "-12.346\n");
    assert.deepEqual(await readDriftFile(path), { freqPpm: -12.346 });
    assert.deepEqual(await writeDriftFile(path, 3), { ok: true });
    assert.deepEqual(await readDriftFile(path), { freqPpm: 3 });
    assert.deepEqual(await entries(directory), ["drift"], "no temporary file is left behind");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
  });
});

Deno.test("readDriftFile() treats a missing file as no frequency, without a warning", async () => {
  await withDirectory(async (directory) => {
    assert.deepEqual(await readDriftFile(`${directory}/absent`), { freqPpm: null });
  });
});

Deno.test("readDriftFile() ignores garbage with a warning naming the file and the problem", async () => {
  await withDirectory(async (directory) => {
    const path = `${directory}/drift`;
    await Deno.writeTextFile(path, "twelve\n");
    const read = await readDriftFile(path);
    assert.equal(read.freqPpm, null);
    assert.equal(
      read.warning,
      `Ignoring drift file ${path}: 'twelve' is not a number (expected one frequency in ppm, ` +
        "such as -12.345); starting without a saved frequency",
    );
    await Deno.writeTextFile(path, "");
    assert.match((await readDriftFile(path)).warning!, /the file is empty/);
    await Deno.writeTextFile(path, "900\n");
    assert.match((await readDriftFile(path)).warning!, /900 ppm is outside \+-500 ppm/);
  });
});

Deno.test("readDriftFile() warns when the path cannot be read (a directory)", async () => {
  await withDirectory(async (directory) => {
    const read = await readDriftFile(directory);
    assert.equal(read.freqPpm, null);
    assert.match(read.warning!, new RegExp(`^Cannot read drift file ${directory}: `));
  });
});

Deno.test("writeDriftFile() reports a missing directory as a value and leaves nothing behind", async () => {
  await withDirectory(async (directory) => {
    const result = await writeDriftFile(`${directory}/missing/drift`, 1);
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.message : "",
      /^Cannot write drift file .*missing\/drift \(create of/,
    );
    assert.deepEqual(await entries(directory), []);
    const bad = await writeDriftFile(`${directory}/drift`, Number.NaN);
    assert.equal(bad.ok, false);
    assert.deepEqual(await entries(directory), []);
  });
});

/**
 * Runs a Python reader that reads `path` in a tight loop until `stop` exists and prints how many
 * reads saw text other than one of `valid`.
 */
function startReader(path: string, stop: string, valid: readonly string[]) {
  const script = `
import os, sys, json
path, stop, valid = sys.argv[1], sys.argv[2], set(json.loads(sys.argv[3]))
reads = bad = 0
while not os.path.exists(stop):
    with open(path) as f:
        text = f.read()
    reads += 1
    if text not in valid:
        bad += 1
print(json.dumps({"reads": reads, "bad": bad}))
`;
  return new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, path, stop, JSON.stringify(valid)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function hammer(
  directory: string,
  write: (path: string, text: string, freqPpm: number) => Promise<void>,
): Promise<{ reads: number; bad: number }> {
  const path = `${directory}/drift`;
  const stop = `${directory}/stop`;
  const values = [-123.456, 7.5];
  const texts = ["-123.456\n", "7.500\n"];
  await Deno.writeTextFile(path, texts[0]!);
  const reader = startReader(path, stop, texts);
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (let round = 0; round < 300; round++) {
    const index = round % 2;
    await write(path, texts[index]!, values[index]!);
  }
  await Deno.writeTextFile(stop, "");
  const output = await reader.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test("a concurrent reader never sees a partial drift file during 300 writes", async () => {
  await withDirectory(async (directory) => {
    const result = await hammer(directory, async (path, _text, freqPpm) => {
      const written = await writeDriftFile(path, freqPpm);
      assert.ok(written.ok);
    });
    assert.ok(result.reads > 100, `only ${result.reads} reads`);
    assert.equal(result.bad, 0);
  });
});

Deno.test("the same reader does catch partial files from a non-atomic writer (control)", async () => {
  await withDirectory(async (directory) => {
    const result = await hammer(directory, async (path, text) => {
      // Truncate, then write in two parts: what the atomic writer avoids.
      const file = await Deno.open(path, { write: true, truncate: true });
      await file.write(new TextEncoder().encode(text.slice(0, 3)));
      await new Promise((resolve) => setTimeout(resolve, 1));
      await file.write(new TextEncoder().encode(text.slice(3)));
      file.close();
    });
    assert.ok(result.bad > 0, `the reader saw no partial file in ${result.reads} reads`);
  });
});
