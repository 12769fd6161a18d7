// The system snapshot in shared memory: the daemon writes it under a seqlock, responder threads read it.
//
// Layout: Int32 word 0 is the sequence counter (odd while a write is in progress); then one
// float64 per field, each stored as two Int32 words through Atomics so that every access is
// sequentially consistent (a plain Float64Array read may be reordered past the closing sequence
// load on aarch64). Readers retry while the sequence is odd or changed during the read.
import type { SystemSnapshot } from "../core/server/types.ts";
import type { LeapSmear } from "../core/leap/leap_smear.ts";

/** A snapshot as published to responders, with the soft clock's correction of every timestamp. */
export interface PublishedSnapshot extends SystemSnapshot {
  /**
   * Seconds added to every kernel clock reading (receive and transmit timestamps) at
   * `clockEpochUnixSeconds`. Positive means the kernel clock is behind true time. Default 0.
   */
  readonly clockOffsetSeconds?: number;
  /**
   * Rate of the correction, ppm: the added seconds grow by clockFreqPpm·1e-6 per second of
   * kernel time after `clockEpochUnixSeconds`. Positive means the kernel clock runs slow. Default 0.
   */
  readonly clockFreqPpm?: number;
  /** Kernel (uncorrected) Unix time at which `clockOffsetSeconds` applies. Default 0. */
  readonly clockEpochUnixSeconds?: number;
  /** The leap smear in force for smearing listeners (core/leap/leap_smear.ts); default none. */
  readonly smear?: LeapSmear | null;
}

/** The soft clock correction as read by a responder thread. */
export interface ClockCorrection {
  readonly offsetSeconds: number;
  readonly freqPpm: number;
  readonly epochUnixSeconds: number;
}

const fieldCount = 15;
const headerWords = 2; // sequence + padding, so that the fields start 8-byte aligned
const totalWords = headerWords + fieldCount * 2;

/** Creates the shared buffer (all zero: sequence 0 means "never written"). */
export function createSnapshotBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(totalWords * 4);
}

const scratchFloat = new Float64Array(1);
const scratchWords = new Int32Array(scratchFloat.buffer);

function storeFloat(words: Int32Array, field: number, value: number): void {
  scratchFloat[0] = value;
  Atomics.store(words, headerWords + field * 2, scratchWords[0]!);
  Atomics.store(words, headerWords + field * 2 + 1, scratchWords[1]!);
}

function loadFloat(words: Int32Array, field: number): number {
  scratchWords[0] = Atomics.load(words, headerWords + field * 2);
  scratchWords[1] = Atomics.load(words, headerWords + field * 2 + 1);
  return scratchFloat[0]!;
}

/**
 * Publishes a snapshot (single writer: the daemon's main thread). Responders see it at their
 * next batch.
 *
 * @example
 * ```ts
 * const buffer = createSnapshotBuffer();
 * writeSnapshot(buffer, { leap: 3, stratum: 16, precisionLog2: -23, referenceId: 0x494e4954,
 *   referenceTime: { seconds: 0, fraction: 0 }, rootDelaySeconds: 0, rootDispersionSeconds: 0 });
 * ```
 */
export function writeSnapshot(buffer: SharedArrayBuffer, snapshot: PublishedSnapshot): void {
  const words = new Int32Array(buffer);
  Atomics.add(words, 0, 1);
  storeFloat(words, 0, snapshot.leap);
  storeFloat(words, 1, snapshot.stratum);
  storeFloat(words, 2, snapshot.precisionLog2);
  storeFloat(words, 3, snapshot.referenceId);
  storeFloat(words, 4, snapshot.referenceTime.seconds);
  storeFloat(words, 5, snapshot.referenceTime.fraction);
  storeFloat(words, 6, snapshot.rootDelaySeconds);
  storeFloat(words, 7, snapshot.rootDispersionSeconds);
  storeFloat(words, 8, snapshot.clockOffsetSeconds ?? 0);
  storeFloat(words, 9, snapshot.clockFreqPpm ?? 0);
  storeFloat(words, 10, snapshot.clockEpochUnixSeconds ?? 0);
  const smear = snapshot.smear ?? null;
  storeFloat(words, 11, smear?.startUnixSeconds ?? 0);
  storeFloat(words, 12, smear?.leapUnixSeconds ?? 0);
  storeFloat(words, 13, smear?.stepSeconds ?? 0);
  storeFloat(words, 14, smear?.executing ? 1 : 0);
  Atomics.add(words, 0, 1);
}

/** A responder thread's view of the snapshot buffer and the last consistent copy it read. */
export interface SnapshotReader {
  readonly words: Int32Array;
  /** Sequence number of the copy below; 0 before the first successful read. */
  sequence: number;
  system: SystemSnapshot;
  correction: ClockCorrection;
  /** The leap smear in force, or null. */
  smear: LeapSmear | null;
}

/** Creates a reader that starts from `initial` until the daemon's first write is seen. */
export function createSnapshotReader(
  buffer: SharedArrayBuffer,
  initial: SystemSnapshot,
): SnapshotReader {
  return {
    words: new Int32Array(buffer),
    sequence: 0,
    system: initial,
    correction: { offsetSeconds: 0, freqPpm: 0, epochUnixSeconds: 0 },
    smear: null,
  };
}

/**
 * Brings the reader up to date; returns true when a new snapshot was taken. Costs one atomic
 * load when nothing changed. Retries (spinning) while a write is in progress; the writer holds
 * the lock for well under a microsecond.
 */
export function refreshSnapshot(reader: SnapshotReader): boolean {
  const words = reader.words;
  for (;;) {
    const before = Atomics.load(words, 0);
    if (before === reader.sequence) return false;
    if ((before & 1) === 1) continue;
    const leap = loadFloat(words, 0);
    const stratum = loadFloat(words, 1);
    const precisionLog2 = loadFloat(words, 2);
    const referenceId = loadFloat(words, 3);
    const referenceSeconds = loadFloat(words, 4);
    const referenceFraction = loadFloat(words, 5);
    const rootDelaySeconds = loadFloat(words, 6);
    const rootDispersionSeconds = loadFloat(words, 7);
    const offsetSeconds = loadFloat(words, 8);
    const freqPpm = loadFloat(words, 9);
    const epochUnixSeconds = loadFloat(words, 10);
    const smearStart = loadFloat(words, 11);
    const smearLeap = loadFloat(words, 12);
    const smearStep = loadFloat(words, 13);
    const smearExecuting = loadFloat(words, 14);
    if (Atomics.load(words, 0) !== before) continue;
    reader.sequence = before;
    reader.system = {
      leap: leap as SystemSnapshot["leap"],
      stratum,
      precisionLog2,
      referenceId,
      referenceTime: { seconds: referenceSeconds, fraction: referenceFraction },
      rootDelaySeconds,
      rootDispersionSeconds,
    };
    reader.correction = { offsetSeconds, freqPpm, epochUnixSeconds };
    reader.smear = smearStep === 0 ? null : {
      startUnixSeconds: smearStart,
      leapUnixSeconds: smearLeap,
      stepSeconds: smearStep < 0 ? -1 : 1,
      executing: smearExecuting === 1,
    };
    return true;
  }
}
