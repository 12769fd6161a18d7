// The NTS cookie keys in shared memory: the daemon writes them under a seqlock, responder threads read them.
//
// Layout (Int32 words, every access through Atomics): word 0 the sequence (odd while a write is
// in progress, 0 = never written), word 1 the key count, then per key its id and 8 words of key.
// A reader copies under the sequence and retries when it changed; keys change once a day, so the
// per-batch cost is one atomic load.
import type { CookieKey, CookieKeyRing } from "../core/nts/cookie.ts";
import { AES_SIV_KEY_BYTES } from "../core/nts/aead.ts";

/** Most keys the buffer holds (the current one and the previous ones still accepted). */
export const MAX_SHARED_COOKIE_KEYS = 16;
const KEY_WORDS = AES_SIV_KEY_BYTES / 4;
const ENTRY_WORDS = 1 + KEY_WORDS;
const HEADER_WORDS = 2;

/**
 * A zeroed buffer for {@link publishCookieKeys} / {@link createCookieKeyReader}.
 *
 * @example
 * ```ts
 * const buffer = createCookieKeyBuffer();
 * ```
 */
export function createCookieKeyBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER_WORDS + MAX_SHARED_COOKIE_KEYS * ENTRY_WORDS) * 4);
}

/**
 * Publishes a key ring (single writer): `ring.valid[0]` must be the current key.
 *
 * @throws {RangeError} With more than {@link MAX_SHARED_COOKIE_KEYS} keys or a key of the wrong size.
 * @example
 * ```ts
 * const buffer = createCookieKeyBuffer();
 * const current = { id: 1, key: new Uint8Array(32) };
 * publishCookieKeys(buffer, { current, valid: [current] });
 * ```
 */
export function publishCookieKeys(buffer: SharedArrayBuffer, ring: CookieKeyRing): void {
  const keys = ring.valid;
  if (keys.length === 0 || keys.length > MAX_SHARED_COOKIE_KEYS || keys[0] !== ring.current) {
    throw new RangeError(`1..${MAX_SHARED_COOKIE_KEYS} keys, the current one first`);
  }
  if (keys.some((entry) => entry.key.length !== AES_SIV_KEY_BYTES)) {
    throw new RangeError("a cookie key is 32 bytes");
  }
  const words = new Int32Array(buffer);
  Atomics.add(words, 0, 1); // odd: a write is in progress
  Atomics.store(words, 1, keys.length);
  keys.forEach((entry, index) => {
    const base = HEADER_WORDS + index * ENTRY_WORDS;
    Atomics.store(words, base, entry.id | 0);
    const view = new DataView(entry.key.buffer, entry.key.byteOffset, entry.key.byteLength);
    for (let i = 0; i < KEY_WORDS; i++) Atomics.store(words, base + 1 + i, view.getInt32(i * 4));
  });
  Atomics.add(words, 0, 1); // even again: done
}

/** A reader of the shared keys for one thread. */
export interface CookieKeyReader {
  /** The ring last read (null until keys were published). */
  readonly ring: CookieKeyRing | null;
  /** Reads the buffer when it changed; true when `ring` is new. */
  refresh(): boolean;
}

/**
 * A reader of the shared keys.
 *
 * @example
 * ```ts
 * const reader = createCookieKeyReader(createCookieKeyBuffer());
 * if (reader.refresh()) console.log(reader.ring?.current.id);
 * ```
 */
export function createCookieKeyReader(buffer: SharedArrayBuffer): CookieKeyReader {
  const words = new Int32Array(buffer);
  let seen = 0;
  let ring: CookieKeyRing | null = null;
  return {
    get ring() {
      return ring;
    },
    refresh(): boolean {
      const sequence = Atomics.load(words, 0);
      if (sequence === seen || (sequence & 1) !== 0) return false;
      const count = Atomics.load(words, 1);
      if (count < 1 || count > MAX_SHARED_COOKIE_KEYS) return false;
      const keys: CookieKey[] = [];
      for (let index = 0; index < count; index++) {
        const base = HEADER_WORDS + index * ENTRY_WORDS;
        const id = Atomics.load(words, base) >>> 0;
        const key = new Uint8Array(AES_SIV_KEY_BYTES);
        const view = new DataView(key.buffer);
        for (let i = 0; i < KEY_WORDS; i++) view.setInt32(i * 4, Atomics.load(words, base + 1 + i));
        keys.push({ id, key });
      }
      if (Atomics.load(words, 0) !== sequence) return false; // torn: try at the next batch
      seen = sequence;
      ring = { current: keys[0]!, valid: keys };
      return true;
    },
  };
}
