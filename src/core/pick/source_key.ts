// What a server's time comes from, as far as its replies tell: the key that keeps a pick from resting on one reference.
import { formatRefid, refidToDottedQuad } from "../packet/refid.ts";

/** Second-level labels under which registrable domains sit one level deeper (co.uk, ac.jp, ...). */
const secondLevel = new Set(["ac", "co", "com", "edu", "gov", "ne", "net", "or", "org", "go"]);

/**
 * The operator of a host, roughly: the registrable domain of a name (`ptbtime1.ptb.de` ->
 * `ptb.de`, `ntp1.npl.co.uk` -> `npl.co.uk`), the /24 of an IPv4 address, the /48 of an IPv6 one
 * (given as an IP literal, IPv6 without brackets).
 *
 * @example
 * ```ts
 * operatorOf("time-a-g.nist.gov"); // "nist.gov"
 * operatorOf("192.0.2.7");         // "192.0.2.0/24"
 * ```
 */
export function operatorOf(host: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return `${host.split(".").slice(0, 3).join(".")}.0/24`;
  if (host.includes(":")) return `${expandIpv6(host.toLowerCase()).slice(0, 3).join(":")}::/48`;
  const labels = host.toLowerCase().replace(/\.$/, "").split(".");
  const tld = labels.at(-1) ?? "";
  const sld = labels.at(-2) ?? "";
  const keep = tld.length === 2 && secondLevel.has(sld) && labels.length >= 3 ? 3 : 2;
  return labels.slice(-keep).join(".");
}

function expandIpv6(canonical: string): string[] {
  const [head = "", tail] = canonical.split("::");
  const front = head === "" ? [] : head.split(":");
  const back = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = Array<string>(Math.max(0, 8 - front.length - back.length)).fill("0");
  return tail === undefined ? front : [...front, ...zeros, ...back];
}

/**
 * A refid as ntpq shows it (formatRefid), except that a stratum 0/1/16 refid that is not
 * printable ASCII is shown as a dotted quad (chronyd's `local` clock sends 127.127.1.1).
 *
 * @example
 * ```ts
 * import { refidFromAscii } from "../packet/refid.ts";
 * refidText(0x7f7f0101, 1); // "127.127.1.1"
 * refidText(refidFromAscii("GPS"), 1); // ".GPS."
 * ```
 */
export function refidText(referenceId: number, stratum: number): string {
  const text = formatRefid(referenceId, stratum);
  return text.startsWith(".") && (text.includes("?") || text === "..")
    ? refidToDottedQuad(referenceId)
    : text;
}

/**
 * The key of the reference a server follows. Above stratum 1 its refid names its own upstream,
 * so servers sharing a refid lean on one server: the key is the refid. At stratum 1 the refid only
 * names the kind of clock ("GPS", "PPS"), so the key is that kind at that operator: two "GPS"
 * servers of one operator likely share a receiver; those of two operators do not.
 *
 * @example
 * ```ts
 * import { refidFromAscii } from "../packet/refid.ts";
 * sourceKey({ host: "ptbtime1.ptb.de", stratum: 1, referenceId: refidFromAscii("PTB") }); // ".PTB.@ptb.de"
 * sourceKey({ host: "a.example", stratum: 2, referenceId: 0xc0000207 });                  // "192.0.2.7"
 * ```
 */
export function sourceKey(
  server: { readonly host: string; readonly stratum: number; readonly referenceId: number },
): string {
  const refid = refidText(server.referenceId, server.stratum);
  return server.stratum <= 1 ? `${refid}@${operatorOf(server.host)}` : refid;
}
