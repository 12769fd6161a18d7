// Measures handleRequest on NTS requests (cookie open, authenticator check, one new cookie, reply sealed) beside a plain request, with either AES-SIV back end.
import { createCounters } from "../../src/core/server/counters.ts";
import { handleRequest, type ServerContext } from "../../src/core/server/handle_request.ts";
import { createRateTable, defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import { compileRestrict } from "../../src/core/server/restrict.ts";
import { createNtsScratch } from "../../src/core/nts/nts_request.ts";
import { COOKIE_BYTES, createCookieScratch, sealCookie } from "../../src/core/nts/cookie.ts";
import { buildNtsRequest } from "../../src/core/nts/nts_client_request.ts";
import { buildExchangeRequest } from "../../src/core/client/exchange.ts";
import { aesSivChoice, createAesSiv } from "../../src/io/aes_siv.ts";
import { createOpenSslAesSiv } from "../../src/io/aes_siv_openssl.ts";
import { openLibnettle, SIV_CONTEXT_BYTES } from "../../src/io/libnettle.ts";
import { bufferedRandom, openLibcrypto } from "../../src/io/libcrypto.ts";

const libcrypto = openLibcrypto();
const current = { id: 1, key: crypto.getRandomValues(new Uint8Array(32)) };
const ring = { current, valid: [current] };
const context: ServerContext = {
  system: {
    leap: 0,
    stratum: 2,
    precisionLog2: -24,
    referenceId: 0x7f000001,
    referenceTime: { seconds: 0xeeb527d1, fraction: 0 },
    rootDelaySeconds: 0.001,
    rootDispersionSeconds: 0.001,
  },
  restrict: compileRestrict([]),
  rateTable: createRateTable(defaultRateLimitPolicy, { hashSeed: 1 }),
  counters: createCounters(),
  nts: {
    ring,
    cookieAead: createAesSiv(),
    sessionAead: createAesSiv(),
    randomBytes: bufferedRandom(libcrypto),
    writeTransmitTime: (out) => out.fill(1, 40, 48),
    scratch: createNtsScratch(2048),
  },
};

/** 64 clients with keys and cookies of their own (the server sets a key per request). */
const client = createAesSiv();
const requests = Array.from({ length: 64 }, () => {
  const c2s = crypto.getRandomValues(new Uint8Array(32));
  const s2c = crypto.getRandomValues(new Uint8Array(32));
  const cookie = new Uint8Array(COOKIE_BYTES);
  sealCookie(
    { ring, aead: client, scratch: createCookieScratch() },
    {
      session: { aeadId: 15, c2s, s2c },
      nonce: crypto.getRandomValues(new Uint8Array(16)),
    },
    cookie,
    0,
  );
  return buildNtsRequest({
    header: buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8))),
    uniqueId: crypto.getRandomValues(new Uint8Array(32)),
    cookie,
    placeholders: 0,
    c2s,
    nonce: crypto.getRandomValues(new Uint8Array(16)),
  }, client);
});
const plain = buildExchangeRequest(new Uint8Array(8).fill(3));
const out = new Uint8Array(2048);
const datagram = {
  data: plain,
  client: { family: 4 as const, bytes: new Uint8Array([192, 0, 2, 1]), port: 40000 },
  receiveTime: { seconds: 0xe0000000, fraction: 0 },
  monotonicSeconds: 1,
};
let i = 0;

Deno.bench("plain mode 3 request", { group: "nts", baseline: true }, () => {
  datagram.data = plain;
  handleRequest(datagram, context, out);
});

Deno.bench("NTS request (64 clients in turn, 1 cookie back)", { group: "nts" }, () => {
  datagram.data = requests[i++ & 63]!;
  const verdict = handleRequest(datagram, context, out);
  if (verdict.action !== "reply" || verdict.kissOfDeath) throw new Error("not answered");
});

/** The same server with OpenSSL's back end, as on a machine without libnettle. */
const openSslContext: ServerContext = {
  ...context,
  nts: { ...context.nts!, cookieAead: createOpenSslAesSiv(), sessionAead: createOpenSslAesSiv() },
};
let j = 0;

Deno.bench(
  `NTS request, AES-SIV forced to OpenSSL (the line above: ${aesSivChoice().backend})`,
  { group: "nts" },
  () => {
    datagram.data = requests[j++ & 63]!;
    const verdict = handleRequest(datagram, openSslContext, out);
    if (verdict.action !== "reply" || verdict.kissOfDeath) throw new Error("not answered");
  },
);

/**
 * Nettle's six calls of one NTS request made straight through FFI, sizes as in
 * scripts/bench/nettle_nts_work.c (the same loop in C): what the calls cost from Deno.
 */
const nettle = openLibnettle();
if (nettle !== null) {
  const cookieContext = new Uint8Array(SIV_CONTEXT_BYTES);
  const sessionContext = new Uint8Array(SIV_CONTEXT_BYTES);
  const nonce = new Uint8Array(16).fill(1);
  const associated = new Uint8Array(256).fill(2);
  const text = new Uint8Array(128).fill(3);
  const opened = new Uint8Array(128);
  const sealed = new Uint8Array(256);
  const clientKeys = Array.from(
    { length: 64 },
    (_, i) => Uint8Array.from({ length: 32 }, (_, j) => (i * 7 + j) & 0xff),
  );
  nettle.nettle_siv_cmac_aes128_set_key(cookieContext, new Uint8Array(32).fill(9));
  const cookie = new Uint8Array(16 + 68);
  nettle.nettle_siv_cmac_aes128_encrypt_message(
    cookieContext,
    16n,
    nonce,
    4n,
    associated,
    84n,
    cookie,
    text,
  );
  let k = 0;
  Deno.bench(
    "Nettle's six calls of one NTS request, straight through FFI",
    { group: "nettle" },
    () => {
      nettle.nettle_siv_cmac_aes128_decrypt_message(
        cookieContext,
        16n,
        nonce,
        4n,
        associated,
        68n,
        opened,
        cookie,
      );
      nettle.nettle_siv_cmac_aes128_set_key(sessionContext, clientKeys[k++ & 63]!);
      nettle.nettle_siv_cmac_aes128_decrypt_message(
        sessionContext,
        16n,
        nonce,
        188n,
        associated,
        0n,
        opened,
        sealed,
      );
      nettle.nettle_siv_cmac_aes128_encrypt_message(
        cookieContext,
        16n,
        nonce,
        4n,
        associated,
        84n,
        sealed,
        text,
      );
      nettle.nettle_siv_cmac_aes128_set_key(sessionContext, clientKeys[k & 63]!);
      nettle.nettle_siv_cmac_aes128_encrypt_message(
        sessionContext,
        16n,
        nonce,
        84n,
        associated,
        120n,
        sealed,
        text,
      );
    },
  );
}
