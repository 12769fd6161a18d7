// Run inside a mount namespace where DIR is mounted read-only (tests/ops/read_only_paths_test.ts): tries the daemon's drift file and NTS key file writes there and prints what each said, as JSON.
import { writeDriftFile } from "../../src/io/drift_file.ts";
import { writeNtsKeyFile } from "../../src/io/nts_key_file.ts";
import { readOnlyHint } from "../../src/io/write_failure_text.ts";

const dir = Deno.args[0];
if (dir === undefined) throw new Error("usage: read_only_writes.ts DIR");
const drift = await writeDriftFile(`${dir}/ntp.drift`, 12.5);
let keyFile = "written";
try {
  await writeNtsKeyFile(`${dir}/nts-keys`, []);
} catch (error) {
  keyFile = (error as Error).message + readOnlyHint(error, `${dir}/nts-keys`);
}
console.log(JSON.stringify({ drift: drift.ok ? "written" : drift.message, keyFile }));
