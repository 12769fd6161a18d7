// The peer variables of one association in ntpsec's order and text formats (what `ntpq -p` and `rv &N` read).
import type { ControlPeerView } from "./control_view.ts";
import type { VariableDefinition } from "./system_variable_list.ts";
import {
  EMPTY_STAGE_DISPERSION_MS,
  formatFilter,
  formatMilliseconds,
  formatQuoted,
  formatRefidValue,
  formatTimestampHex,
} from "./variable_format.ts";

type PeerVariable = VariableDefinition<ControlPeerView>;

function listed(name: string, value: PeerVariable["value"]): PeerVariable {
  return { name, listedByDefault: true, value };
}

/** The local address text, or the family's wildcard when the association is not bound yet. */
function localAddressText(peer: ControlPeerView): string {
  if (peer.localAddress !== null) return peer.localAddress;
  return peer.sourceAddress.includes(":") ? "::" : "0.0.0.0";
}

/**
 * Every peer variable in output order (all listed by default). delay, offset, jitter and
 * dispersion are sent in ms with six decimals as ntpsec does, which makes ntpq -p print them
 * with four (`f8dot4`); rootdelay/rootdisp with three; `reach` in hex (ntpq shows octal);
 * the filter registers as eight ms values with two decimals. `srchost` appears only for
 * associations configured by name.
 */
export const peerVariables: readonly PeerVariable[] = [
  listed("srcadr", ({ subject }) => subject.sourceAddress),
  listed("srcport", ({ subject }) => String(subject.sourcePort)),
  {
    name: "srchost",
    listedByDefault: true,
    value: ({ subject }) => formatQuoted(subject.hostname ?? ""),
  },
  listed("dstadr", ({ subject }) => localAddressText(subject)),
  listed("dstport", ({ subject }) => String(subject.localPort)),
  listed("leap", ({ subject }) => String(subject.leap)),
  listed("hmode", ({ subject }) => String(subject.hostMode)),
  listed("stratum", ({ subject }) => String(subject.stratum)),
  // ntpq crashes on a negative poll (it computes 1 << poll), so sub-second polls show as 0.
  listed("ppoll", ({ subject }) => String(Math.max(0, subject.peerPollLog2))),
  listed("hpoll", ({ subject }) => String(Math.max(0, subject.hostPollLog2))),
  listed("precision", ({ subject }) => String(subject.precisionLog2)),
  listed("rootdelay", ({ subject }) => formatMilliseconds(subject.rootDelaySeconds, 3)),
  listed("rootdisp", ({ subject }) => formatMilliseconds(subject.rootDispersionSeconds, 3)),
  listed("refid", ({ subject }) => formatRefidValue(subject.referenceId, subject.stratum)),
  listed("reftime", ({ subject }) => formatTimestampHex(subject.referenceTime)),
  listed("rec", ({ subject }) => formatTimestampHex(subject.receiveTime)),
  listed("xmt", ({ subject }) => formatTimestampHex(subject.transmitTime)),
  listed("reach", ({ subject }) => `0x${(subject.reach & 0xff).toString(16)}`),
  listed("unreach", ({ subject }) => String(subject.unreachPolls)),
  listed("delay", ({ subject }) => formatMilliseconds(subject.delaySeconds, 6)),
  listed("offset", ({ subject }) => formatMilliseconds(subject.offsetSeconds, 6)),
  listed("jitter", ({ subject }) => formatMilliseconds(subject.jitterSeconds, 6)),
  listed("dispersion", ({ subject }) => formatMilliseconds(subject.dispersionSeconds, 6)),
  listed("keyid", () => "0"),
  listed("filtdelay", ({ subject }) => formatFilter(subject.filterDelaySeconds, 0)),
  listed("filtoffset", ({ subject }) => formatFilter(subject.filterOffsetSeconds, 0)),
  listed("pmode", ({ subject }) => String(subject.peerMode)),
  listed(
    "filtdisp",
    ({ subject }) => formatFilter(subject.filterDispersionSeconds, EMPTY_STAGE_DISPERSION_MS),
  ),
  listed("flash", ({ subject }) => `0x${(subject.flashBits & 0xffff).toString(16)}`),
  // NTS associations only (see peerVariableApplies): the session and its counters.
  listed("nts", ({ subject }) => formatQuoted(subject.nts?.phase ?? "")),
  listed("ntscookies", ({ subject }) => String(subject.nts?.cookies ?? 0)),
  listed("ntske", ({ subject }) => formatQuoted(subject.nts?.keServer ?? "")),
  listed("ntsproblem", ({ subject }) => formatQuoted(subject.nts?.problem ?? "")),
  listed("ntsauth", ({ subject }) => String(subject.nts?.authenticated ?? 0)),
  listed("ntsdrop", ({ subject }) => String(subject.nts?.dropped ?? 0)),
  listed("ntsnak", ({ subject }) => String(subject.nts?.naks ?? 0)),
  listed("ntskeruns", ({ subject }) => String(subject.nts?.keyExchanges ?? 0)),
  listed("ntskefail", ({ subject }) => String(subject.nts?.keyExchangeFailures ?? 0)),
];

const ntsVariableNames = new Set([
  "nts",
  "ntscookies",
  "ntske",
  "ntsproblem",
  "ntsauth",
  "ntsdrop",
  "ntsnak",
  "ntskeruns",
  "ntskefail",
]);

/** True when `definition` should appear for `peer` in a default (count 0) listing. */
export function peerVariableApplies(definition: PeerVariable, peer: ControlPeerView): boolean {
  if (ntsVariableNames.has(definition.name)) return peer.nts !== undefined;
  return definition.name !== "srchost" || (peer.hostname !== undefined && peer.hostname !== "");
}
