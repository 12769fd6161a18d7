// ntpq's mrulist exchange: nonces bound to the client's address (REQ_NONCE, op 12) and the READ_MRU (op 10) answer.
import { md5 } from "../packet/md5.ts";
import type { ClientAddress, RestrictFlag } from "../server/types.ts";
import { ntpDiffSeconds, type NtpTimestamp } from "../time/ntp_timestamp.ts";
import { CONTROL_MAX_DATA_LENGTH } from "./control_message.ts";
import type { MruEntry } from "./control_view.ts";
import { formatTimestampHex, hex8 } from "./variable_format.ts";
import type { VariableItem } from "./variable_list.ts";

/** A nonce stays valid this long (ntpq fetches a new one after 16 s). */
export const NONCE_LIFETIME_SECONDS = 16;

/** Fragments ntpq accepts in one response (its MAXFRAGS). */
const MAX_FRAGMENTS = 32;
/** Bytes per fragment reserved for the item that did not fit at its end. */
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

/**
 * A nonce for `client`: the issue time (16 hex digits) and 8 hex digits of MD5 over the secret,
 * that time and the client's address and port. Only that client can use it, and only for
 * {@link NONCE_LIFETIME_SECONDS}, so a spoofed READ_MRU gets no answer.
 *
 * @example
 * ```ts
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
 * checkNonce(nonce, client, now, secret); // true
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

/** `address:port` as ntpq expects it in `addr.N` ("[::1]:123" for IPv6). */
function endpointText(entry: MruEntry): string {
  return entry.address.includes(":")
    ? `[${entry.address}]:${entry.port}`
    : `${entry.address}:${entry.port}`;
}

function entryItems(entry: MruEntry, index: number): string[] {
  let rs = 0;
  for (const flag of entry.restrictFlags) rs |= restrictBits[flag] ?? 0;
  return [
    `addr.${index}=${endpointText(entry)}`,
    `last.${index}=${formatTimestampHex(entry.lastSeen)}`,
    `first.${index}=${formatTimestampHex(entry.firstSeen)}`,
    `ct.${index}=${Math.max(0, Math.floor(entry.packets))}`,
    `mv.${index}=${((entry.version & 7) << 3) | (entry.mode & 7)}`,
    `rs.${index}=0x${rs.toString(16)}`,
    `dr.${index}=${Math.max(0, Math.floor(entry.droppedPackets))}`,
  ];
}

function positiveInteger(items: readonly VariableItem[], name: string): number | null {
  const item = items.find((i) => i.name === name);
  if (item === undefined || item.value === null) return null;
  const value = Number(item.value);
  return Number.isInteger(value) && value > 0 ? value : null;
}

/**
 * The variables of a READ_MRU answer: a fresh nonce, then the clients as `addr.N`, `last.N`,
 * `first.N`, `ct.N`, `mv.N`, `rs.N`, `dr.N` (oldest first), then `now` and `last.newest`, which
 * tell ntpq the list is complete. Honours `mincount=`, `limit=` (rows) and `frags=` (size):
 * when not every client fits, the most recent ones are sent. Other parameters (ntpq's
 * continuation `addr.N`/`last.N`, `resall`, `laddr`, ...) are ignored: every answer is a
 * complete list, so ntpq never has to continue.
 *
 * @example
 * ```ts
 * mruResponseItems(view.clients, { request, nonce: makeNonce(client, { now, secret }), now });
 * ```
 */
export function mruResponseItems(
  entries: readonly MruEntry[],
  options: {
    readonly request: readonly VariableItem[];
    readonly nonce: string;
    readonly now: NtpTimestamp;
  },
): string[] {
  const minCount = positiveInteger(options.request, "mincount") ?? 0;
  const limit = positiveInteger(options.request, "limit");
  const frags = Math.min(positiveInteger(options.request, "frags") ?? MAX_FRAGMENTS, MAX_FRAGMENTS);
  const newestFirst = entries
    .filter((e) => e.packets >= minCount)
    .slice()
    .sort((a, b) => ntpDiffSeconds(b.lastSeen, a.lastSeen));
  const head = [`nonce=${options.nonce}`];
  const newest = newestFirst[0];
  const tail = [
    `now=${formatTimestampHex(options.now)}`,
    `last.newest=${formatTimestampHex(newest?.lastSeen ?? options.now)}`,
  ];
  // Items never straddle fragments, so each fragment may end with up to one item's worth unused.
  let budget = frags * (CONTROL_MAX_DATA_LENGTH - FRAGMENT_SLACK) - sizeOf(head) - sizeOf(tail);
  const chosen: MruEntry[] = [];
  for (const entry of newestFirst) {
    if (limit !== null && chosen.length >= limit) break;
    const size = sizeOf(entryItems(entry, chosen.length));
    if (size > budget) break;
    budget -= size;
    chosen.push(entry);
  }
  const oldestFirst = chosen.reverse();
  return [...head, ...oldestFirst.flatMap((entry, index) => entryItems(entry, index)), ...tail];
}

/** Bytes the items take in a packed list, with the worst-case separator and fragment slack. */
function sizeOf(items: readonly string[]): number {
  return items.reduce((sum, item) => sum + item.length + 4, 0);
}
