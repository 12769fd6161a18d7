// Tests of the 8-bit reachability register.
import assert from "node:assert/strict";
import {
  answeredRecently,
  formatReach,
  markReached,
  shiftReach,
} from "../../../src/core/client/reach_register.ts";

Deno.test("the reach register shifts at each poll, keeps 8 bits and marks answers in bit 0", () => {
  let reach = 0;
  for (let i = 0; i < 8; i++) reach = markReached(shiftReach(reach));
  assert.equal(reach, 0xff);
  assert.equal(formatReach(reach), "377");
  reach = shiftReach(reach);
  assert.equal(reach, 0xfe);
  for (let i = 0; i < 7; i++) reach = shiftReach(reach);
  assert.equal(reach, 0);
});

Deno.test("answeredRecently() looks at the last three polls only", () => {
  assert.equal(answeredRecently(0b100), true);
  assert.equal(answeredRecently(0b1000), false);
  assert.equal(answeredRecently(shiftReach(shiftReach(shiftReach(1)))), false);
});
