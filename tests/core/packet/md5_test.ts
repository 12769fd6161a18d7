// Tests of the pure TypeScript MD5 against the RFC 1321 test suite and Python's hashlib.
import assert from "node:assert/strict";
import { md5 } from "../../../src/core/packet/md5.ts";
import { toHex } from "../_vectors.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("md5() reproduces every test vector of RFC 1321 appendix A.5", () => {
  const vectors: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "d174ab98d277d9f5a5611c2c9f419d9f",
    ],
    [
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a",
    ],
  ];
  for (const [input, digest] of vectors) assert.equal(toHex(md5(text(input))), digest, input);
});

Deno.test("md5() handles inputs around the 56- and 64-byte padding boundaries", () => {
  // Expected values from Python hashlib.md5(b"x" * n).
  const expected: Record<number, string> = {
    55: "04364420e25c512fd958a70738aa8f72",
    56: "668a72d5ba17f08e62dabcafad6db14b",
    63: "7dc2ca208106a2f703567bdff99d8981",
    64: "c1bb4f81d892b2d57947682aeb252456",
    65: "1bc932052302d074bdec39795fe00cf6",
  };
  for (const [length, digest] of Object.entries(expected)) {
    assert.equal(toHex(md5(new Uint8Array(Number(length)).fill(0x78))), digest, `length ${length}`);
  }
});

Deno.test("md5() hashes a multi-block binary input like hashlib", () => {
  const input = new Uint8Array(1280);
  for (let i = 0; i < input.length; i++) input[i] = i & 0xff;
  assert.equal(toHex(md5(input)), "82829f1f3f2bb0f18b25f278e5bba8bd");
});
