// Benchmark helper: runs NTS-KE with a server and writes a pool of NTS-protected requests for scripts/ntsload.c; or times NTS-KE handshakes.
//
//   deno run -A scripts/nts_request_pool.ts pool HOST KE_PORT CA_FILE COUNT OUT_FILE
//   deno run -A scripts/nts_request_pool.ts handshakes HOST KE_PORT CA_FILE SECONDS CONCURRENCY
//
// pool: request k carries transmit timestamp (random32 << 32 | k); the requests cycle through
// 64 NTS-KE sessions (different keys, as from different clients: the server sets a key per
// request, as it must for real traffic), each reusing its first cookie (servers keep no record
// of cookies); prints "POOL count=N length=L sessions=S ntp_port=P". handshakes: CONCURRENCY clients run NTS-KE back to back
// for SECONDS; prints "HANDSHAKES count=N per_s=R failures=F".
import { runNtsKeyExchange } from "../src/io/nts_ke_client.ts";
import { createAesSiv } from "../src/io/aes_siv.ts";
import { buildNtsRequest } from "../src/core/nts/nts_client_request.ts";
import { buildExchangeRequest } from "../src/core/client/exchange.ts";

const [mode, host, kePortText, caFile, a, b] = Deno.args;
if ((mode !== "pool" && mode !== "handshakes") || !host || !kePortText || !caFile || !a || !b) {
  console.error(
    "usage: nts_request_pool.ts pool HOST KE_PORT CA_FILE COUNT OUT_FILE\n" +
      "       nts_request_pool.ts handshakes HOST KE_PORT CA_FILE SECONDS CONCURRENCY",
  );
  Deno.exit(2);
}
const kePort = Number(kePortText);

if (mode === "pool") {
  const count = Number(a);
  const sessions = [];
  for (let s = 0; s < Math.min(64, count); s++) {
    sessions.push(await runNtsKeyExchange({ host, port: kePort, caFile, timeoutMs: 5000 }));
  }
  const aead = createAesSiv();
  const high = crypto.getRandomValues(new Uint32Array(1))[0]!;
  let length = 0;
  let out: Uint8Array | null = null;
  for (let k = 0; k < count; k++) {
    const ke = sessions[k % sessions.length]!;
    const stamp = new Uint8Array(8);
    new DataView(stamp.buffer).setUint32(0, high);
    new DataView(stamp.buffer).setUint32(4, k);
    const request = buildNtsRequest({
      header: buildExchangeRequest(stamp),
      uniqueId: crypto.getRandomValues(new Uint8Array(32)),
      cookie: ke.cookies[0]!,
      placeholders: 0,
      c2s: ke.keys.c2s,
      nonce: crypto.getRandomValues(new Uint8Array(16)),
    }, aead);
    if (out === null) {
      length = request.length;
      out = new Uint8Array(8 + count * length);
      new DataView(out.buffer).setUint32(0, count, true);
      new DataView(out.buffer).setUint32(4, length, true);
    }
    out.set(request, 8 + k * length);
  }
  await Deno.writeFile(b, out!);
  console.log(
    `POOL count=${count} length=${length} sessions=${sessions.length} ntp_port=${
      sessions[0]!.ntpPort ?? 123
    }`,
  );
} else {
  const seconds = Number(a);
  const concurrency = Number(b);
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      try {
        await runNtsKeyExchange({ host, port: kePort, caFile, timeoutMs: 5000 });
        done++;
      } catch {
        failures++;
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  console.log(`HANDSHAKES count=${done} per_s=${(done / elapsed).toFixed(1)} failures=${failures}`);
}
