// An NTS server context and a client that talks to it, for the NTS tests (real AES-SIV through OpenSSL).
import { createAesSiv } from "../../../src/io/aes_siv.ts";
import { AeadId } from "../../../src/core/nts/aead.ts";
import {
  COOKIE_BYTES,
  type CookieKeyRing,
  createCookieScratch,
  sealCookie,
} from "../../../src/core/nts/cookie.ts";
import { createNtsScratch, type NtsServerContext } from "../../../src/core/nts/nts_request.ts";
import { buildNtsRequest } from "../../../src/core/nts/nts_client_request.ts";
import type { ServerContext } from "../../../src/core/server/handle_request.ts";
import { makeContext } from "../server/_context.ts";

/** A deterministic byte source (the tests need no real randomness). */
export function counterBytes(seed: number): (out: Uint8Array) => void {
  let state = seed;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      out[i] = state >>> 24;
    }
  };
}

export const ring: CookieKeyRing = (() => {
  const current = { id: 0x01020304, key: new Uint8Array(32).fill(0x42) };
  const older = { id: 99, key: new Uint8Array(32).fill(0x17) };
  return { current, valid: [current, older] };
})();

/** The transmit time the server writes into NTS replies: fixed bytes, easy to look for. */
export const TRANSMIT = [1, 2, 3, 4, 5, 6, 7, 8];

export function ntsContext(options: { ring?: CookieKeyRing } = {}): NtsServerContext {
  return {
    ring: options.ring ?? ring,
    cookieAead: createAesSiv(),
    sessionAead: createAesSiv(),
    randomBytes: counterBytes(5),
    writeTransmitTime: (out) => out.set(TRANSMIT, 40),
    scratch: createNtsScratch(2048),
  };
}

export function serverContext(options: { ring?: CookieKeyRing } = {}): ServerContext {
  return { ...makeContext(), nts: ntsContext(options) };
}

/** A client's session: keys and a cookie sealed under `sealRing` (default: the server's ring). */
export function clientSession(
  options: { sealRing?: CookieKeyRing; seed?: number } = {},
): { c2s: Uint8Array; s2c: Uint8Array; cookie: Uint8Array } {
  const random = counterBytes(options.seed ?? 11);
  const c2s = new Uint8Array(32);
  const s2c = new Uint8Array(32);
  random(c2s);
  random(s2c);
  const cookie = new Uint8Array(COOKIE_BYTES);
  const nonce = new Uint8Array(16);
  random(nonce);
  sealCookie(
    { ring: options.sealRing ?? ring, aead: createAesSiv(), scratch: createCookieScratch() },
    { session: { aeadId: AeadId.aesSivCmac256, c2s, s2c }, nonce },
    cookie,
    0,
  );
  return { c2s, s2c, cookie };
}

export function modeThreeHeader(): Uint8Array {
  const header = new Uint8Array(48);
  header[0] = 0x23; // LI 0, version 4, mode 3
  header.set([0xe0, 0, 0, 0, 0, 0, 0, 1], 40);
  return header;
}

export function request(
  session: { c2s: Uint8Array; cookie: Uint8Array },
  options: { placeholders?: number; uniqueId?: Uint8Array; nonce?: Uint8Array } = {},
): { bytes: Uint8Array; uniqueId: Uint8Array } {
  const uniqueId = options.uniqueId ?? new Uint8Array(32).map((_, i) => i + 1);
  const bytes = buildNtsRequest({
    header: modeThreeHeader(),
    uniqueId,
    cookie: session.cookie,
    placeholders: options.placeholders ?? 0,
    c2s: session.c2s,
    nonce: options.nonce ?? new Uint8Array(16).fill(9),
  }, createAesSiv());
  return { bytes, uniqueId };
}

/** `count` different cookies for one client's keys (each sealed with its own nonce). */
export function cookiesFor(
  session: { c2s: Uint8Array; s2c: Uint8Array },
  count: number,
  options: { ring?: CookieKeyRing; seed?: number } = {},
): Uint8Array[] {
  const random = counterBytes(options.seed ?? 23);
  return Array.from({ length: count }, () => {
    const cookie = new Uint8Array(COOKIE_BYTES);
    const nonce = new Uint8Array(16);
    random(nonce);
    sealCookie(
      { ring: options.ring ?? ring, aead: createAesSiv(), scratch: createCookieScratch() },
      { session: { aeadId: AeadId.aesSivCmac256, c2s: session.c2s, s2c: session.s2c }, nonce },
      cookie,
      0,
    );
    return cookie;
  });
}
