// Cookie key rotation: when a key is due, which keys stay valid, newest first.
import assert from "node:assert/strict";
import {
  ringOf,
  rotationDue,
  secondsUntilRotation,
  trimmedKeys,
  withNewKey,
} from "../../../src/core/nts/cookie_key_rotation.ts";

const policy = { rotateSeconds: 86400, keep: 2 };
const key = (id: number, createdUnixSeconds: number) => ({
  id,
  key: new Uint8Array(32),
  createdUnixSeconds,
});

Deno.test("a key is due with no keys, once the newest is rotateSeconds old, or when the clock went back", () => {
  assert.equal(rotationDue([], 0, policy), true);
  assert.equal(rotationDue([key(1, 1000)], 1000 + 86399, policy), false);
  assert.equal(rotationDue([key(1, 1000)], 1000 + 86400, policy), true);
  assert.equal(rotationDue([key(1, 1000 + 2 * 86400)], 1000, policy), true);
  assert.equal(secondsUntilRotation([key(1, 1000)], 1100, policy), 86300);
});

Deno.test("withNewKey() puts the new key first and keeps `keep` older ones, by creation time", () => {
  const keys = withNewKey([key(1, 10), key(3, 30), key(2, 20)], key(4, 40), policy);
  assert.deepEqual(keys.map((k) => k.id), [4, 3, 2]);
  assert.throws(() => withNewKey(keys, key(3, 50), policy), RangeError);
  assert.deepEqual(
    trimmedKeys([key(1, 10), key(2, 20), key(3, 30), key(4, 40)], policy).map((k) => k.id),
    [4, 3, 2],
  );
});

Deno.test("withNewKey() after the clock went back: the new key is current, the future-dated ones stay valid behind it", () => {
  const future = [key(1, 5000), key(2, 4000)];
  const keys = withNewKey(future, key(3, 1000), policy);
  assert.equal(ringOf(keys).current.id, 3);
  assert.deepEqual(ringOf(keys).valid.map((k) => k.id).sort(), [1, 2, 3]);
});

Deno.test("ringOf() seals with the newest and opens with all", () => {
  const ring = ringOf([key(1, 10), key(2, 20)]);
  assert.equal(ring.current.id, 2);
  assert.deepEqual(ring.valid.map((k) => k.id), [2, 1]);
  assert.throws(() => ringOf([]), RangeError);
});
