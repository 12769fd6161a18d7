// The TOML key position index: headers, keys, dotted keys, arrays and inline tables to line:column.
import assert from "node:assert/strict";
import { indexTomlPositions, parentPath, positionOf } from "../../src/config/toml_positions.ts";

const text = [
  "# comment with [brackets] and key = value",
  'driftfile = "/var/lib/ntp/drift"',
  "listen = [",
  '  "0.0.0.0:123", # first',
  '    "[::]:123",',
  "]",
  "",
  "[[server]]",
  'address = "a.example"',
  "",
  "[[server]]",
  '  address = """',
  "multi = line",
  '"""',
  "  minpoll = 4",
  "",
  "[tos]",
  "minsane = 2",
  'inline = { a = 1, "b c" = [1, 2] }',
  "",
  "[ tinker ] # spaces in the header",
  "step.x = 1",
].join("\n");

Deno.test("indexTomlPositions() maps keys, headers and array elements to line:column", () => {
  const index = indexTomlPositions(text);
  const at = (path: string) => index.get(path);
  assert.deepEqual(at("driftfile"), { line: 2, column: 1 });
  assert.deepEqual(at("listen"), { line: 3, column: 1 });
  assert.deepEqual(at("listen[0]"), { line: 4, column: 3 });
  assert.deepEqual(at("listen[1]"), { line: 5, column: 5 });
  assert.deepEqual(at("server"), { line: 8, column: 1 });
  assert.deepEqual(at("server[0]"), { line: 8, column: 1 });
  assert.deepEqual(at("server[0].address"), { line: 9, column: 1 });
  assert.deepEqual(at("server[1]"), { line: 11, column: 1 });
  assert.deepEqual(at("server[1].address"), { line: 12, column: 3 });
  assert.deepEqual(at("server[1].minpoll"), { line: 15, column: 3 });
  assert.equal(at("multi"), undefined, "text inside a multi-line string is not a key");
  assert.deepEqual(at("tos"), { line: 17, column: 1 });
  assert.deepEqual(at("tos.minsane"), { line: 18, column: 1 });
  assert.deepEqual(at("tos.inline.a"), { line: 19, column: 12 });
  assert.deepEqual(at("tos.inline.b c"), { line: 19, column: 19 });
  assert.deepEqual(at("tos.inline.b c[1]"), { line: 19, column: 31 });
  assert.deepEqual(at("tinker"), { line: 21, column: 1 });
  assert.deepEqual(at("tinker.step.x"), { line: 22, column: 1 });
});

Deno.test("positionOf() falls back to the nearest written ancestor, then to 1:1", () => {
  const index = indexTomlPositions(text);
  assert.deepEqual(positionOf(index, "server[0].maxpoll"), { line: 8, column: 1 });
  assert.deepEqual(positionOf(index, "discard.average"), { line: 1, column: 1 });
  assert.deepEqual(positionOf(index, ""), { line: 1, column: 1 });
});

Deno.test("parentPath() climbs one key or index at a time", () => {
  assert.equal(parentPath("server[2].minpoll"), "server[2]");
  assert.equal(parentPath("server[2]"), "server");
  assert.equal(parentPath("server"), undefined);
  assert.equal(parentPath("restrict[0].flags[3]"), "restrict[0].flags");
});
