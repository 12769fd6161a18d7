// The per-client table: a token bucket and the monitor counts (ntpq's mrulist) per address, in a bounded, allocation-free LRU hash table.
import type { ClientAddress, RateLimitPolicy } from "./types.ts";

/**
 * Defaults that never limit a polite client yet stop a flood:
 * - a client may send 16 packets back to back (an iburst of 8 plus check_ntp_time's 4 plus a
 *   3-request monitor all fit);
 * - credit refills at one packet per 2^3 = 8 s (ntpd's `discard average 3`), so anything
 *   polling every 8 s or slower is never limited;
 * - once limited, packets closer than 2 s (ntpd's `discard minimum 2`) to the previous one are
 *   charged anyway, so a flood stays silenced instead of earning one answer every 8 s;
 * - 65536 clients remembered (about 6 MB per responder worker: {@link rateTableByteLength}).
 */
export const defaultRateLimitPolicy: RateLimitPolicy = Object.freeze({
  averageLog2: 3,
  minimumSeconds: 2,
  burstPackets: 16,
  tableEntries: 65536,
});

/** The decision for one packet; numbers so the hot path allocates nothing. */
export const RateDecision = {
  /** Within the client's credit: answer normally. */
  allow: 0,
  /** Limited, and no KoD was sent to this client in the last 2^averageLog2 s: a KoD may be sent. */
  kissOfDeath: 1,
  /** Limited: send nothing. */
  drop: 2,
} as const;

/** One of the {@link RateDecision} values. */
export type RateDecisionValue = (typeof RateDecision)[keyof typeof RateDecision];

/**
 * Per-client state of one responder worker: an open-addressing hash table (linear probing,
 * backward-shift deletion) over typed arrays plus a doubly linked LRU list. Besides the rate
 * limit's token bucket it keeps what ntpd's monitor keeps for `ntpq -c mrulist`: port, first and
 * last packet, packet and drop counts, mode and version, restrict flags. Memory is fixed at
 * creation, one buffer of {@link rateTableByteLength} bytes ({@link RATE_TABLE_BYTES_PER_ENTRY}
 * per entry plus 8 to 16 bytes of hash slots per entry); with a SharedArrayBuffer another thread can read
 * the recent clients ({@link openRateTable}) while the responder writes. Treat the fields as
 * private; use the functions of this module.
 */
export interface RateTable {
  readonly policy: RateLimitPolicy;
  /** Seconds for one packet of credit to refill (2^averageLog2). */
  readonly refillSeconds: number;
  readonly hashSeed: number;
  /** The buffer every array below is a view of. */
  readonly memory: ArrayBuffer | SharedArrayBuffer;
  /** Hash slots -> entry index, -1 when empty; length is a power of two >= 2 * entries. */
  readonly slots: Int32Array;
  /** Address of each entry as four big-endian words (IPv4 as ::ffff:a.b.c.d). */
  readonly keys: Uint32Array;
  readonly hashes: Int32Array;
  /** Packets of credit, in [-burstPackets, burstPackets]. */
  readonly tokens: Float64Array;
  /** monotonicSeconds of the entry's last packet (the rate limit's clock). */
  readonly lastSeenSeconds: Float64Array;
  /** monotonicSeconds of the last KoD allowed to this entry (-Infinity if none). */
  readonly lastKodSeconds: Float64Array;
  /** monotonicSeconds of the entry's first packet. */
  readonly firstSeenSeconds: Float64Array;
  /** Packets recorded with {@link noteRequest}. */
  readonly packets: Float64Array;
  /** Of those, packets answered with nothing or with a Kiss-o'-Death. */
  readonly droppedPackets: Float64Array;
  /** UDP source port of the last packet. */
  readonly ports: Uint16Array;
  /** Version and mode of the last packet (first header byte & 0x3f). */
  readonly versionModes: Uint8Array;
  /** The restrict flags (RestrictBit mask) that applied to the last packet. */
  readonly restrictBits: Int32Array;
  /** LRU links: previous (more recent) and next (less recent) entry, -1 at the ends. */
  readonly newer: Int32Array;
  readonly older: Int32Array;
  /** [0] entries in use, [1] most recent entry, [2] least recent entry (-1 when empty). */
  readonly state: Int32Array;
  /**
   * How {@link findClient} found each client's entry: [0] it existed, [1] a free one was taken,
   * [2] the least recently seen client was forgotten for it (the table was full).
   */
  readonly allocations: Float64Array;
}

/**
 * Bytes per table entry excluding hash slots: key 16, hash 4, tokens 8, last seen 8,
 * last KoD 8, first seen 8, packets 8, drops 8, restrict 4, LRU links 8, port 2, version/mode 1.
 */
export const RATE_TABLE_BYTES_PER_ENTRY = 83;

function slotCountFor(entries: number): number {
  let slotCount = 8;
  while (slotCount < entries * 2) slotCount *= 2;
  return slotCount;
}

/** Where each array lives in the table's buffer (8-byte arrays first, so all are aligned). */
function layoutOf(entries: number): { readonly bytes: number; readonly offsets: number[] } {
  const slotCount = slotCountFor(entries);
  // Element sizes and counts in order: 6 Float64 arrays, then Int32/Uint32, Uint16, Uint8.
  const arrays: [bytesPerElement: number, count: number][] = [
    [8, entries], // tokens
    [8, entries], // lastSeenSeconds
    [8, entries], // lastKodSeconds
    [8, entries], // firstSeenSeconds
    [8, entries], // packets
    [8, entries], // droppedPackets
    [8, 3], // allocations
    [4, slotCount], // slots
    [4, entries * 4], // keys
    [4, entries], // hashes
    [4, entries], // restrictBits
    [4, entries], // newer
    [4, entries], // older
    [4, 3], // state
    [2, entries], // ports
    [1, entries], // versionModes
  ];
  const offsets: number[] = [];
  let cursor = 0;
  for (const [size, count] of arrays) {
    offsets.push(cursor);
    cursor += size * count;
  }
  return { bytes: Math.ceil(cursor / 8) * 8, offsets };
}

/**
 * Bytes of the buffer a table for `policy` needs (for a SharedArrayBuffer handed to
 * {@link createRateTable} and {@link openRateTable}).
 *
 * @example
 * ```ts
 * const buffer = new SharedArrayBuffer(rateTableByteLength(defaultRateLimitPolicy));
 * ```
 */
export function rateTableByteLength(policy: RateLimitPolicy): number {
  return layoutOf(policy.tableEntries).bytes;
}

const USED = 0;
const HEAD = 1;
const TAIL = 2;

function checkPolicy(policy: RateLimitPolicy): void {
  const problems: string[] = [];
  if (!Number.isInteger(policy.averageLog2) || policy.averageLog2 < -6 || policy.averageLog2 > 17) {
    problems.push(`averageLog2 ${policy.averageLog2} is not an integer in -6..17`);
  }
  if (!(policy.minimumSeconds >= 0)) problems.push(`minimumSeconds ${policy.minimumSeconds} < 0`);
  if (!(policy.burstPackets >= 1)) problems.push(`burstPackets ${policy.burstPackets} < 1`);
  if (
    !Number.isInteger(policy.tableEntries) || policy.tableEntries < 1 ||
    policy.tableEntries > 1 << 24
  ) {
    problems.push(`tableEntries ${policy.tableEntries} is not an integer in 1..16777216`);
  }
  if (problems.length > 0) {
    throw new RangeError(`Invalid rate limit policy: ${problems.join("; ")}`);
  }
}

/**
 * Creates an empty table for `policy`. Pass a random `hashSeed` (from the I/O layer) so that
 * remote hosts cannot choose addresses that collide in the hash; the default is fixed. Pass a
 * zero-filled `buffer` of {@link rateTableByteLength} bytes (a SharedArrayBuffer) to let
 * another thread read the table with {@link openRateTable}; by default one is allocated.
 *
 * Token-bucket semantics, per client address (IPv4, or the full IPv6 address):
 * - a new client starts with `burstPackets` of credit; each answered packet costs 1;
 * - credit refills continuously at one packet per 2^averageLog2 s, up to `burstPackets`;
 * - a packet arriving with less than 1 credit is limited. If it came less than
 *   `minimumSeconds` after the client's previous packet it is also charged (credit may go
 *   down to -burstPackets), so a client that keeps hammering stays limited until it slows
 *   down; a limited client that spaces its packets by at least `minimumSeconds` is simply held
 *   to the average rate;
 * - of the limited packets, at most one per 2^averageLog2 s per client is marked for a KoD.
 * When the table is full the least recently seen client is forgotten (it starts afresh with
 * full credit if it comes back). With several workers each has its own table; the I/O layer
 * steers each source address to one worker, so one client meets one table.
 *
 * @throws {RangeError} If the policy is out of range, or `buffer` has the wrong size.
 * @example
 * ```ts
 * const table = createRateTable(defaultRateLimitPolicy, { hashSeed: 0x5eed });
 * ```
 */
export function createRateTable(
  policy: RateLimitPolicy,
  options: { readonly hashSeed?: number; readonly buffer?: SharedArrayBuffer } = {},
): RateTable {
  checkPolicy(policy);
  const table = viewTable(policy, {
    hashSeed: options.hashSeed ?? 0x9e3779b9,
    memory: options.buffer ?? new ArrayBuffer(rateTableByteLength(policy)),
  });
  table.slots.fill(-1);
  table.allocations.fill(0);
  table.state[USED] = 0;
  table.state[HEAD] = -1;
  table.state[TAIL] = -1;
  return table;
}

/**
 * A read-only view of a table another thread created with {@link createRateTable} in `buffer`,
 * for {@link recentClients}. Reads race with the writer: a view may see an entry half updated,
 * which monitoring output tolerates; {@link recentClients} never follows a link out of range.
 *
 * @throws {RangeError} If the policy is out of range or `buffer` has the wrong size.
 * @example
 * ```ts
 * const policy = defaultRateLimitPolicy;
 * const buffer = new SharedArrayBuffer(rateTableByteLength(policy));
 * createRateTable(policy, { buffer }); // in the responder that owns the table
 * const view = openRateTable(policy, buffer); // elsewhere, e.g. in the daemon
 * ```
 */
export function openRateTable(policy: RateLimitPolicy, buffer: SharedArrayBuffer): RateTable {
  checkPolicy(policy);
  return viewTable(policy, { hashSeed: 0, memory: buffer });
}

/**
 * The same table (same memory, clients and hash seed) under a new policy: the rate limits of a
 * reloaded config apply from the next packet on, and every client keeps its history. Credit above
 * the new burst is cut to it at the client's next packet.
 *
 * @throws {RangeError} If the policy is out of range or has another `tableEntries` (the table's
 * size is fixed while it runs).
 * @example
 * ```ts
 * const table = createRateTable(defaultRateLimitPolicy);
 * const stricter = retuneRateTable(table, { ...defaultRateLimitPolicy, burstPackets: 4 });
 * stricter.memory === table.memory; // true
 * ```
 */
export function retuneRateTable(table: RateTable, policy: RateLimitPolicy): RateTable {
  checkPolicy(policy);
  if (policy.tableEntries !== table.policy.tableEntries) {
    throw new RangeError(
      `the table has ${table.policy.tableEntries} entries; a retuned policy cannot change that ` +
        `(${policy.tableEntries})`,
    );
  }
  return viewTable(policy, { hashSeed: table.hashSeed, memory: table.memory });
}

function viewTable(
  policy: RateLimitPolicy,
  options: { readonly hashSeed: number; readonly memory: ArrayBuffer | SharedArrayBuffer },
): RateTable {
  const entries = policy.tableEntries;
  const { bytes, offsets } = layoutOf(entries);
  const memory = options.memory;
  if (memory.byteLength !== bytes) {
    throw new RangeError(`rate table buffer has ${memory.byteLength} bytes, needs ${bytes}`);
  }
  const at = (index: number): number => offsets[index] as number;
  const slotCount = slotCountFor(entries);
  return {
    policy,
    refillSeconds: Math.pow(2, policy.averageLog2),
    hashSeed: options.hashSeed | 0,
    memory,
    tokens: new Float64Array(memory, at(0), entries),
    lastSeenSeconds: new Float64Array(memory, at(1), entries),
    lastKodSeconds: new Float64Array(memory, at(2), entries),
    firstSeenSeconds: new Float64Array(memory, at(3), entries),
    packets: new Float64Array(memory, at(4), entries),
    droppedPackets: new Float64Array(memory, at(5), entries),
    allocations: new Float64Array(memory, at(6), 3),
    slots: new Int32Array(memory, at(7), slotCount),
    keys: new Uint32Array(memory, at(8), entries * 4),
    hashes: new Int32Array(memory, at(9), entries),
    restrictBits: new Int32Array(memory, at(10), entries),
    newer: new Int32Array(memory, at(11), entries),
    older: new Int32Array(memory, at(12), entries),
    state: new Int32Array(memory, at(13), 3),
    ports: new Uint16Array(memory, at(14), entries),
    versionModes: new Uint8Array(memory, at(15), entries),
  };
}

/**
 * The most recently seen entry, or -1 when the table is empty; follow `table.older` from it to
 * walk the clients newest first.
 *
 * @example
 * ```ts
 * const table = createRateTable(defaultRateLimitPolicy);
 * newestEntry(table); // -1 for a new table
 * ```
 */
export function newestEntry(table: RateTable): number {
  return table.state[HEAD] as number;
}

/**
 * The least recently seen entry (the next to be forgotten when the table is full), or -1 when
 * the table is empty.
 *
 * @example
 * ```ts
 * const table = createRateTable(defaultRateLimitPolicy);
 * oldestEntry(table); // -1 for a new table
 * ```
 */
export function oldestEntry(table: RateTable): number {
  return table.state[TAIL] as number;
}

/**
 * Number of clients currently remembered.
 *
 * @example
 * ```ts
 * const table = createRateTable(defaultRateLimitPolicy);
 * rateTableSize(table); // 0 for a new table
 * ```
 */
export function rateTableSize(table: RateTable): number {
  return table.state[USED] as number;
}

function wordAt(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] ?? 0) << 24) | ((bytes[offset + 1] ?? 0) << 16) |
    ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0)) >>> 0;
}

function mix(hash: number, word: number): number {
  let h = Math.imul(hash ^ word, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return Math.imul(h, 0x1b873593) ^ (h >>> 13);
}

function finalise(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function unlink(table: RateTable, entry: number): void {
  const newer = table.newer[entry] as number;
  const older = table.older[entry] as number;
  if (newer === -1) table.state[HEAD] = older;
  else table.older[newer] = older;
  if (older === -1) table.state[TAIL] = newer;
  else table.newer[older] = newer;
}

function linkAsNewest(table: RateTable, entry: number): void {
  const head = table.state[HEAD] as number;
  table.newer[entry] = -1;
  table.older[entry] = head;
  if (head === -1) table.state[TAIL] = entry;
  else table.newer[head] = entry;
  table.state[HEAD] = entry;
}

/** Removes `entry` from the hash slots (backward-shift deletion keeps probe chains intact). */
function removeFromSlots(table: RateTable, entry: number): void {
  const slots = table.slots;
  const slotMask = slots.length - 1;
  let hole = (table.hashes[entry] as number) & slotMask;
  while (slots[hole] !== entry) hole = (hole + 1) & slotMask;
  slots[hole] = -1;
  let probe = hole;
  for (;;) {
    probe = (probe + 1) & slotMask;
    const moved = slots[probe] as number;
    if (moved === -1) return;
    const home = (table.hashes[moved] as number) & slotMask;
    // Move `moved` into the hole unless its home lies cyclically in (hole, probe].
    const homeInRange = hole <= probe ? home > hole && home <= probe : home > hole || home <= probe;
    if (!homeInRange) {
      slots[hole] = moved;
      slots[probe] = -1;
      hole = probe;
    }
  }
}

/**
 * Finds the entry of `client`, or makes one (forgetting the least recently seen client when the
 * table is full), and makes it the most recent. A new entry has full credit and first and last
 * seen at `monotonicSeconds`. Returns the entry index for {@link chargeClient} and
 * {@link noteRequest}. Allocates nothing.
 *
 * @example
 * ```ts
 * const table = createRateTable(defaultRateLimitPolicy);
 * const client = { family: 4, bytes: new Uint8Array([192, 0, 2, 1]), port: 123 } as const;
 * const nowSeconds = performance.now() / 1000;
 * const entry = findClient(table, client, nowSeconds);
 * ```
 */
export function findClient(
  table: RateTable,
  client: ClientAddress,
  monotonicSeconds: number,
): number {
  const bytes = client.bytes;
  let w0: number;
  let w1: number;
  let w2: number;
  let w3: number;
  if (client.family === 4) {
    w0 = 0;
    w1 = 0;
    w2 = 0xffff;
    w3 = wordAt(bytes, 0);
  } else {
    w0 = wordAt(bytes, 0);
    w1 = wordAt(bytes, 4);
    w2 = wordAt(bytes, 8);
    w3 = wordAt(bytes, 12);
  }
  const hash = finalise(mix(mix(mix(mix(table.hashSeed, w0), w1), w2), w3));
  const slots = table.slots;
  const keys = table.keys;
  const slotMask = slots.length - 1;
  let slot = hash & slotMask;
  let entry = slots[slot] as number;
  while (entry !== -1) {
    const k = entry * 4;
    if (keys[k + 3] === w3 && keys[k + 2] === w2 && keys[k + 1] === w1 && keys[k] === w0) break;
    slot = (slot + 1) & slotMask;
    entry = slots[slot] as number;
  }
  const allocations = table.allocations;
  if (entry !== -1) {
    allocations[0]!++;
    if (table.state[HEAD] !== entry) {
      unlink(table, entry);
      linkAsNewest(table, entry);
    }
    return entry;
  }
  const used = table.state[USED] as number;
  if (used < table.policy.tableEntries) {
    allocations[1]!++;
    entry = used;
    table.state[USED] = used + 1;
  } else {
    allocations[2]!++;
    entry = table.state[TAIL] as number;
    unlink(table, entry);
    removeFromSlots(table, entry);
    // The removal may have shifted the chain: find a free slot again.
    slot = hash & slotMask;
    while (slots[slot] !== -1) slot = (slot + 1) & slotMask;
  }
  slots[slot] = entry;
  const k = entry * 4;
  keys[k] = w0;
  keys[k + 1] = w1;
  keys[k + 2] = w2;
  keys[k + 3] = w3;
  table.hashes[entry] = hash;
  table.tokens[entry] = table.policy.burstPackets;
  table.lastSeenSeconds[entry] = monotonicSeconds;
  table.lastKodSeconds[entry] = -Infinity;
  table.firstSeenSeconds[entry] = monotonicSeconds;
  table.packets[entry] = 0;
  table.droppedPackets[entry] = 0;
  linkAsNewest(table, entry);
  return entry;
}

/**
 * Charges one packet at `monotonicSeconds` to the token bucket of `entry` (from
 * {@link findClient}) and decides whether it may be answered (see {@link createRateTable} for
 * the rules). It reads the time of the client's previous packet and leaves it: recording this
 * packet is {@link noteRequest}'s job, which must follow for every packet charged. Allocates
 * nothing.
 *
 * @example
 * ```ts
 * import type { RateTable } from "./rate_limit.ts";
 * import type { ClientAddress } from "./types.ts";
 * declare const table: RateTable;
 * declare const client: ClientAddress;
 * declare const now: number; // monotonic seconds
 * declare const firstByte: number; // the request's LI/VN/mode byte
 * declare const bits: number; // its restrict flags
 * const entry = findClient(table, client, now);
 * const decision = chargeClient(table, entry, now);
 * noteRequest(table, entry, now, client.port, firstByte, bits, decision !== RateDecision.allow);
 * ```
 */
export function chargeClient(
  table: RateTable,
  entry: number,
  monotonicSeconds: number,
): RateDecisionValue {
  const policy = table.policy;
  const elapsedSeconds = monotonicSeconds - (table.lastSeenSeconds[entry] as number);
  let tokens = table.tokens[entry] as number;
  if (elapsedSeconds > 0) {
    tokens += elapsedSeconds / table.refillSeconds;
    if (tokens > policy.burstPackets) tokens = policy.burstPackets;
  }
  if (tokens >= 1) {
    table.tokens[entry] = tokens - 1;
    return RateDecision.allow;
  }
  if (elapsedSeconds < policy.minimumSeconds) {
    tokens -= 1;
    if (tokens < -policy.burstPackets) tokens = -policy.burstPackets;
  }
  table.tokens[entry] = tokens;
  if (monotonicSeconds - (table.lastKodSeconds[entry] as number) >= table.refillSeconds) {
    table.lastKodSeconds[entry] = monotonicSeconds;
    return RateDecision.kissOfDeath;
  }
  return RateDecision.drop;
}

/**
 * Records one request of `entry` for the monitor (`ntpq -c mrulist`): its time, source port,
 * first header byte (version and mode), the restrict flags that applied, and whether it went
 * unanswered (`dropped`: nothing or a Kiss-o'-Death was sent). Call after
 * {@link chargeClient}, which needs the previous packet's time. Positional arguments, because
 * it runs for every request and must allocate nothing.
 *
 * @example
 * ```ts
 * import type { RateTable } from "./rate_limit.ts";
 * declare const table: RateTable;
 * declare const entry: number; // from findClient
 * declare const now: number;
 * noteRequest(table, entry, now, 123, 0x23, 0, false); // an NTPv4 client request, answered
 * ```
 */
export function noteRequest(
  table: RateTable,
  entry: number,
  monotonicSeconds: number,
  port: number,
  firstByte: number,
  restrictBits: number,
  dropped: boolean,
): void {
  table.lastSeenSeconds[entry] = monotonicSeconds;
  table.packets[entry] = (table.packets[entry] as number) + 1;
  if (dropped) table.droppedPackets[entry] = (table.droppedPackets[entry] as number) + 1;
  table.ports[entry] = port;
  table.versionModes[entry] = firstByte & 0x3f;
  table.restrictBits[entry] = restrictBits;
}
