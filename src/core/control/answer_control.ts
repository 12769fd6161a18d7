// Answers one mode 6 request from a ControlView: READSTAT, READVAR, REQ_NONCE, READ_MRU, error replies; malformed input gets nothing.
import type { ClientAddress } from "../server/types.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import {
  CONTROL_MAX_DATA_LENGTH,
  ControlErrorCode,
  type ControlErrorCodeValue,
  type ControlMessage,
  ControlOpcode,
  decodeControlRequest,
  encodeControlMessage,
} from "./control_message.ts";
import type { ControlPeerView, ControlView } from "./control_view.ts";
import { checkNonce, makeNonce, mruResponse } from "./mru_list.ts";
import { peerVariableApplies, peerVariables } from "./peer_variables.ts";
import { peerStatusWord, systemStatusWord } from "./status_words.ts";
import {
  systemVariableApplies,
  systemVariables,
  type VariableDefinition,
  type VariableSource,
} from "./system_variable_list.ts";
import { packVariableText, parseVariableList, payloadText } from "./variable_list.ts";

/** What one answer is computed from. */
export interface ControlContext {
  /** The state to report, taken once for this request. */
  readonly view: ControlView;
  /** The current time (for `clock=`, nonces and the MRU list's `now`). */
  readonly now: NtpTimestamp;
  /** Random bytes (16 or more) fixed for the daemon's life, keying the mrulist nonces. */
  readonly nonceSecret: Uint8Array;
}

/** How a request was handled, for counters and logs. */
export type ControlOutcome =
  /** A normal response (one or more fragments). */
  | "answered"
  /** An error response (E bit, code in the status word). */
  | "error"
  /** Nothing is sent: malformed request, or a READ_MRU without a valid nonce. */
  | "dropped";

/** The datagrams to send back (in order; empty when dropped) and the outcome. */
export interface ControlAnswer {
  readonly replies: readonly Uint8Array[];
  readonly outcome: ControlOutcome;
}

const DROPPED: ControlAnswer = Object.freeze({ replies: Object.freeze([]), outcome: "dropped" });

/**
 * Answers one mode 6 request the way ntpd does, from `context.view`:
 * - READSTAT (1): association 0 gives the list of (association id, peer status word) pairs with
 *   the system status word; an association gives its variables;
 * - READVAR (2): association 0 the system variables, otherwise that association's; the data may
 *   name variables (`stratum,offset`), else the default list is sent; an unknown name gives
 *   error 5 (unknown variable), an unknown association error 4;
 * - UNSPEC (0): just the status word; REQ_NONCE (12): `nonce=...`; READ_MRU (10): the recent
 *   client list, one page at a time as ntpq continues (see mruResponse), only for a valid nonce
 *   of this client (else nothing, so it cannot be spoofed); bad `frags=`/`limit=` give error 6,
 *   a continuation whose entries all changed error 5;
 * - READCLOCK (4): error 4 (no reference clocks); WRITEVAR, WRITECLOCK, CONFIGURE and ordered
 *   lists (3, 5, 8, 11): error 1 (they need authentication, which is not offered); any other
 *   opcode: error 3.
 * A response echoes the request's version, opcode, sequence and association id, carries the
 * system leap in LI, and is cut into fragments of at most 468 data bytes (M bit on all but the
 * last). A malformed request (see decodeControlRequest) gets nothing. Never throws on input.
 *
 * @example
 * ```ts
 * import type { ClientAddress } from "../server/types.ts";
 * import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
 * import type { Responders } from "../../io/responders_types.ts";
 * import type { ControlView } from "./control_view.ts";
 * declare const responders: Responders;
 * declare const datagram: Uint8Array; // a mode 6 request from `client`
 * declare const client: ClientAddress;
 * declare const view: ControlView;
 * declare const now: NtpTimestamp;
 * const nonceSecret = crypto.getRandomValues(new Uint8Array(32));
 * const { replies } = answerControl(datagram, client, { view, now, nonceSecret });
 * for (const reply of replies) responders.sendControlReply(reply, client);
 * ```
 */
export function answerControl(
  datagram: Uint8Array,
  client: ClientAddress,
  context: ControlContext,
): ControlAnswer {
  const request = decodeControlRequest(datagram);
  if (request === null) return DROPPED;
  const { view } = context;
  switch (request.opcode) {
    case ControlOpcode.unspecified:
      return statusOnly(request, context);
    case ControlOpcode.readStatus:
      if (request.associationId === 0) {
        return respond(request, context, {
          status: systemStatusWord(view.system),
          payloads: associationList(view),
        });
      }
      return readVariables(request, context);
    case ControlOpcode.readVariables:
      return readVariables(request, context);
    case ControlOpcode.readClock:
      return errorReply(request, context, { code: ControlErrorCode.badAssociation });
    case ControlOpcode.writeVariables:
    case ControlOpcode.writeClock:
    case ControlOpcode.configure:
    case ControlOpcode.readOrderedList:
      return errorReply(request, context, { code: ControlErrorCode.permission });
    case ControlOpcode.requestNonce:
      return respond(request, context, {
        status: systemStatusWord(view.system),
        payloads: packVariableText([
          `nonce=${makeNonce(client, { now: context.now, secret: context.nonceSecret })}`,
        ]),
      });
    case ControlOpcode.readMru:
      return readMru(request, client, context);
    default:
      return errorReply(request, context, { code: ControlErrorCode.badOpcode });
  }
}

function findPeer(view: ControlView, associationId: number): ControlPeerView | undefined {
  return view.peers.find((peer) => peer.associationId === associationId);
}

function statusOnly(request: ControlMessage, context: ControlContext): ControlAnswer {
  if (request.associationId === 0) {
    return respond(request, context, {
      status: systemStatusWord(context.view.system),
      payloads: [new Uint8Array(0)],
    });
  }
  const peer = findPeer(context.view, request.associationId);
  if (peer === undefined) {
    return errorReply(request, context, { code: ControlErrorCode.badAssociation });
  }
  return respond(request, context, { status: peerStatusWord(peer), payloads: [new Uint8Array(0)] });
}

function associationList(view: ControlView): Uint8Array[] {
  const data = new Uint8Array(view.peers.length * 4);
  const dataView = new DataView(data.buffer);
  view.peers.forEach((peer, index) => {
    dataView.setUint16(index * 4, peer.associationId & 0xffff);
    dataView.setUint16(index * 4 + 2, peerStatusWord(peer));
  });
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < data.length; offset += CONTROL_MAX_DATA_LENGTH) {
    chunks.push(data.subarray(offset, offset + CONTROL_MAX_DATA_LENGTH));
  }
  return chunks.length > 0 ? chunks : [data];
}

/**
 * The requested variables (table order, each once) or the default list; null when a name is
 * unknown.
 */
function selectVariables<T>(
  table: readonly VariableDefinition<T>[],
  requestData: Uint8Array,
  { isDefault }: { readonly isDefault: (definition: VariableDefinition<T>) => boolean },
): VariableDefinition<T>[] | null {
  const names = parseVariableList(payloadText(requestData)).map((item) => item.name);
  if (names.length === 0) return table.filter(isDefault);
  const wanted = new Set<string>();
  for (const name of names) {
    if (!table.some((definition) => definition.name === name)) return null;
    wanted.add(name);
  }
  return table.filter((definition) => wanted.has(definition.name));
}

function render<T>(
  definitions: readonly VariableDefinition<T>[],
  source: VariableSource<T>,
): string[] {
  return definitions.map((definition) => `${definition.name}=${definition.value(source)}`);
}

function readVariables(request: ControlMessage, context: ControlContext): ControlAnswer {
  const { view, now } = context;
  if (request.associationId === 0) {
    const chosen = selectVariables(systemVariables, request.data, {
      isDefault: (d) => d.listedByDefault && systemVariableApplies(d, view.system),
    });
    if (chosen === null) {
      return errorReply(request, context, { code: ControlErrorCode.unknownVariable });
    }
    const items = render(chosen, { subject: view.system, view, now });
    return respond(request, context, {
      status: systemStatusWord(view.system),
      payloads: packVariableText(items),
    });
  }
  const peer = findPeer(view, request.associationId);
  if (peer === undefined) {
    return errorReply(request, context, { code: ControlErrorCode.badAssociation });
  }
  const chosen = selectVariables(
    peerVariables,
    request.data,
    { isDefault: (d) => d.listedByDefault && peerVariableApplies(d, peer) },
  );
  if (chosen === null) {
    return errorReply(request, context, { code: ControlErrorCode.unknownVariable });
  }
  const items = render(chosen, { subject: peer, view, now });
  return respond(request, context, {
    status: peerStatusWord(peer),
    payloads: packVariableText(items),
  });
}

function readMru(
  request: ControlMessage,
  client: ClientAddress,
  context: ControlContext,
): ControlAnswer {
  const items = parseVariableList(payloadText(request.data));
  const nonce = items.find((item) => item.name === "nonce")?.value ?? null;
  if (
    nonce === null || !checkNonce(nonce, client, { now: context.now, secret: context.nonceSecret })
  ) {
    return DROPPED;
  }
  const answer = mruResponse(context.view.clients, {
    request: items,
    nonce: makeNonce(client, { now: context.now, secret: context.nonceSecret }),
    now: context.now,
  });
  switch (answer.kind) {
    case "dropped":
      return DROPPED;
    case "error":
      return errorReply(request, context, { code: answer.code });
    case "answer":
      return respond(request, context, {
        status: systemStatusWord(context.view.system),
        payloads: packVariableText(answer.items),
      });
  }
}

function respond(
  request: ControlMessage,
  context: ControlContext,
  { status, payloads }: { readonly status: number; readonly payloads: readonly Uint8Array[] },
): ControlAnswer {
  const replies: Uint8Array[] = [];
  let offset = 0;
  // The offset field is 16 bits: a (never seen) answer beyond 64 KiB is cut there.
  const usable = payloads.filter((data, index) => {
    const start = payloads.slice(0, index).reduce((sum, d) => sum + d.length, 0);
    return start + data.length <= 0xffff;
  });
  usable.forEach((data, index) => {
    replies.push(encodeControlMessage({
      ...request,
      leap: context.view.system.leap,
      response: true,
      error: false,
      more: index < usable.length - 1,
      status,
      offset,
      data,
    }));
    offset += data.length;
  });
  return { replies, outcome: "answered" };
}

function errorReply(
  request: ControlMessage,
  context: ControlContext,
  { code }: { readonly code: ControlErrorCodeValue },
): ControlAnswer {
  const reply = encodeControlMessage({
    ...request,
    leap: context.view.system.leap,
    response: true,
    error: true,
    more: false,
    status: code << 8,
    offset: 0,
    data: new Uint8Array(0),
  });
  return { replies: [reply], outcome: "error" };
}
