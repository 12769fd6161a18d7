// totp(): RFC 6238's test vectors (appendix B) for SHA-1, SHA-256 and SHA-512, base32 secrets, and codes from a clock other than the system's.
import assert from "node:assert/strict";
import { decodeBase32, totp, totpAt } from "../../mod.ts";

const seeds = {
  "SHA-1": "12345678901234567890",
  "SHA-256": "12345678901234567890123456789012",
  "SHA-512": "1234567890123456789012345678901234567890123456789012345678901234",
} as const;

// RFC 6238 appendix B: time (s), then the 8-digit codes for SHA-1, SHA-256, SHA-512.
const vectors: readonly [number, string, string, string][] = [
  [59, "94287082", "46119246", "90693936"],
  [1111111109, "07081804", "68084774", "25091201"],
  [1111111111, "14050471", "67062674", "99943326"],
  [1234567890, "89005924", "91819424", "93441116"],
  [2000000000, "69279037", "90698825", "38618901"],
  [20000000000, "65353130", "77737706", "47863826"],
];

Deno.test("totpAt() gives RFC 6238's codes for every vector and hash", async () => {
  for (const [seconds, ...codes] of vectors) {
    for (const [index, algorithm] of (["SHA-1", "SHA-256", "SHA-512"] as const).entries()) {
      const secret = new TextEncoder().encode(seeds[algorithm]);
      assert.equal(
        await totpAt(secret, seconds * 1000, { digits: 8, algorithm }),
        codes[index],
        `${algorithm} at ${seconds}`,
      );
    }
  }
});

Deno.test("base32 secrets as authenticator apps show them", async () => {
  assert.deepEqual(decodeBase32("JBSW Y3DP-ehpk3pxp===="), decodeBase32("JBSWY3DPEHPK3PXP"));
  assert.equal(new TextDecoder().decode(decodeBase32("JBSWY3DP")), "Hello");
  // "12345678901234567890" in base32: the same codes as the bytes.
  const base32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  assert.equal(await totpAt(base32, 59_000, { digits: 8 }), "94287082");
  assert.throws(() => decodeBase32("ABC1"), /not a base32 secret/);
  await assert.rejects(totpAt(base32, 0, { digits: 5 }), RangeError);
});

Deno.test("totp() takes the time from the clock it is given (a clock 90 s off gives another code)", async () => {
  const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  const at = Date.UTC(2026, 11, 6, 12, 0, 10);
  const right = { now: () => new Date(at) };
  const wrong = { now: () => new Date(at - 90_000) };
  assert.equal(await totp(secret, { clock: right }), await totpAt(secret, at));
  assert.notEqual(await totp(secret, { clock: wrong }), await totp(secret, { clock: right }));
});
