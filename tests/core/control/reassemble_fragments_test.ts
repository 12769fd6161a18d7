// Tests of response fragment matching and joining (client side).
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ControlMessage } from "../../../src/core/control/control_message.ts";
import {
  answersRequest,
  reassembleFragments,
} from "../../../src/core/control/reassemble_fragments.ts";

function fragment(
  offset: number,
  text: string,
  more: boolean,
  extra: Partial<ControlMessage> = {},
): ControlMessage {
  return {
    leap: 0,
    version: 2,
    response: true,
    error: false,
    more,
    opcode: 2,
    sequence: 5,
    status: 0xb61a,
    associationId: 17767,
    offset,
    data: new TextEncoder().encode(text),
    ...extra,
  };
}

Deno.test("reassembleFragments() joins fragments in any order and ignores duplicates", () => {
  const parts = [fragment(0, "abc", true), fragment(3, "def", true), fragment(6, "g", false)];
  const decoder = new TextDecoder();
  fc.assert(
    fc.property(
      fc.shuffledSubarray([0, 1, 2, 0, 1, 2], { minLength: 6, maxLength: 6 }),
      (order) => {
        const joined = reassembleFragments(order.map((i) => parts[i]!));
        assert.ok(joined !== null);
        assert.equal(decoder.decode(joined.data), "abcdefg");
        assert.equal(joined.status, 0xb61a);
      },
    ),
  );
});

Deno.test("reassembleFragments() waits while the last fragment or one in the middle is missing", () => {
  assert.equal(reassembleFragments([fragment(0, "abc", true)]), null);
  assert.equal(reassembleFragments([fragment(0, "abc", true), fragment(6, "g", false)]), null);
  assert.equal(reassembleFragments([fragment(3, "def", false)]), null);
  assert.equal(reassembleFragments([]), null);
});

Deno.test("reassembleFragments() reports an error response at once with its code", () => {
  const joined = reassembleFragments([fragment(0, "", false, { error: true, status: 0x0500 })]);
  assert.deepEqual(joined?.errorCode, 5);
});

Deno.test("answersRequest() matches opcode and sequence of responses only", () => {
  assert.equal(answersRequest(fragment(0, "", false), { opcode: 2, sequence: 5 }), true);
  assert.equal(answersRequest(fragment(0, "", false), { opcode: 2, sequence: 6 }), false);
  assert.equal(answersRequest(fragment(0, "", false), { opcode: 1, sequence: 5 }), false);
  assert.equal(
    answersRequest(fragment(0, "", false, { response: false }), { opcode: 2, sequence: 5 }),
    false,
  );
  assert.equal(
    answersRequest(fragment(0, "", false, { version: 5 }), { opcode: 2, sequence: 5 }),
    false,
  );
});
