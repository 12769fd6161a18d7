// Tests of variable-list packing (ntpd's line and fragment rules) and parsing (ntpq's rules).
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  packVariableText,
  parseVariableList,
  payloadText,
} from "../../../src/core/control/variable_list.ts";

Deno.test("packVariableText() separates items with ', ' and ends the list with CRLF", () => {
  assert.deepEqual(packVariableText(["leap=0", "stratum=3"]).map(payloadText), [
    "leap=0, stratum=3\r\n",
  ]);
  assert.deepEqual(packVariableText([]).map(payloadText), [""]);
});

Deno.test("packVariableText() never cuts an item, keeps fragments within 468 bytes and lines under 80 characters", () => {
  const item = fc.stringMatching(/^[a-z_]{1,12}=[ -+\--~]{0,40}$/);
  fc.assert(
    fc.property(fc.array(item, { maxLength: 80 }), (items) => {
      const fragments = packVariableText(items).map(payloadText);
      for (const fragment of fragments) assert.ok(fragment.length <= 468);
      const joined = fragments.join("");
      for (const line of joined.split("\r\n")) assert.ok(line.length < 80, line);
      const expected = items.join("|");
      const rebuilt = items.length === 0 ? "" : joined.slice(0, -2).split(/,(?: |\r\n)/).join("|");
      assert.equal(rebuilt, expected);
      if (items.length > 0) assert.ok(joined.endsWith("\r\n"));
    }),
  );
});

Deno.test("packVariableText() splits an item longer than a fragment over several fragments", () => {
  const long = "x=" + "a".repeat(1000);
  const fragments = packVariableText(["a=1", long, "b=2"]);
  assert.ok(fragments.every((f) => f.length <= 468));
  assert.equal(fragments.map(payloadText).join(""), "a=1,\r\n" + long + ",\r\nb=2\r\n");
});

Deno.test("parseVariableList() reads ntpd's text: quotes, CRLF, NUL padding and bare names", () => {
  assert.deepEqual(
    parseVariableList('version="ntpd 4.2, x", leap=0,\r\nstratum = 3 , flag, \0\0'),
    [
      { name: "version", value: "ntpd 4.2, x" },
      { name: "leap", value: "0" },
      { name: "stratum", value: "3" },
      { name: "flag", value: null },
    ],
  );
});

Deno.test("parseVariableList() reads back what packVariableText() wrote", () => {
  const pair = fc.tuple(
    fc.stringMatching(/^[a-z][a-z_.0-9]{0,10}$/),
    fc.stringMatching(/^[0-9a-zA-Z.:\-]{0,20}$/),
  );
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 50 }), (pairs) => {
      const text = packVariableText(pairs.map(([n, v]) => `${n}=${v}`)).map(payloadText).join("");
      assert.deepEqual(parseVariableList(text), pairs.map(([name, value]) => ({ name, value })));
    }),
  );
});
