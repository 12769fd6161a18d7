// AES-SIV-CMAC-256 (RFC 5297) over OpenSSL's AES-NI block modes: S2V as CBC-MAC chains, then CTR.
//
// OpenSSL 3's own "AES-128-SIV" cipher re-creates its CMAC context on every key change (about
// 4 us a call here); NTS changes the key on every request. So S2V is built here from one
// AES-128-CBC context (a CMAC is the last block of a CBC encryption: the chaining value of the
// previous call is folded into the first block instead of resetting the IV) and the encryption
// from one AES-128-CTR context (counter and xor in OpenSSL, its IV set per call); a key half is
// set only when it differs from the one set last. A subarray or two per call, no other allocation.
import type { SivAead } from "../core/nts/aead.ts";
import {
  AES_SIV_MAX_INPUT_BYTES,
  AES_SIV_TAG_BYTES,
  checkSealRoom,
  checkSivArguments,
  checkSivKey,
  sivInputTooLong,
} from "../core/nts/aead.ts";
import { type Libcrypto, openLibcrypto, OpenSslError, openSslErrors } from "./libcrypto.ts";

const BLOCK = 16;

const cipherNames = new TextEncoder();

/** One AES-SIV instance: two OpenSSL contexts and scratch memory, for one thread. */
class OpenSslAesSiv implements SivAead {
  readonly #crypto: Libcrypto;
  /** AES-128-CBC under K1 (S2V's CMACs). */
  readonly #mac: Deno.PointerValue;
  /** AES-128-CTR under K2. */
  readonly #ctrContext: Deno.PointerValue;
  /** Copies of the key halves set in the contexts; valid while #macKeySet / #ctrKeySet. */
  readonly #macKey = new Uint8Array(16);
  readonly #ctrKey = new Uint8Array(16);
  #macKeySet = false;
  #ctrKeySet = false;
  /** CMAC subkeys K1, K2 and CMAC(K, 0^128) of the current MAC key. */
  readonly #k1 = new Uint8Array(BLOCK);
  readonly #k2 = new Uint8Array(BLOCK);
  readonly #cmacOfZero = new Uint8Array(BLOCK);
  /** The CBC context's chaining value (the last ciphertext block it produced). */
  readonly #chain = new Uint8Array(BLOCK);
  readonly #d = new Uint8Array(BLOCK);
  readonly #t = new Uint8Array(BLOCK);
  readonly #v = new Uint8Array(BLOCK);
  /**
   * S2V's state after a short associated data string (at most a block, under the current MAC
   * key): the cookie key's id, the same for every cookie sealed or opened under that key, costs
   * one CMAC less a call. Length -1: nothing remembered.
   */
  readonly #rememberedAssociated = new Uint8Array(BLOCK);
  #rememberedAssociatedLength = -1;
  readonly #dAfterAssociated = new Uint8Array(BLOCK);
  /** The tag a ciphertext being opened came with. */
  readonly #received = new Uint8Array(BLOCK);
  /** The CTR's initial counter block Q. */
  readonly #counter = new Uint8Array(BLOCK);
  readonly #scratch = new Uint8Array(AES_SIV_MAX_INPUT_BYTES + BLOCK);
  readonly #scratchOut = new Uint8Array(AES_SIV_MAX_INPUT_BYTES + BLOCK);
  readonly #length = new Uint8Array(4);

  constructor(crypto: Libcrypto) {
    this.#crypto = crypto;
    const cbc = crypto.EVP_CIPHER_fetch(null, cipherNames.encode("AES-128-CBC\0"), null);
    const ctr = crypto.EVP_CIPHER_fetch(null, cipherNames.encode("AES-128-CTR\0"), null);
    if (cbc === null || ctr === null) {
      throw new OpenSslError(`OpenSSL has no AES-128-CBC/CTR: ${openSslErrors(crypto)}`);
    }
    this.#mac = crypto.EVP_CIPHER_CTX_new();
    this.#ctrContext = crypto.EVP_CIPHER_CTX_new();
    const zeroKey = new Uint8Array(BLOCK);
    if (
      this.#mac === null || this.#ctrContext === null ||
      crypto.EVP_CipherInit_ex2(this.#mac, cbc, zeroKey, zeroKey, 1, null) !== 1 ||
      crypto.EVP_CIPHER_CTX_set_padding(this.#mac, 0) !== 1 ||
      crypto.EVP_CipherInit_ex2(this.#ctrContext, ctr, zeroKey, zeroKey, 1, null) !== 1
    ) {
      throw new OpenSslError(`OpenSSL AES contexts: ${openSslErrors(crypto)}`);
    }
  }

  seal(
    key: Uint8Array,
    input: { associated: Uint8Array; nonce: Uint8Array | null; plaintext: Uint8Array },
    out: Uint8Array,
    at: number,
  ): number {
    const plaintext = input.plaintext;
    const length = plaintext.length;
    checkSivArguments(key, input.associated.length, input.nonce?.length ?? 0, length);
    checkSealRoom(out, at, AES_SIV_TAG_BYTES + length);
    this.#s2v(key, input, plaintext, length);
    const v = this.#v;
    for (let i = 0; i < BLOCK; i++) out[at + i] = v[i] as number;
    this.#ctr(key, v, { input: plaintext, output: out.subarray(at + BLOCK), length });
    return AES_SIV_TAG_BYTES + length;
  }

  open(
    key: Uint8Array,
    input: { associated: Uint8Array; nonce: Uint8Array | null; ciphertext: Uint8Array },
    out: Uint8Array,
  ): number {
    const ciphertext = input.ciphertext;
    checkSivKey(key);
    if (ciphertext.length < AES_SIV_TAG_BYTES) return -1;
    if (
      sivInputTooLong(input.associated.length, input.nonce?.length ?? 0, ciphertext.length - BLOCK)
    ) return -1;
    const length = ciphertext.length - AES_SIV_TAG_BYTES;
    if (out.length < length) throw new RangeError("AES-SIV output buffer too small");
    const tag = this.#received;
    for (let i = 0; i < BLOCK; i++) tag[i] = ciphertext[i] as number;
    this.#ctr(key, tag, { input: ciphertext.subarray(BLOCK), output: out, length });
    this.#s2v(key, input, out, length);
    let difference = 0;
    for (let i = 0; i < BLOCK; i++) difference |= (this.#v[i] as number) ^ (tag[i] as number);
    if (difference !== 0) {
      out.fill(0, 0, length);
      return -1;
    }
    return length;
  }

  /** S2V(K1, associated, [nonce,] text[0..length)) into #v. */
  #s2v(
    key: Uint8Array,
    parts: { associated: Uint8Array; nonce: Uint8Array | null },
    text: Uint8Array,
    n: number,
  ): void {
    this.#setMacKey(key);
    const d = this.#d;
    const t = this.#t;
    const associated = parts.associated;
    if (this.#isRememberedAssociated(associated)) {
      d.set(this.#dAfterAssociated);
    } else {
      d.set(this.#cmacOfZero);
      double(d);
      this.#cmac(associated, t);
      xorInto(d, t);
      if (associated.length <= BLOCK) {
        this.#rememberedAssociated.set(associated);
        this.#rememberedAssociatedLength = associated.length;
        this.#dAfterAssociated.set(d);
      }
    }
    const nonce = parts.nonce;
    if (nonce !== null) {
      double(d);
      this.#cmac(nonce, t);
      xorInto(d, t);
    }
    const scratch = this.#scratch;
    scratch.set(n === text.length ? text : text.subarray(0, n));
    if (n >= BLOCK) {
      for (let i = 0; i < BLOCK; i++) scratch[n - BLOCK + i]! ^= d[i] as number;
      this.#cmacScratch(n, this.#v);
    } else {
      double(d);
      scratch[n] = 0x80;
      for (let i = n + 1; i < BLOCK; i++) scratch[i] = 0;
      for (let i = 0; i < BLOCK; i++) scratch[i]! ^= d[i] as number;
      this.#cmacScratch(BLOCK, this.#v);
    }
    // The text (NTS cookies hold client keys) does not stay behind in the scratch copy.
    scratch.fill(0, 0, (n & ~15) + BLOCK);
  }

  /** Whether S2V's state after `associated` under the current MAC key is remembered. */
  #isRememberedAssociated(associated: Uint8Array): boolean {
    const length = associated.length;
    if (length !== this.#rememberedAssociatedLength) return false;
    const remembered = this.#rememberedAssociated;
    for (let i = 0; i < length; i++) if (remembered[i] !== associated[i]) return false;
    return true;
  }

  /** CMAC(K1, message) into `into`. */
  #cmac(message: Uint8Array, into: Uint8Array): void {
    this.#scratch.set(message);
    this.#cmacScratch(message.length, into);
  }

  /** CMAC of scratch[0..n) (clobbering it) into `into`. */
  #cmacScratch(n: number, into: Uint8Array): void {
    const scratch = this.#scratch;
    let length = n;
    if (n > 0 && (n & 15) === 0) {
      for (let i = 0; i < BLOCK; i++) scratch[n - BLOCK + i]! ^= this.#k1[i] as number;
    } else {
      scratch[n] = 0x80;
      length = (n & ~15) + BLOCK;
      for (let i = n + 1; i < length; i++) scratch[i] = 0;
      for (let i = 0; i < BLOCK; i++) scratch[length - BLOCK + i]! ^= this.#k2[i] as number;
    }
    this.#cbcFromZero(length, into);
  }

  /** CBC-MAC with a zero IV of scratch[0..length): the context goes on from #chain, folded in. */
  #cbcFromZero(length: number, into: Uint8Array): void {
    const scratch = this.#scratch;
    const chain = this.#chain;
    for (let i = 0; i < BLOCK; i++) scratch[i]! ^= chain[i] as number;
    const out = this.#scratchOut;
    if (this.#crypto.EVP_CipherUpdate(this.#mac, out, this.#length, scratch, length) !== 1) {
      this.#macKeySet = false;
      throw new OpenSslError(`AES-CBC failed: ${openSslErrors(this.#crypto)}`);
    }
    const last = length - BLOCK;
    for (let i = 0; i < BLOCK; i++) {
      const byte = out[last + i] as number;
      chain[i] = byte;
      into[i] = byte;
    }
  }

  #setMacKey(key: Uint8Array): void {
    if (this.#macKeySet && sameHalf(this.#macKey, key, 0)) return;
    const crypto = this.#crypto;
    this.#macKeySet = false;
    this.#rememberedAssociatedLength = -1;
    const half = this.#macKey;
    for (let i = 0; i < 16; i++) half[i] = key[i] as number;
    this.#chain.fill(0);
    if (crypto.EVP_CipherInit_ex2(this.#mac, null, half, this.#chain, 1, null) !== 1) {
      throw new OpenSslError(`AES key setup failed: ${openSslErrors(crypto)}`);
    }
    this.#macKeySet = true;
    // L = AES(K1, 0); K1' = dbl(L), K2' = dbl(K1'); then CMAC(0^128) for S2V's start.
    this.#scratch.fill(0, 0, BLOCK);
    this.#cbcFromZero(BLOCK, this.#k1);
    double(this.#k1);
    this.#k2.set(this.#k1);
    double(this.#k2);
    this.#scratch.fill(0, 0, BLOCK);
    this.#cmacScratch(BLOCK, this.#cmacOfZero);
  }

  /**
   * CTR(K2, Q = tag with bits 63 and 31 cleared) over `length` bytes: OpenSSL's AES-128-CTR
   * counts Q, Q+1, ... with 128-bit big-endian increments, as RFC 5297 does.
   */
  #ctr(
    key: Uint8Array,
    tag: Uint8Array,
    io: { input: Uint8Array; output: Uint8Array; length: number },
  ): void {
    const { input, output, length } = io;
    if (length === 0) return;
    const crypto = this.#crypto;
    const counter = this.#counter;
    for (let i = 0; i < BLOCK; i++) counter[i] = tag[i] as number;
    counter[8]! &= 0x7f;
    counter[12]! &= 0x7f;
    let keyToSet: Uint8Array | null = null;
    if (!this.#ctrKeySet || !sameHalf(this.#ctrKey, key, 16)) {
      this.#ctrKeySet = false;
      keyToSet = this.#ctrKey;
      for (let i = 0; i < 16; i++) keyToSet[i] = key[16 + i] as number;
    }
    if (crypto.EVP_CipherInit_ex2(this.#ctrContext, null, keyToSet, counter, 1, null) !== 1) {
      throw new OpenSslError(`AES-CTR setup failed: ${openSslErrors(crypto)}`);
    }
    this.#ctrKeySet = true;
    if (crypto.EVP_CipherUpdate(this.#ctrContext, output, this.#length, input, length) !== 1) {
      this.#ctrKeySet = false;
      throw new OpenSslError(`AES-CTR failed: ${openSslErrors(crypto)}`);
    }
  }
}

/** Whether `key[from..from + 16)` equals `copy`. */
function sameHalf(copy: Uint8Array, key: Uint8Array, from: number): boolean {
  for (let i = 0; i < 16; i++) if (copy[i] !== key[from + i]) return false;
  return true;
}

/** dbl() of RFC 5297: shift left one bit, xor 0x87 into the last byte when a bit fell out. */
function double(block: Uint8Array): void {
  const carry = (block[0] as number) >>> 7;
  for (let i = 0; i < BLOCK - 1; i++) {
    block[i] = (((block[i] as number) << 1) | ((block[i + 1] as number) >>> 7)) & 0xff;
  }
  block[BLOCK - 1] = (((block[BLOCK - 1] as number) << 1) & 0xff) ^ (carry === 1 ? 0x87 : 0);
}

function xorInto(target: Uint8Array, source: Uint8Array): void {
  for (let i = 0; i < BLOCK; i++) target[i]! ^= source[i] as number;
}

/**
 * A new AES-SIV-CMAC-256 instance on this thread's libcrypto: the back end when Nettle is missing
 * (see aes_siv.ts, which picks), and Nettle's for calls without a nonce. Use one per key family
 * (one for the server's cookie keys, one for the per-client keys) so that a key stays set between
 * calls (a key is compared with the last one by content).
 *
 * @throws {OpenSslError} When OpenSSL 3 is missing or refuses AES.
 * @example
 * ```ts
 * const aead = createOpenSslAesSiv();
 * const key = new Uint8Array(32);
 * const out = new Uint8Array(16 + 5);
 * const plaintext = new TextEncoder().encode("hello");
 * aead.seal(key, { associated: new Uint8Array(0), nonce: null, plaintext }, out, 0);
 * const back = new Uint8Array(5);
 * aead.open(key, { associated: new Uint8Array(0), nonce: null, ciphertext: out }, back); // 5
 * ```
 */
export function createOpenSslAesSiv(): SivAead {
  return new OpenSslAesSiv(openLibcrypto());
}
