// A program using the library as a user would, run with only --allow-net: queries each server given, then keeps a TrueClock over all of them with a local clock 90 s behind; prints one JSON object.
//   deno run --allow-net tests/lib/_library_probe.ts SERVER...
import { query, totpAt, TrueClock, UnsynchronisedServerError } from "../../mod.ts";

const servers = Deno.args;
const queries = [];
for (const server of servers) {
  // A server that has not synchronised yet is asked again (for up to 30 s).
  for (let attempt = 0;; attempt++) {
    try {
      const answer = await query(server);
      queries.push({
        server,
        ok: true,
        offsetSeconds: answer.offsetSeconds,
        delaySeconds: answer.delaySeconds,
        stratum: answer.stratum,
      });
    } catch (error) {
      if (error instanceof UnsynchronisedServerError && attempt < 30) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      queries.push({ server, ok: false, error: String(error) });
    }
    break;
  }
}
await using clock = await TrueClock.start({
  servers,
  minPollLog2: 4,
  maxPollLog2: 4,
  localClock: () => Date.now() - 90_000,
});
await clock.synchronisation(AbortSignal.timeout(40_000));
const state = clock.state();
const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
// Both codes within one 30 s step (not astride a boundary).
let trueMs = clock.nowMilliseconds();
let systemMs = Date.now();
while (Math.floor(trueMs / 30_000) !== Math.floor(systemMs / 30_000)) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  trueMs = clock.nowMilliseconds();
  systemMs = Date.now();
}
console.log(JSON.stringify({
  queries,
  trueClock: {
    offsetSeconds: state.offsetSeconds,
    errorBoundSeconds: state.errorBoundSeconds,
    servers: state.servers.map((s) => ({ port: s.port, reach: s.reach, tally: s.tally })),
    trueMinusSystemMs: trueMs - systemMs,
    code: await totpAt(secret, trueMs),
    systemCode: await totpAt(secret, systemMs),
    localCode: await totpAt(secret, systemMs - 90_000),
  },
}));
