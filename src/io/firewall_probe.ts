// Runs whichever firewall tools are installed (nft, ufw, firewall-cmd, iptables) to list their rules for the doctor; read-only commands only.
import {
  type FirewallListing,
  type FirewallTool,
  firewallTools,
} from "../core/doctor/firewall_check.ts";
import { runProgram } from "./run_program.ts";

/**
 * The listing of every firewall tool, in the order nft, ufw, firewall-cmd, iptables (a missing
 * tool is `{ kind: "missing" }`). Each command only reads: `nft list ruleset`,
 * `ufw status verbose`, `firewall-cmd --list-all`, `iptables -S INPUT`.
 */
export async function readFirewallListings(): Promise<FirewallListing[]> {
  const listings: FirewallListing[] = [];
  for (const tool of Object.keys(firewallTools) as FirewallTool[]) {
    const outcome = await runProgram(firewallTools[tool]);
    listings.push(
      outcome.kind === "ran"
        ? { tool, ...outcome }
        : outcome.kind === "missing"
        ? { tool, kind: "missing" }
        : { tool, kind: "failed", message: outcome.message },
    );
  }
  return listings;
}
