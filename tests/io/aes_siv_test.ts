// AES-SIV-CMAC-256, both back ends (Nettle's SIV-CMAC, OpenSSL's block modes): RFC 5297's vectors, agreement with OpenSSL's own SIV cipher and with each other, and the back end picked.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { SivAead } from "../../src/core/nts/aead.ts";
import { aesSivChoice, createAesSiv } from "../../src/io/aes_siv.ts";
import { createNettleAesSiv } from "../../src/io/aes_siv_nettle.ts";
import { createOpenSslAesSiv } from "../../src/io/aes_siv_openssl.ts";
import { openLibnettle, SIV_CONTEXT_BYTES } from "../../src/io/libnettle.ts";
import { propertyRuns } from "../support/property_runs.ts";

/**
 * The Nettle back end. libnettle8 comes with chrony (scripts/install_test_peers.sh installs it,
 * scripts/install_arm64_emulation.sh its aarch64 build), so a machine without it fails here.
 */
function nettleAead(): SivAead {
  const nettle = openLibnettle();
  assert.ok(nettle !== null, `libnettle.so.8 is needed for these tests: ${aesSivChoice().reason}`);
  return createNettleAesSiv(nettle, createOpenSslAesSiv);
}

const backends: readonly { name: string; create: () => SivAead }[] = [
  { name: "nettle", create: nettleAead },
  { name: "openssl", create: createOpenSslAesSiv },
];

const hex = (text: string) =>
  Uint8Array.from(text.replace(/\s/g, "").match(/../g)!.map((pair) => parseInt(pair, 16)));
const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

for (const backend of backends) {
  Deno.test(`${backend.name}: seal() gives RFC 5297 A.1's output (deterministic, one AD) and open() reverses it`, () => {
    const aead = backend.create();
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
}

for (const backend of backends) {
  Deno.test(`${backend.name}: open() refuses a flipped bit anywhere, a wrong key, other associated data or nonce`, () => {
    const aead = backend.create();
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
    assert.equal(
      aead.open(key, { associated, nonce, ciphertext: sealed.subarray(0, 15) }, out),
      -1,
    );
  });
}

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

for (const backend of backends) {
  Deno.test(`${backend.name}: seal() agrees with OpenSSL's AES-128-SIV on random keys, data, nonces and lengths`, () => {
    const aead = backend.create();
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
}

for (const backend of backends) {
  Deno.test(`${backend.name}: keys cached by content: alternating keys, and one buffer rewritten with another key`, () => {
    const aead = backend.create();
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
}

for (const backend of backends) {
  Deno.test(`${backend.name}: remembered short associated data: runs over two keys and three short strings agree with OpenSSL`, () => {
    const aead = backend.create();
    const oracle = openSslSiv();
    const keys = [new Uint8Array(32).fill(7), new Uint8Array(32).fill(9)];
    const strings = [
      new Uint8Array([0, 0, 0, 1]),
      new Uint8Array([0, 0, 0, 2]),
      new Uint8Array(16),
    ];
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
              assert.equal(
                toHex(out),
                toHex(oracle.seal(key, [associated, nonce], step.plaintext)),
              );
              const back = new Uint8Array(step.plaintext.length);
              assert.equal(
                aead.open(key, { associated, nonce, ciphertext: out }, back),
                back.length,
              );
            }
          },
        ),
        { numRuns: 200 },
      );
    } finally {
      oracle.close();
    }
  });
}

Deno.test("nettle and openssl agree, empty associated data and plaintext included (both count them, as RFC 5297 does)", () => {
  const nettle = nettleAead();
  const openssl = createOpenSslAesSiv();
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      fc.uint8Array({ minLength: 1, maxLength: 32 }),
      fc.uint8Array({ minLength: 0, maxLength: 120 }),
      fc.integer({ min: 0, max: 5 }),
      (key, associated, nonce, plaintext, at) => {
        const fromNettle = new Uint8Array(at + 16 + plaintext.length).fill(0xee);
        const fromOpenSsl = fromNettle.slice();
        const input = { associated, nonce, plaintext };
        assert.equal(nettle.seal(key, input, fromNettle, at), 16 + plaintext.length);
        assert.equal(openssl.seal(key, input, fromOpenSsl, at), 16 + plaintext.length);
        assert.equal(toHex(fromNettle), toHex(fromOpenSsl));
        const ciphertext = fromNettle.subarray(at);
        const back = new Uint8Array(plaintext.length);
        assert.equal(openssl.open(key, { associated, nonce, ciphertext }, back), back.length);
        assert.equal(toHex(back), toHex(plaintext));
        back.fill(0);
        assert.equal(nettle.open(key, { associated, nonce, ciphertext }, back), back.length);
        assert.equal(toHex(back), toHex(plaintext));
      },
    ),
    { numRuns: propertyRuns(300) },
  );
});

for (const backend of backends) {
  Deno.test(`${backend.name}: a refused open leaves no unauthenticated plaintext behind`, () => {
    const aead = backend.create();
    const key = new Uint8Array(32).fill(4);
    const nonce = new Uint8Array(16).fill(5);
    const associated = new Uint8Array(10);
    const sealed = new Uint8Array(16 + 48);
    aead.seal(key, { associated, nonce, plaintext: new Uint8Array(48).fill(0x77) }, sealed, 0);
    // Other associated data: the decryption (CTR under the tag) yields the real plaintext, and
    // only the check after it fails.
    const other = associated.slice();
    other[9] = 1;
    const out = new Uint8Array(48).fill(0x33);
    assert.equal(aead.open(key, { associated: other, nonce, ciphertext: sealed }, out), -1);
    assert.deepEqual(out, new Uint8Array(48));
  });
}

for (const backend of backends) {
  Deno.test(`${backend.name}: seal() refuses an offset that is negative, fractional or NaN, or too little room, writing nothing`, () => {
    const aead = backend.create();
    const key = new Uint8Array(32);
    const input = {
      associated: new Uint8Array(4),
      nonce: new Uint8Array(16),
      plaintext: new Uint8Array(8),
    };
    for (const [size, at] of [[24, Number.NaN], [30, 1.5], [30, -1], [23, 0], [30, 7]] as const) {
      const out = new Uint8Array(size).fill(0xcc);
      assert.throws(() => aead.seal(key, input, out, at), RangeError, `size ${size}, at ${at}`);
      assert.ok(out.every((byte) => byte === 0xcc), `size ${size}, at ${at}: written`);
    }
    const exact = new Uint8Array(30).fill(0xcc);
    assert.equal(aead.seal(key, input, exact, 6), 24);
    assert.ok(exact.subarray(0, 6).every((byte) => byte === 0xcc));
  });
}

Deno.test("nettle: an empty nonce (which Nettle would abort on) goes to OpenSSL, for seal and open, and still counts", () => {
  const aead = nettleAead();
  const key = new Uint8Array(32).fill(6);
  const input = {
    associated: new Uint8Array(3),
    nonce: new Uint8Array(0),
    plaintext: new Uint8Array(5),
  };
  const out = new Uint8Array(21);
  aead.seal(key, input, out, 0);
  const expected = new Uint8Array(21);
  createOpenSslAesSiv().seal(key, input, expected, 0);
  assert.deepEqual(out, expected);
  const withoutNonce = new Uint8Array(21);
  aead.seal(key, { ...input, nonce: null }, withoutNonce, 0);
  assert.notDeepEqual(withoutNonce, out);
  // A client opens what a server's reply names: an empty nonce must not reach Nettle.
  const back = new Uint8Array(5).fill(9);
  const opened = aead.open(key, {
    associated: input.associated,
    nonce: input.nonce,
    ciphertext: out,
  }, back);
  assert.equal(opened, 5);
  assert.deepEqual(back, new Uint8Array(5));
  const other = createOpenSslAesSiv();
  assert.equal(
    other.open(key, { associated: input.associated, nonce: null, ciphertext: out }, back),
    -1,
  );
});

Deno.test("nettle writes no further than SIV_CONTEXT_BYTES into its context", () => {
  const nettle = openLibnettle();
  assert.ok(nettle !== null);
  let furthest = -1;
  for (const fill of [0xa5, 0x5a]) {
    const context = new Uint8Array(SIV_CONTEXT_BYTES + 256).fill(fill);
    nettle.nettle_siv_cmac_aes128_set_key(context, new Uint8Array(32).fill(fill ^ 0xff));
    for (let i = 0; i < context.length; i++) {
      if (context[i] !== fill) furthest = Math.max(furthest, i);
    }
  }
  // struct siv_cmac_aes128_ctx is 384 bytes on x86_64 and aarch64; set_key writes all of it.
  assert.ok(furthest >= 300 && furthest < SIV_CONTEXT_BYTES, `furthest byte written: ${furthest}`);
});

Deno.test("createAesSiv() seals through Nettle where it loads and through OpenSSL where it does not", () => {
  assert.deepEqual(aesSivChoice(), { backend: "nettle", reason: "" });
  const real = openLibnettle();
  assert.ok(real !== null);
  let nettleSeals = 0;
  const counting: typeof real = {
    ...real,
    nettle_siv_cmac_aes128_encrypt_message: (...args) => {
      nettleSeals++;
      return real.nettle_siv_cmac_aes128_encrypt_message(...args);
    },
  };
  const key = new Uint8Array(32).fill(8);
  const input = {
    associated: new Uint8Array(7),
    nonce: new Uint8Array(16),
    plaintext: new Uint8Array(9),
  };
  const picked = new Uint8Array(25);
  createAesSiv(() => counting).seal(key, input, picked, 0);
  assert.equal(nettleSeals, 1);
  const withoutNettle = new Uint8Array(25);
  createAesSiv(() => null).seal(key, input, withoutNettle, 0);
  assert.equal(nettleSeals, 1);
  const direct = new Uint8Array(25);
  createOpenSslAesSiv().seal(key, input, direct, 0);
  assert.deepEqual(withoutNettle, direct);
  assert.deepEqual(picked, direct);
});

for (const backend of backends) {
  Deno.test(`${backend.name}: open() refuses over-long input from a peer (-1) where seal() throws`, () => {
    const aead = backend.create();
    const key = new Uint8Array(32).fill(3);
    const sealed = new Uint8Array(16 + 8);
    const input = {
      associated: new Uint8Array(8),
      nonce: new Uint8Array(16),
      plaintext: new Uint8Array(8),
    };
    aead.seal(key, input, sealed, 0);
    const out = new Uint8Array(8);
    const long = new Uint8Array(5000);
    assert.equal(
      aead.open(key, { associated: long, nonce: input.nonce, ciphertext: sealed }, out),
      -1,
    );
    assert.equal(
      aead.open(key, { associated: input.associated, nonce: long, ciphertext: sealed }, out),
      -1,
    );
    const longCiphertext = new Uint8Array(16 + 5000);
    assert.equal(
      aead.open(key, {
        associated: input.associated,
        nonce: input.nonce,
        ciphertext: longCiphertext,
      }, new Uint8Array(5000)),
      -1,
    );
    assert.equal(
      aead.open(key, { associated: input.associated, nonce: input.nonce, ciphertext: sealed }, out),
      8,
    );
    assert.throws(
      () => aead.seal(key, { ...input, nonce: long }, new Uint8Array(40), 0),
      RangeError,
    );
    assert.throws(
      () => aead.open(new Uint8Array(16), { ...input, ciphertext: sealed }, out),
      RangeError,
    );
  });
}
