// NTS cookies (RFC 8915 §6): the client's keys and AEAD, sealed under one of the server's cookie keys.
import { AES_SIV_KEY_BYTES, AES_SIV_TAG_BYTES, type SivAead } from "./aead.ts";

/** One server cookie key: a 32-bit id (sent in the clear in every cookie) and its AES-SIV key. */
export interface CookieKey {
  readonly id: number;
  /** 32 bytes. */
  readonly key: Uint8Array;
}

/** The server's cookie keys: new cookies are sealed under `current`, any of `valid` opens one. */
export interface CookieKeyRing {
  readonly current: CookieKey;
  /** The current key and the previous ones still accepted, newest first. */
  readonly valid: readonly CookieKey[];
}

/** The keys of one NTS association, as NTS-KE exported them. */
export interface NtsSessionKeys {
  readonly aeadId: number;
  /** Client-to-server key (requests are authenticated with it). */
  readonly c2s: Uint8Array;
  /** Server-to-client key (replies are authenticated with it). */
  readonly s2c: Uint8Array;
}

/** Nonce bytes in a cookie. */
export const COOKIE_NONCE_BYTES = 16;
/** Sealed part: AEAD id (2), reserved (2), C2S key (32), S2C key (32). */
const PLAINTEXT_BYTES = 4 + 2 * AES_SIV_KEY_BYTES;
/**
 * Length of every cookie this server issues: key id (4), nonce (16), tag (16), sealed keys (68).
 * A multiple of 4, so a cookie fills an extension field without padding.
 */
export const COOKIE_BYTES = 4 + COOKIE_NONCE_BYTES + AES_SIV_TAG_BYTES + PLAINTEXT_BYTES;

/** Buffers reused by {@link sealCookie} and {@link openCookie} (one per thread). */
export interface CookieScratch {
  readonly plaintext: Uint8Array;
  readonly keyIdBytes: Uint8Array;
  readonly input: { associated: Uint8Array; nonce: Uint8Array | null; plaintext: Uint8Array };
  readonly openInput: { associated: Uint8Array; nonce: Uint8Array | null; ciphertext: Uint8Array };
  /** What the last {@link openCookie} opened: AEAD id, reserved, C2S key, S2C key. */
  readonly opened: Uint8Array;
  /** The session {@link openCookie} returns: its keys are views of `opened`. */
  readonly session: { aeadId: number; readonly c2s: Uint8Array; readonly s2c: Uint8Array };
}

/**
 * Scratch buffers for the cookie functions.
 *
 * @example
 * ```ts
 * const scratch = createCookieScratch();
 * ```
 */
export function createCookieScratch(): CookieScratch {
  const empty = new Uint8Array(0);
  const opened = new Uint8Array(PLAINTEXT_BYTES);
  return {
    plaintext: new Uint8Array(PLAINTEXT_BYTES),
    keyIdBytes: new Uint8Array(4),
    input: { associated: empty, nonce: null, plaintext: empty },
    openInput: { associated: empty, nonce: null, ciphertext: empty },
    opened,
    session: {
      aeadId: 0,
      c2s: opened.subarray(4, 4 + AES_SIV_KEY_BYTES),
      s2c: opened.subarray(4 + AES_SIV_KEY_BYTES, 4 + 2 * AES_SIV_KEY_BYTES),
    },
  };
}

/**
 * Seals `session` into a cookie at `out[at..at + COOKIE_BYTES)` under the ring's current key.
 * The key id is the associated data; `nonce` (16 fresh random bytes) is stored in the clear.
 *
 * @example
 * ```ts
 * import type { SivAead } from "./aead.ts";
 * declare const aead: SivAead;
 * declare const ring: CookieKeyRing;
 * declare const session: NtsSessionKeys;
 * const cookie = new Uint8Array(COOKIE_BYTES);
 * sealCookie({ ring, aead, scratch: createCookieScratch() }, { session, nonce: new Uint8Array(16) }, cookie, 0);
 * ```
 */
export function sealCookie(
  tools: { readonly ring: CookieKeyRing; readonly aead: SivAead; readonly scratch: CookieScratch },
  what: { readonly session: NtsSessionKeys; readonly nonce: Uint8Array },
  out: Uint8Array,
  at: number,
): void {
  const { ring, aead, scratch } = tools;
  const { session, nonce } = what;
  if (nonce.length !== COOKIE_NONCE_BYTES) throw new RangeError("a cookie nonce is 16 bytes");
  const id = ring.current.id;
  const idBytes = scratch.keyIdBytes;
  idBytes[0] = id >>> 24;
  idBytes[1] = (id >>> 16) & 0xff;
  idBytes[2] = (id >>> 8) & 0xff;
  idBytes[3] = id & 0xff;
  const plaintext = scratch.plaintext;
  plaintext[0] = session.aeadId >>> 8;
  plaintext[1] = session.aeadId & 0xff;
  plaintext[2] = 0;
  plaintext[3] = 0;
  plaintext.set(session.c2s, 4);
  plaintext.set(session.s2c, 4 + AES_SIV_KEY_BYTES);
  out.set(idBytes, at);
  out.set(nonce, at + 4);
  const input = scratch.input;
  input.associated = idBytes;
  input.nonce = nonce;
  input.plaintext = plaintext;
  aead.seal(ring.current.key, input, out, at + 4 + COOKIE_NONCE_BYTES);
  plaintext.fill(0);
}

/**
 * Opens a cookie: null when it has the wrong length, names a key not in the ring (too old, or
 * from another server) or fails authentication. The session returned is `scratch.session`: its
 * keys are views of `scratch.opened`, valid until the next openCookie with the same scratch (no
 * allocation per request); wipe them with {@link wipeOpenedCookie} once used.
 *
 * @example
 * ```ts
 * import type { SivAead } from "./aead.ts";
 * declare const aead: SivAead;
 * declare const ring: CookieKeyRing;
 * declare const cookie: Uint8Array;
 * const session = openCookie({ ring, aead, scratch: createCookieScratch() }, cookie);
 * ```
 */
export function openCookie(
  tools: { readonly ring: CookieKeyRing; readonly aead: SivAead; readonly scratch: CookieScratch },
  cookie: Uint8Array,
): NtsSessionKeys | null {
  if (cookie.length !== COOKIE_BYTES) return null;
  const { ring, aead, scratch } = tools;
  const id = ((cookie[0] as number) * 0x1000000) +
    (((cookie[1] as number) << 16) | ((cookie[2] as number) << 8) | (cookie[3] as number));
  let key: CookieKey | undefined;
  for (const candidate of ring.valid) {
    if (candidate.id === id) {
      key = candidate;
      break;
    }
  }
  if (key === undefined) return null;
  const input = scratch.openInput;
  input.associated = cookie.subarray(0, 4);
  input.nonce = cookie.subarray(4, 4 + COOKIE_NONCE_BYTES);
  input.ciphertext = cookie.subarray(4 + COOKIE_NONCE_BYTES);
  const opened = scratch.opened;
  if (aead.open(key.key, input, opened) !== PLAINTEXT_BYTES) {
    opened.fill(0);
    return null;
  }
  const session = scratch.session;
  session.aeadId = ((opened[0] as number) << 8) | (opened[1] as number);
  return session;
}

/**
 * Wipes the keys the last {@link openCookie} with this scratch opened.
 *
 * @example
 * ```ts
 * const scratch = createCookieScratch();
 * wipeOpenedCookie(scratch);
 * ```
 */
export function wipeOpenedCookie(scratch: CookieScratch): void {
  scratch.opened.fill(0);
  scratch.session.aeadId = 0;
}
