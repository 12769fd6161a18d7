// The responders' access policy (restrict rules and rate limits) in shared memory: the daemon replaces it on a config reload, responder threads pick it up at their next batch.
//
// Layout: Int32 word 0 is the sequence counter (odd while a write is in progress, 0 = never
// written), word 1 the length in bytes of the JSON text that follows from byte 8. Every word is
// written and read through Atomics (sequentially consistent, so a reader on aarch64 cannot see
// text stored after the closing sequence number). Readers compare one word per batch and decode
// only when it changed; a read that overlapped a write is retried at the next batch.
import type { RestrictRule, ServerPolicy } from "../core/server/types.ts";

/** A restrict rule as JSON carries it (byte arrays as number arrays). */
interface RuleText {
  readonly family: 4 | 6;
  readonly network: readonly number[];
  readonly mask: readonly number[];
  readonly flags: RestrictRule["flags"];
}

const headerBytes = 8;
/** Room for the JSON text: ~10 000 restrict rules. */
const policyBufferBytes = 1 << 20;

/** Creates the shared buffer (sequence 0: nothing published yet; readers keep their start policy). */
export function createPolicyBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(policyBufferBytes);
}

/**
 * Publishes `policy` (single writer: the daemon's main thread).
 *
 * @throws {RangeError} If the policy does not fit the buffer (more than ~10 000 restrict rules).
 * @example
 * ```ts
 * import { defaultRateLimitPolicy } from "../core/server/rate_limit.ts";
 * const buffer = createPolicyBuffer();
 * writePolicy(buffer, { restrict: [], rateLimit: defaultRateLimitPolicy });
 * ```
 */
export function writePolicy(buffer: SharedArrayBuffer, policy: ServerPolicy): void {
  const rules: RuleText[] = policy.restrict.map((rule) => ({
    family: rule.family,
    network: [...rule.network],
    mask: [...rule.mask],
    flags: rule.flags,
  }));
  const text = new TextEncoder().encode(
    JSON.stringify({ restrict: rules, rateLimit: policy.rateLimit }),
  );
  if (text.length > buffer.byteLength - headerBytes) {
    throw new RangeError(
      `the restrict rules and rate limits take ${text.length} bytes; at most ${
        buffer.byteLength - headerBytes
      } fit the responders' shared buffer`,
    );
  }
  const words = new Int32Array(buffer);
  const padded = new Uint8Array(Math.ceil(text.length / 4) * 4);
  padded.set(text);
  const textWords = new Int32Array(padded.buffer);
  Atomics.add(words, 0, 1);
  for (let i = 0; i < textWords.length; i++) Atomics.store(words, 2 + i, textWords[i]!);
  Atomics.store(words, 1, text.length);
  Atomics.add(words, 0, 1);
}

/** A responder thread's view of the policy buffer. */
export interface PolicyReader {
  readonly words: Int32Array;
  /** The sequence of the policy last taken (0: the start policy). */
  seen: number;
}

/** A reader that starts from the policy the thread was started with. */
export function createPolicyReader(buffer: SharedArrayBuffer): PolicyReader {
  return { words: new Int32Array(buffer), seen: 0 };
}

/**
 * The policy published since the reader last took one, or null (nothing new, or a write in
 * progress: the next call sees it). One atomic load when nothing changed.
 *
 * @example
 * ```ts
 * import { defaultRateLimitPolicy } from "../core/server/rate_limit.ts";
 * const buffer = createPolicyBuffer();
 * const reader = createPolicyReader(buffer);
 * writePolicy(buffer, { restrict: [], rateLimit: defaultRateLimitPolicy });
 * readNewPolicy(reader)?.rateLimit.burstPackets; // 16
 * readNewPolicy(reader); // null
 * ```
 */
export function readNewPolicy(reader: PolicyReader): ServerPolicy | null {
  const sequence = Atomics.load(reader.words, 0);
  if (sequence === reader.seen || (sequence & 1) === 1) return null;
  const length = Atomics.load(reader.words, 1);
  if (length < 0 || length > reader.words.byteLength - headerBytes) return null;
  const copy = new Int32Array(Math.ceil(length / 4));
  for (let i = 0; i < copy.length; i++) copy[i] = Atomics.load(reader.words, 2 + i);
  if (Atomics.load(reader.words, 0) !== sequence) return null;
  let parsed: {
    readonly restrict: readonly RuleText[];
    readonly rateLimit: ServerPolicy["rateLimit"];
  };
  try {
    parsed = JSON.parse(new TextDecoder().decode(new Uint8Array(copy.buffer, 0, length)));
  } catch {
    return null; // cannot happen for a complete write; tried again at the next batch
  }
  reader.seen = sequence;
  return {
    restrict: parsed.restrict.map((rule) => ({
      family: rule.family,
      network: Uint8Array.from(rule.network),
      mask: Uint8Array.from(rule.mask),
      flags: rule.flags,
    })),
    rateLimit: parsed.rateLimit,
  };
}
