// ntpq's mrulist exchange: nonces bound to the client's address (REQ_NONCE, op 12) and the READ_MRU (op 10) answer, paged as ntpd's read_mru_list does.
import { md5 } from "../packet/md5.ts";
import type { ClientAddress, RestrictFlag } from "../server/types.ts";
import { ntpDiffSeconds, type NtpTimestamp, timestampsEqual } from "../time/ntp_timestamp.ts";
import {
  CONTROL_MAX_DATA_LENGTH,
  ControlErrorCode,
  type ControlErrorCodeValue,
} from "./control_message.ts";
import type { MruEntry } from "./control_view.ts";
import { formatTimestampHex, hex8 } from "./variable_format.ts";
import type { VariableItem } from "./variable_list.ts";

/** A nonce stays valid this long (ntpq fetches a new one after 16 s). */
export const NONCE_LIFETIME_SECONDS = 16;

/** Most fragments one READ_MRU answer may be asked for (ntpd's MRU_FRAGS_LIMIT). */
export const MRU_FRAGS_LIMIT = 128;
/** Most rows a READ_MRU request may ask for with `limit=` alone (ntpd's MRU_ROW_LIMIT). */
export const MRU_ROW_LIMIT = 256;
/** Continuation pairs `last.N`/`addr.N` a request may carry (N in 0..15, as ntpd reads them). */
const MAX_PRIORS = 16;
/** Bytes per fragment kept for the item that did not fit at its end (longest item + separator). */
const FRAGMENT_SLACK = 64;

/** ntpd's RES_* bit for each restrict flag, as the `rs.N` variable carries them. */
const restrictBits: Readonly<Record<RestrictFlag, number>> = {
  ignore: 0x0001,
  noserve: 0x0002,
  nopeer: 0x0010,
  limited: 0x0020,
  noquery: 0x0040,
  nomodify: 0x0080,
  notrap: 0x0100,
  kod: 0x0400,
};

/** Worst-case size of `now=` and `last.newest=` (timestamps are always 19 characters). */
const TAIL_SIZE = sizeOf([`now=${"0".repeat(19)}`, `last.newest=${"0".repeat(19)}`]);
/** Size of the smallest possible entry (empty address, all zero), to bound the rows of a page. */
const MIN_ENTRY_SIZE = sizeOf(
  entryItems({
    address: "",
    port: 0,
    firstSeen: { seconds: 0, fraction: 0 },
    lastSeen: { seconds: 0, fraction: 0 },
    packets: 0,
    mode: 0,
    version: 0,
    restrictFlags: [],
    droppedPackets: 0,
  }, 0),
);

/**
 * A nonce for `client`: the issue time (16 hex digits) and 8 hex digits of MD5 over the secret,
 * that time and the client's address and port. Only that client can use it, and only for
 * {@link NONCE_LIFETIME_SECONDS}, so a spoofed READ_MRU gets no answer.
 *
 * @example
 * ```ts
 * import type { ClientAddress } from "../server/types.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare const client: ClientAddress;
 * declare const now: NtpTimestamp;
 * declare const secret: Uint8Array;
 * makeNonce(client, { now, secret }); // "eeb52a7314e8263755865299"
 * ```
 */
export function makeNonce(
  client: ClientAddress,
  options: { readonly now: NtpTimestamp; readonly secret: Uint8Array },
): string {
  const { now, secret } = options;
  return `${hex8(now.seconds)}${hex8(now.fraction)}${nonceDigest(client, { issued: now, secret })}`;
}

/**
 * True when `nonce` was issued by {@link makeNonce} to this client with this secret at most
 * {@link NONCE_LIFETIME_SECONDS} before `now` (and not in the future).
 *
 * @example
 * ```ts
 * import type { ClientAddress } from "../server/types.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * declare const client: ClientAddress;
 * declare const now: NtpTimestamp;
 * declare const secret: Uint8Array;
 * const nonce = makeNonce(client, { now, secret });
 * checkNonce(nonce, client, { now, secret }); // true
 * ```
 */
export function checkNonce(
  nonce: string,
  client: ClientAddress,
  options: { readonly now: NtpTimestamp; readonly secret: Uint8Array },
): boolean {
  if (!/^[0-9a-f]{24}$/.test(nonce)) return false;
  const issued = {
    seconds: parseInt(nonce.slice(0, 8), 16),
    fraction: parseInt(nonce.slice(8, 16), 16),
  };
  const age = ntpDiffSeconds(options.now, issued);
  if (!(age >= 0 && age <= NONCE_LIFETIME_SECONDS)) return false;
  return nonce.slice(16) === nonceDigest(client, { issued, secret: options.secret });
}

function nonceDigest(
  client: ClientAddress,
  { issued, secret }: { readonly issued: NtpTimestamp; readonly secret: Uint8Array },
): string {
  const message = new Uint8Array(secret.length + 8 + client.bytes.length + 2);
  const view = new DataView(message.buffer);
  message.set(secret, 0);
  view.setUint32(secret.length, issued.seconds >>> 0);
  view.setUint32(secret.length + 4, issued.fraction >>> 0);
  message.set(client.bytes, secret.length + 8);
  view.setUint16(secret.length + 8 + client.bytes.length, client.port & 0xffff);
  const digest = md5(message);
  return hex8(new DataView(digest.buffer, digest.byteOffset).getUint32(0));
}

/** How a READ_MRU request (its nonce already checked) is answered. */
export type MruResponse =
  /** The variables to send, in order (see {@link mruResponse}). */
  | { readonly kind: "answer"; readonly items: readonly string[] }
  /**
   * An error reply: bad `frags=`/`limit=` (badValue), or none of the continuation entries is
   * unchanged (unknownVariable).
   */
  | { readonly kind: "error"; readonly code: ControlErrorCodeValue }
  /** No reply at all: a parameter's value could not be read (ntpd bails out the same way). */
  | { readonly kind: "dropped" };

/** One `addr.N`/`last.N` pair: an entry the client already has, as it last saw it. */
interface MruPrior {
  /** Lower-case IP literal. */
  readonly address: string;
  readonly port: number;
  readonly lastSeen: NtpTimestamp;
}

/** The parameters of a READ_MRU request; 0 stands for "not given" (as in ntpd). */
interface MruRequest {
  readonly frags: number;
  readonly limit: number;
  readonly minPackets: number;
  readonly minDroppedPackets: number;
  /** RES_* bits an entry must all carry (`resall=0x...`). */
  readonly restrictAll: number;
  /** RES_* bits an entry must carry at least one of (`resany=0x...`). */
  readonly restrictAny: number;
  readonly maxLastIntervalSeconds: number;
  readonly minLastIntervalSeconds: number;
  /** The consecutive complete pairs from N = 0, newest first as ntpq sends them. */
  readonly priors: readonly MruPrior[];
}

/** An entry with its sort key: last-seen seconds relative to now (era-safe), then fraction. */
interface KeyedEntry {
  readonly entry: MruEntry;
  readonly relativeSeconds: number;
  readonly fraction: number;
}

/**
 * Answers a READ_MRU request as ntpd's read_mru_list does, so ntpq can page through any number
 * of clients. The clients are taken oldest first (ties by address, then port, so the order is
 * the same on every request). The request carries `frags=` (fragments, 1..128) and/or `limit=`
 * (rows; alone it must be 1..256), else the answer is an error (bad value); with only one of
 * them the other is unlimited (frags: 128). Entries are skipped unless `ct >= mincount`,
 * `dr >= mindrop`, they carry all `resall=` and any `resany=` RES_* bits, and `now - last` is at
 * most `maxlstint=` and at least `minlstint=` seconds. `laddr=` (we keep no local address per
 * client), `minscore=` (no scores) and `recent=` are ignored, as are unknown names. Unlike
 * ntpd, skipped entries after the last one sent do not hold back `now` (one request fewer).
 *
 * A continuation request names entries the client already has as `addr.N`/`last.N` (N from 0,
 * newest first): the first of them still present with that exact last-seen time is the starting
 * point, confirmed as `last.older`/`addr.older`, and only strictly newer entries follow (with
 * `limit=1` the starting entry itself). If none is unchanged the answer is an error (unknown
 * variable) and ntpq retries with older entries.
 *
 * The variables are: a fresh `nonce`, [`last.older`, `addr.older`], then per entry `addr.N`,
 * `last.N`, `first.N`, `ct.N`, `mv.N`, `rs.N`, `dr.N` (N from 0 in each answer) while the
 * fragment budget and `limit` allow (at least one entry, so the client always moves on); only
 * when no entry is left after the last one sent come `now` and, if any entry was sent,
 * `last.newest`. Without `now`, ntpq continues from the entries it received.
 *
 * @example
 * ```ts
 * import type { ClientAddress } from "../server/types.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * import type { ControlView } from "./control_view.ts";
 * import { packVariableText, parseVariableList } from "./variable_list.ts";
 * declare const view: ControlView;
 * declare const client: ClientAddress;
 * declare const now: NtpTimestamp;
 * declare const secret: Uint8Array;
 * declare const nonce: string; // the one the client sent back, already checked with checkNonce
 * const answer = mruResponse(view.clients, {
 *   request: parseVariableList(`nonce=${nonce}, frags=32`),
 *   nonce: makeNonce(client, { now, secret }),
 *   now,
 * });
 * if (answer.kind === "answer") packVariableText(answer.items);
 * ```
 */
export function mruResponse(
  entries: readonly MruEntry[],
  options: {
    readonly request: readonly VariableItem[];
    readonly nonce: string;
    readonly now: NtpTimestamp;
  },
): MruResponse {
  const { now } = options;
  const request = parseMruRequest(options.request);
  if (request === null) return { kind: "dropped" };
  if (
    (request.frags === 0 && !(request.limit >= 1 && request.limit <= MRU_ROW_LIMIT)) ||
    request.frags > MRU_FRAGS_LIMIT
  ) {
    return { kind: "error", code: ControlErrorCode.badValue };
  }
  const frags = request.frags === 0 ? MRU_FRAGS_LIMIT : request.frags;
  const limit = request.limit === 0 ? Infinity : request.limit;

  const head = [`nonce=${options.nonce}`];
  let start: KeyedEntry | null = null;
  if (request.priors.length > 0) {
    const found = findStartingPoint(entries, request.priors);
    if (found === undefined) return { kind: "error", code: ControlErrorCode.unknownVariable };
    start = keyed(found, now);
    head.push(
      `last.older=${formatTimestampHex(found.lastSeen)}`,
      `addr.older=${endpointText(found)}`,
    );
  }

  // Items never straddle fragments, so each fragment may end with up to one item's worth unused.
  let budget = frags * (CONTROL_MAX_DATA_LENGTH - FRAGMENT_SLACK) - sizeOf(head) - TAIL_SIZE;
  const rowCap = Math.min(limit, Math.max(1, Math.floor(budget / MIN_ENTRY_SIZE)));

  // What the walk may send: newer than the start (or it, for limit=1) and past the filters.
  const candidates: MruEntry[] = [];
  const approximateKeys: number[] = [];
  for (const entry of entries) {
    if (!passesFilters(entry, request, now)) continue;
    if (start !== null) {
      const order = compareKeyed(keyed(entry, now), start);
      if (order < 0 || (order === 0 && limit > 1)) continue;
    }
    candidates.push(entry);
    approximateKeys.push(approximateKey(entry, now));
  }
  const ordered = oldestFirst(candidates, { approximateKeys, count: rowCap, now });

  const items = head;
  let sent = 0;
  for (const { entry } of ordered) {
    if (sent >= rowCap) break;
    const rows = entryItems(entry, sent);
    const size = sizeOf(rows);
    if (size > budget && sent > 0) break;
    budget -= size;
    items.push(...rows);
    sent++;
  }
  if (sent === candidates.length) {
    items.push(`now=${formatTimestampHex(now)}`);
    const newest = ordered[sent - 1];
    if (newest !== undefined) {
      items.push(`last.newest=${formatTimestampHex(newest.entry.lastSeen)}`);
    }
  }
  return { kind: "answer", items };
}

/**
 * At least the `count` oldest of `candidates`, sorted oldest first. A numeric sort of the
 * approximate keys finds the count-th oldest key first, so only entries up to it (ties
 * included) go through the exact, slower comparison: a page of a few hundred out of tens of
 * thousands of clients stays cheap.
 */
function oldestFirst(
  candidates: readonly MruEntry[],
  { approximateKeys, count, now }: {
    readonly approximateKeys: readonly number[];
    readonly count: number;
    readonly now: NtpTimestamp;
  },
): KeyedEntry[] {
  let chosen = candidates;
  if (candidates.length > 2 * count) {
    const threshold = Float64Array.from(approximateKeys).sort()[count - 1]!;
    chosen = candidates.filter((_, i) => approximateKeys[i]! <= threshold);
  }
  return chosen.map((entry) => keyed(entry, now)).sort(compareKeyed);
}

/**
 * The last-seen time relative to now in units of 2^-32 s, rounded to a double: never in the
 * wrong order, only ties where the exact keys differ (beyond 2^21 s from now).
 */
function approximateKey(entry: MruEntry, now: NtpTimestamp): number {
  return ((entry.lastSeen.seconds - now.seconds) | 0) * 4_294_967_296 +
    (entry.lastSeen.fraction >>> 0);
}

function keyed(entry: MruEntry, now: NtpTimestamp): KeyedEntry {
  return {
    entry,
    relativeSeconds: (entry.lastSeen.seconds - now.seconds) | 0,
    fraction: entry.lastSeen.fraction >>> 0,
  };
}

/** Oldest first; equal last-seen times by address, then port. */
function compareKeyed(a: KeyedEntry, b: KeyedEntry): number {
  return a.relativeSeconds - b.relativeSeconds || a.fraction - b.fraction ||
    (a.entry.address < b.entry.address ? -1 : a.entry.address > b.entry.address ? 1 : 0) ||
    a.entry.port - b.entry.port;
}

/** The entry of the first prior (client's order) still present with the same last-seen time. */
function findStartingPoint(
  entries: readonly MruEntry[],
  priors: readonly MruPrior[],
): MruEntry | undefined {
  let found: MruEntry | undefined;
  let foundAt = priors.length;
  for (const entry of entries) {
    for (let i = 0; i < foundAt; i++) {
      const prior = priors[i]!;
      if (
        entry.port === prior.port && timestampsEqual(entry.lastSeen, prior.lastSeen) &&
        entry.address.toLowerCase() === prior.address
      ) {
        found = entry;
        foundAt = i;
        break;
      }
    }
    if (foundAt === 0) break;
  }
  return found;
}

function passesFilters(entry: MruEntry, request: MruRequest, now: NtpTimestamp): boolean {
  if (entry.packets < request.minPackets) return false;
  if (entry.droppedPackets < request.minDroppedPackets) return false;
  const rs = restrictBitsOf(entry);
  if ((rs & request.restrictAll) !== request.restrictAll) return false;
  if (request.restrictAny !== 0 && (rs & request.restrictAny) === 0) return false;
  // ntpd compares whole seconds.
  const ageSeconds = (now.seconds - entry.lastSeen.seconds) | 0;
  if (request.maxLastIntervalSeconds > 0 && ageSeconds > request.maxLastIntervalSeconds) {
    return false;
  }
  if (request.minLastIntervalSeconds > 0 && ageSeconds < request.minLastIntervalSeconds) {
    return false;
  }
  return true;
}

const UNSIGNED_TEXT = /^\d{1,15}$/;
const SIGNED_TEXT = /^[-+]?\d{1,15}$/;
const RESTRICT_MASK_TEXT = /^0x[0-9a-f]{1,4}$/i;
const TIMESTAMP_TEXT = /^0x([0-9a-f]{1,8})\.([0-9a-f]{1,8})$/i;
const PRIOR_NAME = /^(last|addr)\.(\d{1,2})$/;

/** The request's parameters, or null when a value cannot be read (ntpd then sends nothing). */
function parseMruRequest(items: readonly VariableItem[]): MruRequest | null {
  let frags = 0;
  let limit = 0;
  let minPackets = 0;
  let minDroppedPackets = 0;
  let restrictAll = 0;
  let restrictAny = 0;
  let maxLastIntervalSeconds = 0;
  let minLastIntervalSeconds = 0;
  const lasts: (NtpTimestamp | undefined)[] = [];
  const addresses: ({ readonly address: string; readonly port: number } | undefined)[] = [];
  for (const { name, value } of items) {
    const text = value ?? "";
    switch (name) {
      case "frags":
      case "limit":
      case "mindrop":
      case "maxlstint":
      case "minlstint": {
        if (!UNSIGNED_TEXT.test(text)) return null;
        const number = Number(text);
        if (name === "frags") frags = number;
        else if (name === "limit") limit = number;
        else if (name === "mindrop") minDroppedPackets = number;
        else if (name === "maxlstint") maxLastIntervalSeconds = number;
        else minLastIntervalSeconds = number;
        break;
      }
      case "mincount":
        if (!SIGNED_TEXT.test(text)) return null;
        minPackets = Math.max(0, Number(text));
        break;
      case "resall":
      case "resany":
        if (!RESTRICT_MASK_TEXT.test(text)) return null;
        if (name === "resall") restrictAll = parseInt(text.slice(2), 16);
        else restrictAny = parseInt(text.slice(2), 16);
        break;
      default: {
        // Not read here: nonce (the caller checks it), laddr, minscore, recent, unknown names.
        const prior = PRIOR_NAME.exec(name);
        const index = prior === null ? MAX_PRIORS : Number(prior[2]);
        if (prior === null || index >= MAX_PRIORS || String(index) !== prior[2]) break;
        if (prior[1] === "last") {
          const timestamp = TIMESTAMP_TEXT.exec(text);
          if (timestamp === null) return null;
          lasts[index] = {
            seconds: parseInt(timestamp[1]!, 16),
            fraction: parseInt(timestamp[2]!, 16),
          };
        } else {
          const endpoint = parseEndpoint(text);
          if (endpoint === null) return null;
          addresses[index] = endpoint;
        }
      }
    }
  }
  const priors: MruPrior[] = [];
  for (let i = 0; i < MAX_PRIORS; i++) {
    const lastSeen = lasts[i];
    const endpoint = addresses[i];
    if (lastSeen === undefined || endpoint === undefined) break;
    priors.push({ ...endpoint, lastSeen });
  }
  return {
    frags,
    limit,
    minPackets,
    minDroppedPackets,
    restrictAll,
    restrictAny,
    maxLastIntervalSeconds,
    minLastIntervalSeconds,
    priors,
  };
}

/**
 * `a.b.c.d:port`, `[v6]:port`, or a bare address (port 123, as ntpd's decodenetnum assumes).
 * The address is compared as text, lower-cased: ntpq echoes what we sent.
 */
function parseEndpoint(text: string): { readonly address: string; readonly port: number } | null {
  const match = /^\[([0-9a-z:.%_-]+)\](?::(\d{1,5}))?$/i.exec(text) ??
    /^([0-9.]+)(?::(\d{1,5}))?$/.exec(text) ?? /^([0-9a-f:.]*:[0-9a-f:.]*)()$/i.exec(text);
  if (match === null) return null;
  const port = match[2] === undefined || match[2] === "" ? 123 : Number(match[2]);
  if (port > 0xffff) return null;
  return { address: match[1]!.toLowerCase(), port };
}

/** `address:port` as ntpq expects it in `addr.N` ("[::1]:123" for IPv6). */
function endpointText(entry: MruEntry): string {
  return entry.address.includes(":")
    ? `[${entry.address}]:${entry.port}`
    : `${entry.address}:${entry.port}`;
}

function restrictBitsOf(entry: MruEntry): number {
  let rs = 0;
  for (const flag of entry.restrictFlags) rs |= restrictBits[flag] ?? 0;
  return rs;
}

function entryItems(entry: MruEntry, index: number): string[] {
  return [
    `addr.${index}=${endpointText(entry)}`,
    `last.${index}=${formatTimestampHex(entry.lastSeen)}`,
    `first.${index}=${formatTimestampHex(entry.firstSeen)}`,
    `ct.${index}=${Math.max(0, Math.floor(entry.packets))}`,
    `mv.${index}=${((entry.version & 7) << 3) | (entry.mode & 7)}`,
    `rs.${index}=0x${restrictBitsOf(entry).toString(16)}`,
    `dr.${index}=${Math.max(0, Math.floor(entry.droppedPackets))}`,
  ];
}

/** Bytes the items take in a packed list, with the worst-case separator and fragment slack. */
function sizeOf(items: readonly string[]): number {
  return items.reduce((sum, item) => sum + item.length + 4, 0);
}
