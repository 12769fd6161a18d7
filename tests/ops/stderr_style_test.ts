// Tests that a real process picks its stderr style from where stderr goes: a terminal, a pipe, or the journal stream named by JOURNAL_STREAM.
import assert from "node:assert/strict";
import { runCommand } from "../support/processes.ts";
import { identityFromStat } from "../../src/io/stderr_identity.ts";

const repoRoot = new URL("../../", import.meta.url);
const printer = decodeURIComponent(new URL("_print_stderr_style.ts", import.meta.url).pathname);
const denoRun = [Deno.execPath(), "run", "--allow-env", "--allow-read", "--allow-ffi", printer];
const quiet = { DENO_NO_UPDATE_CHECK: "1" };

function shellQuote(words: readonly string[]): string {
  return words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
}

Deno.test("identityFromStat() reads st_dev and st_ino as little-endian u64 at offsets 0 and 8", () => {
  const stat = new Uint8Array(144);
  const view = new DataView(stat.buffer);
  view.setBigUint64(0, 65024n, true);
  view.setBigUint64(8, 2146454n, true);
  assert.deepEqual(identityFromStat(stat), { dev: 65024, ino: 2146454 });
});

Deno.test("a process whose stderr is a pipe uses the plain style, even without NO_COLOR", async () => {
  const result = await runCommand(["env", "-u", "NO_COLOR", ...denoRun], {
    cwd: repoRoot,
    env: quiet,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), "plain");
});

Deno.test("a process on a terminal uses colours, unless NO_COLOR is set", async () => {
  const cases: [env: string[], expected: string][] = [
    [["-u", "NO_COLOR"], "color"],
    [["NO_COLOR=1"], "plain"],
  ];
  for (const [env, expected] of cases) {
    // script(1) gives the command a pseudo-terminal for stdin, stdout and stderr.
    const result = await runCommand(
      ["script", "-qec", shellQuote(["env", ...env, ...denoRun]), "/dev/null"],
      { cwd: repoRoot, env: quiet },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(result.stdout.trim(), expected, `env ${env.join(" ")}`);
  }
});

Deno.test("a process whose stderr is the stream JOURNAL_STREAM names uses the journal style; another stream does not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-journal-" });
  try {
    const stream = `${dir}/stderr`;
    await Deno.writeTextFile(stream, "");
    const stat = Deno.statSync(stream);
    const own = `${stat.dev}:${stat.ino}`;
    const cases: [journalStream: string, expected: string][] = [
      [own, "journal"],
      [`${stat.dev}:1`, "plain"],
    ];
    for (const [journalStream, expected] of cases) {
      const result = await runCommand(
        ["sh", "-c", `exec ${shellQuote(denoRun)} 2>>${shellQuote([stream])}`],
        { cwd: repoRoot, env: { ...quiet, JOURNAL_STREAM: journalStream } },
      );
      assert.equal(result.code, 0, await Deno.readTextFile(stream));
      assert.equal(result.stdout.trim(), expected, `JOURNAL_STREAM=${journalStream}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
