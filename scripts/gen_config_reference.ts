// Regenerates the README's configuration reference from src/config/schema.ts (--check: only compare).
import { fileURLToPath } from "node:url";
import {
  renderConfigReference,
  replaceReferenceSection,
} from "../src/config/reference_markdown.ts";

const root = new URL("../", import.meta.url);
const read = (path: string): Promise<string> => Deno.readTextFile(new URL(path, root));

/** README.md as it should be: the reference section regenerated from the schema and examples. */
export async function expectedReadme(): Promise<
  { path: string; current: string; expected: string }
> {
  const readmePath = fileURLToPath(new URL("README.md", root));
  const current = await Deno.readTextFile(readmePath);
  const section = renderConfigReference({
    ntpConf: {
      path: "tests/testdata/config/seed-ntp.conf",
      text: await read("tests/testdata/config/seed-ntp.conf"),
    },
    toml: { path: "conf/ntp.toml", text: await read("conf/ntp.toml") },
  });
  return { path: readmePath, current, expected: replaceReferenceSection(current, section) };
}

if (import.meta.main) {
  const { path, current, expected } = await expectedReadme();
  if (Deno.args.includes("--check")) {
    if (current !== expected) {
      console.error(
        `${path}: the configuration reference is out of date; run ${"deno run --allow-read --allow-write scripts/gen_config_reference.ts"}`,
      );
      Deno.exit(1);
    }
  } else if (current !== expected) {
    await Deno.writeTextFile(path, expected);
    console.log(`${path}: configuration reference updated`);
  } else {
    console.log(`${path}: configuration reference already up to date`);
  }
}
