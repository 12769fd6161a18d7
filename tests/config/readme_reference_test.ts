// The README's configuration reference is exactly what the schema generates, so no key goes undocumented.
import assert from "node:assert/strict";
import { expectedReadme } from "../../scripts/gen_config_reference.ts";
import {
  renderConfigReference,
  replaceReferenceSection,
} from "../../src/config/reference_markdown.ts";
import { configSchema } from "../../src/config/schema.ts";

Deno.test("the README configuration reference matches what scripts/gen_config_reference.ts generates", async () => {
  const { current, expected } = await expectedReadme();
  assert.equal(
    current,
    expected,
    "README.md is out of date: run deno run --allow-read --allow-write scripts/gen_config_reference.ts",
  );
});

Deno.test("the generated reference has a table row for every schema key", () => {
  const markdown = renderConfigReference({
    ntpConf: { path: "a.conf", text: "server a.example\n" },
    toml: { path: "a.toml", text: '[[server]]\naddress = "a.example"\n' },
  });
  for (const section of configSchema) {
    for (const field of section.fields) {
      assert.match(
        markdown,
        new RegExp(`^\\| \`${field.key}\` +\\|`, "m"),
        `${section.name}.${field.key}`,
      );
    }
  }
});

Deno.test("a key added to the schema without regenerating makes the README differ", () => {
  const examples = {
    ntpConf: { path: "a.conf", text: "x\n" },
    toml: { path: "a.toml", text: "x\n" },
  };
  const withExtraKey = configSchema.map((section) =>
    section.name === "tos"
      ? { ...section, fields: [...section.fields, { ...section.fields[0]!, key: "undocumented" }] }
      : section
  );
  const current = renderConfigReference(examples);
  const extended = renderConfigReference(examples, withExtraKey);
  assert.notEqual(extended, current);
  assert.doesNotMatch(current, /`undocumented`/);
  assert.match(extended, /^\| `undocumented` +\|/m);
});

Deno.test("replaceReferenceSection refuses a README without the markers", () => {
  assert.throws(() => replaceReferenceSection("# no markers\n", "x"), /config-reference:start/);
});
