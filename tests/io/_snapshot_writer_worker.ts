// Test worker: publishes two alternating snapshots into a shared buffer a few microseconds apart, until told to stop.
/// <reference lib="deno.worker" />
import { writeSnapshot } from "../../src/io/snapshot_buffer.ts";

self.onmessage = (event: MessageEvent<{ buffer: SharedArrayBuffer; stop: SharedArrayBuffer }>) => {
  const { buffer, stop } = event.data;
  const flag = new Int32Array(stop);
  let writes = 0;
  while (Atomics.load(flag, 0) === 0) {
    // Every field of snapshot k equals k (k = 1 or 2), so a mixed read is easy to spot.
    const k = (writes & 1) + 1;
    writeSnapshot(buffer, {
      leap: k as 1 | 2,
      stratum: k,
      precisionLog2: k,
      referenceId: k,
      referenceTime: { seconds: k, fraction: k },
      rootDelaySeconds: k,
      rootDispersionSeconds: k,
      clockOffsetSeconds: k,
      clockFreqPpm: k,
      clockEpochUnixSeconds: k,
    });
    writes++;
    // Leave the reader a few microseconds between writes (the daemon writes a few times a second).
    const until = performance.now() + 0.003;
    while (performance.now() < until);
  }
  self.postMessage(writes);
};
