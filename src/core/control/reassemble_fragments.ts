// Client side of mode 6: matching response fragments to a request and joining them (as ntpq's getresponse does).
import type { ControlMessage } from "./control_message.ts";

/** A complete response: the status word of the last fragment and all data joined. */
export interface ControlResponse {
  readonly status: number;
  /** Error code (`status >> 8`) of an error response, else null. */
  readonly errorCode: number | null;
  /** The association id the server answered for. */
  readonly associationId: number;
  readonly data: Uint8Array;
}

/**
 * True when `message` answers the request with this opcode and sequence: a mode 6 response
 * (R bit) with version 1..4.
 *
 * @example
 * ```ts
 * import { type ControlMessage, decodeControlMessage } from "./control_message.ts";
 * declare const datagram: Uint8Array;
 * const fragments: ControlMessage[] = [];
 * const message = decodeControlMessage(datagram);
 * if (message !== null && answersRequest(message, { opcode: 2, sequence: 7 })) fragments.push(message);
 * ```
 */
export function answersRequest(
  message: ControlMessage,
  request: { readonly opcode: number; readonly sequence: number },
): boolean {
  return message.response && message.version >= 1 && message.version <= 4 &&
    message.opcode === request.opcode && message.sequence === request.sequence;
}

/**
 * Joins the fragments received so far, or returns null while the response is incomplete. An
 * error response is complete at once. Otherwise the fragments (duplicates and overlaps are
 * dropped, order does not matter) must start at offset 0, follow each other without holes, and
 * include the last one (M bit clear).
 *
 * @example
 * ```ts
 * import type { ControlMessage } from "./control_message.ts";
 * declare const fragments: readonly ControlMessage[];
 * const response = reassembleFragments(fragments);
 * if (response !== null) console.log(new TextDecoder().decode(response.data));
 * ```
 */
export function reassembleFragments(fragments: readonly ControlMessage[]): ControlResponse | null {
  const failed = fragments.find((f) => f.error);
  if (failed !== undefined) {
    return {
      status: failed.status,
      errorCode: failed.status >>> 8,
      associationId: failed.associationId,
      data: new Uint8Array(0),
    };
  }
  const sorted = [...fragments].sort((a, b) => a.offset - b.offset);
  const kept: ControlMessage[] = [];
  for (const fragment of sorted) {
    const last = kept.at(-1);
    if (last !== undefined && last.offset + last.data.length > fragment.offset) continue;
    kept.push(fragment);
  }
  let expected = 0;
  for (const fragment of kept) {
    if (fragment.offset !== expected) return null;
    expected += fragment.data.length;
    if (!fragment.more) {
      const data = new Uint8Array(expected);
      for (const part of kept) {
        if (part.offset >= expected) break;
        data.set(part.data, part.offset);
      }
      return {
        status: fragment.status,
        errorCode: null,
        associationId: fragment.associationId,
        data,
      };
    }
  }
  return null;
}
