// A process that rewrites a drift file and an NTS key file in a loop, for tests that kill it with SIGKILL at random moments.
//
//   deno run --allow-read --allow-write tests/support/crash_writer.ts DRIFT KEYS [--torn]
//
// Prints "writing" on stdout once each file has been written once. Writes alternate between two drift values and
// two key sets (driftValues, keySets). --torn writes the drift file the naive way (truncate, then
// the text in two parts), so that a test can show its checks catch a torn file.
import { writeDriftFile } from "../../src/io/drift_file.ts";
import { writeNtsKeyFile } from "../../src/io/nts_key_file.ts";

/** The drift values the loop writes. */
export const driftValues = [-12.345, 31.5] as const;

/** The key sets the loop writes (1 key, then 3 keys). */
export const keySets = [
  [{ id: 1, key: new Uint8Array(32).fill(0x11), createdUnixSeconds: 1_800_000_000 }],
  [
    { id: 3, key: new Uint8Array(32).fill(0x33), createdUnixSeconds: 1_800_000_200 },
    { id: 2, key: new Uint8Array(32).fill(0x22), createdUnixSeconds: 1_800_000_100 },
    { id: 1, key: new Uint8Array(32).fill(0x11), createdUnixSeconds: 1_800_000_000 },
  ],
] as const;

async function main(args: readonly string[]): Promise<void> {
  const [drift, keys] = args;
  if (drift === undefined || keys === undefined) {
    throw new Error("usage: crash_writer.ts DRIFT KEYS [--torn]");
  }
  const torn = args.includes("--torn");
  for (let i = 0;; i++) {
    // Once both files exist (whole): from here on a kill can only land in a rewrite.
    if (i === 2) console.log("writing");
    const value = driftValues[i % 2]!;
    if (torn) {
      const text = `${value.toFixed(3)}\n`;
      await Deno.writeTextFile(drift, text.slice(0, 3));
      await new Promise((resolve) => setTimeout(resolve, 1));
      await Deno.writeTextFile(drift, text.slice(3), { append: true });
    } else {
      const result = await writeDriftFile(drift, value);
      if (!result.ok) throw new Error(result.message);
    }
    await writeNtsKeyFile(keys, keySets[i % 2]!);
  }
}

if (import.meta.main) await main(Deno.args);
