// Tests of the seqlock'd system snapshot shared between the daemon and responder threads.
import assert from "node:assert/strict";
import {
  createSnapshotBuffer,
  createSnapshotReader,
  type PublishedSnapshot,
  refreshSnapshot,
  writeSnapshot,
} from "../../src/io/snapshot_buffer.ts";
import type { SystemSnapshot } from "../../src/core/server/types.ts";

const unsynchronised: SystemSnapshot = {
  leap: 3,
  stratum: 16,
  precisionLog2: -20,
  referenceId: 0x494e4954,
  referenceTime: { seconds: 0, fraction: 0 },
  rootDelaySeconds: 0,
  rootDispersionSeconds: 0,
};

const synchronised: PublishedSnapshot = {
  leap: 0,
  stratum: 2,
  precisionLog2: -24,
  referenceId: 0xc0a80001,
  referenceTime: { seconds: 0xeeb527e0, fraction: 0xc3c1f000 },
  rootDelaySeconds: 0.0123,
  rootDispersionSeconds: 0.0456,
  clockOffsetSeconds: -0.25,
  clockFreqPpm: 12.5,
  clockEpochUnixSeconds: 1_795_860_000.5,
};

Deno.test("a reader keeps its initial snapshot until the first write", () => {
  const buffer = createSnapshotBuffer();
  const reader = createSnapshotReader(buffer, unsynchronised);
  assert.equal(refreshSnapshot(reader), false);
  assert.equal(reader.system, unsynchronised);
  assert.deepEqual(reader.correction, { offsetSeconds: 0, freqPpm: 0, epochUnixSeconds: 0 });
});

Deno.test("refreshSnapshot() returns every field written, then reports no change", () => {
  const buffer = createSnapshotBuffer();
  const reader = createSnapshotReader(buffer, unsynchronised);
  writeSnapshot(buffer, synchronised);
  assert.equal(refreshSnapshot(reader), true);
  assert.deepEqual(reader.system, {
    leap: 0,
    stratum: 2,
    precisionLog2: -24,
    referenceId: 0xc0a80001,
    referenceTime: { seconds: 0xeeb527e0, fraction: 0xc3c1f000 },
    rootDelaySeconds: 0.0123,
    rootDispersionSeconds: 0.0456,
  });
  assert.deepEqual(reader.correction, {
    offsetSeconds: -0.25,
    freqPpm: 12.5,
    epochUnixSeconds: 1_795_860_000.5,
  });
  const before = reader.system;
  assert.equal(refreshSnapshot(reader), false);
  assert.equal(reader.system, before, "an unchanged snapshot keeps its object identity");
});

Deno.test("a snapshot without a correction reads back as a zero correction", () => {
  const buffer = createSnapshotBuffer();
  writeSnapshot(buffer, synchronised);
  const { clockOffsetSeconds: _o, clockFreqPpm: _f, clockEpochUnixSeconds: _e, ...plain } =
    synchronised;
  writeSnapshot(buffer, plain);
  const reader = createSnapshotReader(buffer, unsynchronised);
  assert.equal(refreshSnapshot(reader), true);
  assert.deepEqual(reader.correction, { offsetSeconds: 0, freqPpm: 0, epochUnixSeconds: 0 });
});

Deno.test("a reader on another thread never sees a mix of two snapshots", async () => {
  const buffer = createSnapshotBuffer();
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL("./_snapshot_writer_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const writes = new Promise<number>((resolve) => {
    worker.onmessage = (event: MessageEvent<number>) => resolve(event.data);
  });
  worker.postMessage({ buffer, stop });
  const reader = createSnapshotReader(buffer, unsynchronised);
  let changes = 0;
  try {
    // The worker needs a moment to load; then read for 1 s while it writes.
    const startBy = performance.now() + 10_000;
    while (!refreshSnapshot(reader) && performance.now() < startBy);
    const deadline = performance.now() + 1000;
    while (performance.now() < deadline) {
      if (!refreshSnapshot(reader)) continue;
      changes++;
      const { system, correction } = reader;
      const k = system.stratum;
      const fields = [
        system.leap,
        system.precisionLog2,
        system.referenceId,
        system.referenceTime.seconds,
        system.referenceTime.fraction,
        system.rootDelaySeconds,
        system.rootDispersionSeconds,
        correction.offsetSeconds,
        correction.freqPpm,
        correction.epochUnixSeconds,
      ];
      assert.ok(k === 1 || k === 2, `stratum ${k}`);
      assert.deepEqual(fields, new Array(fields.length).fill(k), "torn snapshot");
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await writes;
    worker.terminate();
  }
  assert.ok(changes > 20, `only ${changes} snapshots observed`);
});

Deno.test("the leap smear travels with the snapshot and is withdrawn by a snapshot without one", () => {
  const buffer = createSnapshotBuffer();
  const reader = createSnapshotReader(buffer, unsynchronised);
  assert.equal(reader.smear, null);
  const smear = {
    startUnixSeconds: 1_814_392_800,
    leapUnixSeconds: 1_814_400_000,
    stepSeconds: 1,
    executing: true,
  } as const;
  writeSnapshot(buffer, { ...synchronised, smear });
  refreshSnapshot(reader);
  assert.deepEqual(reader.smear, smear);
  writeSnapshot(buffer, synchronised);
  refreshSnapshot(reader);
  assert.equal(reader.smear, null);
});
