// The system variables (association 0) in ntpsec's order and text formats, plus ntpd's ss_* counters.
import { ntpdLeapTime } from "../leap/leap_status.ts";
import type { NtpTimestamp } from "../time/ntp_timestamp.ts";
import type {
  ControlPeerNts,
  ControlSystemView,
  ControlView,
  ServerCounters,
} from "./control_view.ts";
import {
  formatFixed,
  formatMilliseconds,
  formatQuoted,
  formatRefidValue,
  formatTimestampHex,
} from "./variable_format.ts";

/** What a variable's value is computed from. */
export interface VariableSource<T> {
  readonly subject: T;
  readonly view: ControlView;
  /** The current time, for `clock=` and ages. */
  readonly now: NtpTimestamp;
}

/** One variable: its name, whether a request without names returns it, and its value text. */
export interface VariableDefinition<T> {
  readonly name: string;
  readonly listedByDefault: boolean;
  readonly value: (source: VariableSource<T>) => string;
}

type SystemVariable = VariableDefinition<ControlSystemView>;

function listed(name: string, value: SystemVariable["value"]): SystemVariable {
  return { name, listedByDefault: true, value };
}

function named(name: string, value: SystemVariable["value"]): SystemVariable {
  return { name, listedByDefault: false, value };
}

/**
 * The ss_* counters of `ntpq -c sysstats`, in the order ntpsec's ntpq shows them, each also
 * with ntpsec's `_r` (since reset) twin.
 */
const counterVariables: readonly [string, (c: ServerCounters) => number][] = [
  ["ss_received", (c) => c.receivedPackets],
  ["ss_thisver", (c) => c.currentVersionPackets],
  ["ss_oldver", (c) => c.olderVersionPackets],
  // ntpsec's NTPv1 lines. Only mode 3 gets this far (other modes are dropped as bad mode before
  // any version is counted), so every counted NTPv1 packet is a client request.
  ["ss_ver1", (c) => c.version1ClientPackets],
  ["ss_ver1client", (c) => c.version1ClientPackets],
  ["ss_ver1zero", () => 0],
  ["ss_ver1symm", () => 0],
  ["ss_badformat", (c) => c.badFormatPackets],
  ["ss_badauth", (c) => c.badAuthPackets],
  ["ss_declined", (c) => c.declinedPackets],
  ["ss_restricted", (c) => c.restrictedPackets],
  ["ss_limited", (c) => c.rateLimitedPackets],
  ["ss_kodsent", (c) => c.kodSentPackets],
  ["ss_processed", (c) => c.servedPackets],
];

/** The NTS client counters of every NTS upstream, summed. */
function ntsClientSum(view: ControlView, pick: (nts: ControlPeerNts) => number): number {
  let sum = 0;
  for (const peer of view.peers) if (peer.nts !== undefined) sum += pick(peer.nts);
  return sum;
}

/**
 * ntpsec's NTS variables (its `ntpq -c nts` command reads them): the server side from our
 * counters, the client side summed over the NTS upstreams.
 */
const ntsVariables: readonly [string, (c: ServerCounters, view: ControlView) => number][] = [
  ["nts_client_send", (_, v) => ntsClientSum(v, (n) => n.requests)],
  ["nts_client_recv_good", (_, v) => ntsClientSum(v, (n) => n.authenticated)],
  ["nts_client_recv_bad", (_, v) => ntsClientSum(v, (n) => n.dropped + n.naks)],
  ["nts_server_send", (c) => c.ntsServedPackets],
  ["nts_server_recv_good", (c) => c.ntsServedPackets],
  ["nts_server_recv_bad", (c) => c.ntsBadPackets],
  ["nts_cookie_make", (c) => c.ntsCookiesMade],
  ["nts_cookie_decode", (c) => c.ntsServedPackets + c.badAuthPackets],
  ["nts_cookie_decode_error", (c) => c.ntsNakPackets],
  ["nts_ke_serves_good", (c) => c.ntsKeGood],
  ["nts_ke_serves_bad", (c) => c.ntsKeBad],
  ["nts_ke_probes_good", (_, v) => ntsClientSum(v, (n) => n.keyExchangesGood)],
  ["nts_ke_probes_bad", (_, v) => ntsClientSum(v, (n) => n.keyExchangeFailures)],
];

/**
 * Every system variable in output order. The default list follows ntpsec 1.2 (leap, stratum,
 * precision, rootdelay, rootdisp, refid, reftime, tc, ...), which puts everything ntpstat reads
 * (stratum, rootdisp, rootdelay, tc, refid) in the first 200 bytes, and `tc` before `mintc`
 * (ntpstat finds "tc=" with strstr). Times are in ms, frequencies in ppm. The named-only
 * variables answer `ntpq -c sysinfo` and `-c sysstats` style requests.
 */
export const systemVariables: readonly SystemVariable[] = [
  listed("leap", ({ subject }) => String(subject.leap)),
  listed("stratum", ({ subject }) => String(subject.stratum)),
  listed("precision", ({ subject }) => String(subject.precisionLog2)),
  listed("rootdelay", ({ subject }) => formatMilliseconds(subject.rootDelaySeconds, 3)),
  listed("rootdisp", ({ subject }) => formatMilliseconds(subject.rootDispersionSeconds, 3)),
  named(
    "rootdist",
    ({ subject }) =>
      formatMilliseconds(subject.rootDelaySeconds / 2 + subject.rootDispersionSeconds, 3),
  ),
  listed("refid", ({ subject }) => formatRefidValue(subject.referenceId, subject.stratum)),
  listed("reftime", ({ subject }) => formatTimestampHex(subject.referenceTime)),
  listed("tc", ({ subject }) => String(subject.pollLog2)),
  listed("peer", ({ subject }) => String(subject.systemPeerAssociationId)),
  named("peeradr", ({ subject, view }) => {
    const peer = view.peers.find((p) => p.associationId === subject.systemPeerAssociationId);
    if (peer === undefined) return "0.0.0.0:0";
    const host = peer.sourceAddress.includes(":") ? `[${peer.sourceAddress}]` : peer.sourceAddress;
    return `${host}:${peer.sourcePort}`;
  }),
  named("peermode", ({ subject, view }) => {
    const peer = view.peers.find((p) => p.associationId === subject.systemPeerAssociationId);
    return String(peer?.hostMode ?? 0);
  }),
  listed("offset", ({ subject }) => formatMilliseconds(subject.offsetSeconds, 6)),
  listed("frequency", ({ subject }) => formatFixed(subject.frequencyPpm, 6)),
  listed("sys_jitter", ({ subject }) => formatMilliseconds(subject.systemJitterSeconds, 6)),
  listed("clk_jitter", ({ subject }) => formatMilliseconds(subject.clockJitterSeconds, 6)),
  listed("clock", ({ now }) => formatTimestampHex(now)),
  listed("processor", ({ subject }) => formatQuoted(subject.processor)),
  listed("system", ({ subject }) => formatQuoted(subject.system)),
  listed("version", ({ subject }) => formatQuoted(subject.version)),
  listed("clk_wander", ({ subject }) => formatFixed(subject.clockWanderPpm, 6)),
  // ntpd's leap-seconds file variables (with a file only, see systemVariableApplies).
  listed("tai", ({ subject }) => String(subject.leapFile?.taiOffsetSeconds ?? 0)),
  listed("leapsec", ({ subject }) => ntpdLeapTime(subject.leapFile?.lastLeapUnixSeconds ?? 0)),
  listed("expire", ({ subject }) => ntpdLeapTime(subject.leapFile?.expiresUnixSeconds ?? 0)),
  // NTPsec's smearing variables (while smearing is configured, see systemVariableApplies).
  listed("leapsmearinterval", ({ subject }) => String(subject.leapSmear?.intervalSeconds ?? 0)),
  listed(
    "leapsmearoffset",
    ({ subject }) => formatMilliseconds(subject.leapSmear?.offsetSeconds ?? 0, 3),
  ),
  listed("mintc", ({ subject }) => String(subject.minPollLog2)),
  named("authdelay", () => formatFixed(0, 6)),
  named("ss_uptime", ({ subject }) => String(Math.max(0, Math.floor(subject.uptimeSeconds)))),
  named("ss_reset", ({ subject }) => String(Math.max(0, Math.floor(subject.uptimeSeconds)))),
  // The counters are never reset, so "since reset" is the uptime too.
  named("ss_reset_r", ({ subject }) => String(Math.max(0, Math.floor(subject.uptimeSeconds)))),
  named("ss_numctlreq", ({ subject }) => String(subject.counters.controlRequests)),
  // ntpsec's NTS counters (ntpq -c nts): server side, and client side over the NTS upstreams.
  ...ntsVariables.map(([name, pick]) =>
    named(name, ({ subject, view }) => String(pick(subject.counters, view)))
  ),
  // ntpq -c monstats: the client (MRU) tables, in ntpq's order. They are allocated whole at
  // start and an entry is only ever given to another client when they are full (the least
  // recently seen one, whatever its age): so every entry in use holds one hash slot, the peak
  // is the depth, entries are reclaimed only above the maximum, and no age limit applies.
  named("mru_enabled", () => "1"),
  named("mru_hashslots", ({ subject }) => String(subject.counters.clientTableEntries)),
  named("mru_depth", ({ subject }) => String(subject.counters.clientTableEntries)),
  named("mru_deepest", ({ subject }) => String(subject.counters.clientTableEntries)),
  named("mru_maxdepth", ({ subject }) => String(subject.counters.clientTableCapacity)),
  named("mru_mindepth", ({ subject }) => String(subject.counters.clientTableCapacity)),
  named("mru_maxage", () => "0"),
  named("mru_minage", () => "0"),
  named("mru_mem", ({ subject }) => {
    const c = subject.counters;
    const bytes = c.clientTableCapacity === 0
      ? 0
      : (c.clientTableBytes * c.clientTableEntries) / c.clientTableCapacity;
    return String(Math.ceil(bytes / 1024));
  }),
  named("mru_maxmem", ({ subject }) => String(Math.ceil(subject.counters.clientTableBytes / 1024))),
  named("mru_exists", ({ subject }) => String(subject.counters.clientsExisting)),
  named("mru_new", ({ subject }) => String(subject.counters.clientsNew)),
  named("mru_recycleold", () => "0"),
  named("mru_recyclefull", ({ subject }) => String(subject.counters.clientsRecycled)),
  named("mru_none", () => "0"),
  named(
    "mru_oldest_age",
    ({ subject }) => String(Math.floor(subject.counters.clientTableOldestAgeSeconds)),
  ),
  ...counterVariables.flatMap(([name, pick]): SystemVariable[] => [
    named(name, ({ subject }) => String(pick(subject.counters))),
    named(`${name}_r`, ({ subject }) => String(pick(subject.counters))),
  ]),
];

const leapFileVariables = new Set(["tai", "leapsec", "expire"]);
const leapSmearVariables = new Set(["leapsmearinterval", "leapsmearoffset"]);

/**
 * True when `definition` should appear in a default (empty) system variable list: the leap-file
 * variables only when a leap-seconds file was read, as ntpd does, and the smearing ones only
 * while smearing is configured, as NTPsec does.
 *
 * @example
 * ```ts
 * import type { ControlSystemView } from "./control_view.ts";
 * declare const system: ControlSystemView;
 * systemVariables.filter((d) => d.listedByDefault && systemVariableApplies(d, system));
 * ```
 */
export function systemVariableApplies(
  definition: SystemVariable,
  system: ControlSystemView,
): boolean {
  if (leapSmearVariables.has(definition.name)) return system.leapSmear !== undefined;
  return !leapFileVariables.has(definition.name) || system.leapFile !== undefined;
}
