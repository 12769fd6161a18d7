// Doctor check: the host firewall (nftables, ufw, firewalld or iptables, whichever is installed) lets inbound UDP to the NTP port in.
import { fail, type Finding, ok, warn } from "./finding.ts";
import {
  type FirewallVerdict,
  judgeFirewalld,
  judgeIptablesRules,
  judgeNftRuleset,
  judgeUfwStatus,
} from "./firewall_rules.ts";

/** The firewall tools the doctor asks, with the command it runs for each. */
export const firewallTools = {
  nft: ["nft", "list", "ruleset"],
  ufw: ["ufw", "status", "verbose"],
  "firewall-cmd": ["firewall-cmd", "--list-all"],
  iptables: ["iptables", "-S", "INPUT"],
} as const;

/** Name of a firewall tool. */
export type FirewallTool = keyof typeof firewallTools;

/** What running one tool gave. */
export type FirewallListing =
  | { readonly tool: FirewallTool; readonly kind: "missing" }
  | { readonly tool: FirewallTool; readonly kind: "failed"; readonly message: string }
  | {
    readonly tool: FirewallTool;
    readonly kind: "ran";
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
  };

function judge(listing: Extract<FirewallListing, { kind: "ran" }>, port: number): FirewallVerdict {
  const text = `${listing.stdout}\n${listing.stderr}`;
  const verdict = listing.tool === "nft"
    ? judgeNftRuleset(listing.stdout, port)
    : listing.tool === "ufw"
    ? judgeUfwStatus(listing.stdout, port)
    : listing.tool === "firewall-cmd"
    ? judgeFirewalld(text, port)
    : judgeIptablesRules(listing.stdout, port);
  // A failed listing says nothing about the rules (an empty stdout is not an empty ruleset);
  // only firewall-cmd's exit 252 "FirewallD is not running" is an answer.
  const understood = listing.tool === "firewall-cmd" && /not running/i.test(text);
  if (listing.code !== 0 && !understood) {
    const message = listing.stderr.trim().split("\n")[0] ?? "";
    return {
      verdict: "unknown",
      reason: `${firewallTools[listing.tool].join(" ")} failed (exit ${listing.code}${
        message === "" ? "" : `: ${message}`
      })`,
      openCommand: verdict.openCommand,
    };
  }
  return verdict;
}

/**
 * The firewall finding for inbound UDP to `port`, from the listings of the tools present:
 * FAIL when one plainly drops it (with that tool's command to open the port), OK when every
 * tool present lets it in, WARN when one cannot be read or no tool is installed (a firewall in
 * front of the machine is never visible from here: `--public` checks that path).
 *
 * @example
 * ```ts
 * checkFirewall({ port: 123, listings: [{ tool: "ufw", kind: "ran", code: 0,
 *   stdout: "Status: inactive\n", stderr: "" }] }).status; // "ok"
 * ```
 */
export function checkFirewall(
  facts: { readonly port: number; readonly listings: readonly FirewallListing[] },
): Finding {
  const check = "firewall";
  const { port } = facts;
  const judged: { tool: FirewallTool; verdict: FirewallVerdict }[] = [];
  const problems: string[] = [];
  for (const listing of facts.listings) {
    if (listing.kind === "missing") continue;
    if (listing.kind === "failed") {
      problems.push(`${listing.tool}: ${listing.message}`);
      continue;
    }
    // iptables rules show in nft's listing too on nft-based systems; nft is read first.
    if (listing.tool === "iptables" && judged.some((j) => j.tool === "nft")) continue;
    judged.push({ tool: listing.tool, verdict: judge(listing, port) });
  }
  const text = (j: (typeof judged)[number]) => `${j.tool}: ${j.verdict.reason}`;
  const closed = judged.find((j) => j.verdict.verdict === "closed");
  if (closed !== undefined) {
    return fail(
      check,
      `inbound UDP ${port} is blocked: ${text(closed)}`,
      closed.verdict.openCommand,
    );
  }
  const unknown = judged.filter((j) => j.verdict.verdict === "unknown");
  if (unknown.length > 0 || problems.length > 0) {
    const first = unknown[0];
    return warn(
      check,
      `cannot tell whether inbound UDP ${port} gets in: ${
        [...unknown.map(text), ...problems].join("; ")
      }`,
      `${first?.verdict.openCommand ?? `open UDP ${port}`}; then check from outside with ` +
        "ntp doctor --public ADDRESS",
    );
  }
  if (judged.length === 0) {
    return warn(
      check,
      "no firewall tool found (nft, ufw, firewall-cmd, iptables), so nothing here filters " +
        "that the doctor can see; a firewall in front of this machine (router, cloud security " +
        "group) is never visible from here",
      `allow inbound UDP ${port} there (on this machine: nft add rule inet filter input udp dport ${port} accept); ` +
        "then check with ntp doctor --public ADDRESS",
    );
  }
  return ok(check, `inbound UDP ${port} gets in: ${judged.map(text).join("; ")}`);
}
