// Snapshot tests: `ntp config check` (and `import` for ntp.conf) output for broken and odd files.
//
// Each file in tests/testdata/config/diagnostics/ has NAME.expected beside it; UPDATE_SNAPSHOTS=1
// rewrites them. Output is compared exactly, with the file named as typed from the repository root.
import assert from "node:assert/strict";
import { runCaptured, seedMachineProbe, typedPath } from "./_helpers.ts";
import type { CommandRun } from "./_helpers.ts";
import { repoPath } from "./_helpers.ts";

const directory = "tests/testdata/config/diagnostics";
const update = Deno.env.get("UPDATE_SNAPSHOTS") === "1";

const fixtures = [...Deno.readDirSync(repoPath(directory))]
  .map((entry) => entry.name)
  .filter((name) => !name.endsWith(".expected"))
  .sort();

function render(command: string, run: CommandRun): string {
  return `$ ntp config ${command}\nexit ${run.code}\n--- stderr\n${run.stderr}--- stdout\n${run.stdout}`;
}

Deno.test("every diagnostics fixture has a snapshot and every snapshot a fixture", () => {
  const names = [...Deno.readDirSync(repoPath(directory))].map((entry) => entry.name);
  const snapshots = names.filter((name) => name.endsWith(".expected"));
  if (!update) {
    assert.deepEqual(snapshots.sort(), fixtures.map((name) => `${name}.expected`).sort());
  }
  assert.ok(fixtures.length >= 10, `only ${fixtures.length} fixtures`);
});

for (const name of fixtures) {
  Deno.test(`config output for ${name} matches its snapshot`, async () => {
    const canonical = `${directory}/${name}`;
    const typed = typedPath(canonical);
    const commands = name.endsWith(".conf") ? ["check", "import"] : ["check"];
    const parts: string[] = [];
    for (const command of commands) {
      const run = await runCaptured([command, typed], { probe: seedMachineProbe });
      parts.push(render(`${command} ${canonical}`, run).replaceAll(typed, canonical));
    }
    const actual = parts.join("\n");
    const snapshotPath = repoPath(`${canonical}.expected`);
    if (update) {
      await Deno.writeTextFile(snapshotPath, actual);
      return;
    }
    const expected = await Deno.readTextFile(snapshotPath);
    assert.equal(actual, expected, `${canonical}: output differs; UPDATE_SNAPSHOTS=1 to accept`);
  });
}
