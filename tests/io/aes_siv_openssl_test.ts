// AES-SIV-CMAC-256 over OpenSSL's block modes: RFC 5297's vector, and agreement with OpenSSL's own SIV cipher.
import assert from "node:assert/strict";
import fc from "fast-check";
import { createAesSiv } from "../../src/io/aes_siv_openssl.ts";
import { propertyRuns } from "../support/property_runs.ts";

const hex = (text: string) =>
  Uint8Array.from(text.replace(/\s/g, "").match(/../g)!.map((pair) => parseInt(pair, 16)));
const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

Deno.test("seal() gives RFC 5297 A.1's output (deterministic, one AD) and open() reverses it", () => {
  const aead = createAesSiv();
  const key = hex("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff");
  const associated = hex("10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627");
  const plaintext = hex("11223344 55667788 99aabbcc ddee");
  const out = new Uint8Array(30);
  assert.equal(aead.seal(key, { associated, nonce: null, plaintext }, out, 0), 30);
  assert.equal(toHex(out), "85632d07c6e8f37f950acd320a2ecc93" + "40c02b9690c4dc04daef7f6afe5c");
  const back = new Uint8Array(14);
  assert.equal(aead.open(key, { associated, nonce: null, ciphertext: out }, back), 14);
  assert.equal(toHex(back), toHex(plaintext));
});

Deno.test("open() refuses a flipped bit anywhere, a wrong key, other associated data or nonce", () => {
  const aead = createAesSiv();
  const key = new Uint8Array(32).fill(7);
  const associated = new Uint8Array(60).fill(1);
  const nonce = new Uint8Array(16).fill(2);
  const plaintext = new Uint8Array(40).fill(3);
  const sealed = new Uint8Array(56);
  aead.seal(key, { associated, nonce, plaintext }, sealed, 0);
  const out = new Uint8Array(40);
  assert.equal(aead.open(key, { associated, nonce, ciphertext: sealed }, out), 40);
  for (let bit = 0; bit < sealed.length * 8; bit += 7) {
    const bad = sealed.slice();
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(aead.open(key, { associated, nonce, ciphertext: bad }, out), -1);
  }
  const otherKey = key.slice();
  otherKey[31]! ^= 1;
  assert.equal(aead.open(otherKey, { associated, nonce, ciphertext: sealed }, out), -1);
  const otherAd = associated.slice();
  otherAd[0]! ^= 1;
  assert.equal(aead.open(key, { associated: otherAd, nonce, ciphertext: sealed }, out), -1);
  assert.equal(aead.open(key, { associated, nonce: null, ciphertext: sealed }, out), -1);
  assert.equal(aead.open(key, { associated, nonce, ciphertext: sealed.subarray(0, 15) }, out), -1);
});

/**
 * OpenSSL's own AES-128-SIV, slow but independent: S2V(AD, nonce, P) then CTR. It skips empty
 * strings (EVP_CipherUpdate returns early for 0 bytes) where RFC 5297 counts them, so it is asked
 * about non-empty ones only; the empty plaintext of NTS requests is checked against chronyd.
 */
function openSslSiv() {
  const lib = Deno.dlopen("libcrypto.so.3", {
    EVP_CIPHER_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
    EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
    EVP_CipherInit_ex2: {
      parameters: ["pointer", "pointer", "buffer", "pointer", "i32", "pointer"],
      result: "i32",
    },
    EVP_CipherUpdate: {
      parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
      result: "i32",
    },
    EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
    EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  });
  const s = lib.symbols;
  const cipher = s.EVP_CIPHER_fetch(null, new TextEncoder().encode("AES-128-SIV\0"), null);
  const ctx = s.EVP_CIPHER_CTX_new();
  const length = new Uint8Array(4);
  return {
    seal(key: Uint8Array, parts: Uint8Array[], plaintext: Uint8Array): Uint8Array {
      const out = new Uint8Array(16 + plaintext.length);
      assert.equal(s.EVP_CipherInit_ex2(ctx, cipher, key, null, 1, null), 1);
      for (const part of parts) {
        assert.equal(s.EVP_CipherUpdate(ctx, null, length, part, part.length), 1);
      }
      assert.equal(
        s.EVP_CipherUpdate(ctx, out.subarray(16), length, plaintext, plaintext.length),
        1,
      );
      assert.equal(s.EVP_CipherFinal_ex(ctx, out.subarray(16), length), 1);
      assert.equal(s.EVP_CIPHER_CTX_ctrl(ctx, 0x10, 16, out), 1);
      return out;
    },
    close: () => lib.close(),
  };
}

Deno.test("seal() agrees with OpenSSL's AES-128-SIV on random keys, data, nonces and lengths", () => {
  const aead = createAesSiv();
  const oracle = openSslSiv();
  try {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 })),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        (key, associated, nonce, plaintext) => {
          const out = new Uint8Array(16 + plaintext.length);
          aead.seal(key, { associated, nonce, plaintext }, out, 0);
          const parts = nonce === null ? [associated] : [associated, nonce];
          assert.equal(toHex(out), toHex(oracle.seal(key, parts, plaintext)));
          const back = new Uint8Array(plaintext.length);
          assert.equal(aead.open(key, { associated, nonce, ciphertext: out }, back), back.length);
          assert.equal(toHex(back), toHex(plaintext));
        },
      ),
      { numRuns: propertyRuns(500) },
    );
  } finally {
    oracle.close();
  }
});

Deno.test("keys cached by content: alternating keys, and one buffer rewritten with another key", () => {
  const aead = createAesSiv();
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  const input = {
    associated: new Uint8Array(20),
    nonce: new Uint8Array(16),
    plaintext: new Uint8Array(33),
  };
  const first = new Uint8Array(49);
  aead.seal(a, input, first, 0);
  const other = new Uint8Array(49);
  aead.seal(b, input, other, 0);
  const again = new Uint8Array(49);
  aead.seal(a, input, again, 0);
  assert.deepEqual(again, first);
  assert.notDeepEqual(other, first);
  a.fill(2); // the same object now holds key b
  const rewritten = new Uint8Array(49);
  aead.seal(a, input, rewritten, 0);
  assert.deepEqual(rewritten, other);
});

Deno.test("remembered short associated data: runs over two keys and three short strings agree with OpenSSL", () => {
  const aead = createAesSiv();
  const oracle = openSslSiv();
  const keys = [new Uint8Array(32).fill(7), new Uint8Array(32).fill(9)];
  const strings = [new Uint8Array([0, 0, 0, 1]), new Uint8Array([0, 0, 0, 2]), new Uint8Array(16)];
  try {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.integer({ min: 0, max: 1 }),
            associated: fc.integer({ min: 0, max: 2 }),
            plaintext: fc.uint8Array({ minLength: 1, maxLength: 70 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (steps) => {
          for (const step of steps) {
            const key = keys[step.key]!;
            const associated = strings[step.associated]!;
            const nonce = new Uint8Array(16).fill(step.key + 1);
            const out = new Uint8Array(16 + step.plaintext.length);
            aead.seal(key, { associated, nonce, plaintext: step.plaintext }, out, 0);
            assert.equal(toHex(out), toHex(oracle.seal(key, [associated, nonce], step.plaintext)));
            const back = new Uint8Array(step.plaintext.length);
            assert.equal(aead.open(key, { associated, nonce, ciphertext: out }, back), back.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  } finally {
    oracle.close();
  }
});
