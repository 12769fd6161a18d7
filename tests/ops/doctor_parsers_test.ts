// The doctor's readers of tool output: firewall listings (nft, ufw, firewalld, iptables), ss and /proc/net/udp, and /proc status capabilities.
import assert from "node:assert/strict";
import { checkFirewall } from "../../src/core/doctor/firewall_check.ts";
import {
  judgeFirewalld,
  judgeIptablesRules,
  judgeNftRuleset,
  judgeUfwStatus,
  portSpecMatches,
} from "../../src/core/doctor/firewall_rules.ts";
import {
  ownersConflictingWith,
  parseProcNetUdp,
  parseSsUdpOwners,
  socketInodeOfLink,
} from "../../src/core/doctor/port_owner_parsing.ts";
import { capEffHoldsSysTime } from "../../src/io/process_table.ts";

/** `nft list ruleset` of a typical host firewall (as nft 1.0.6 prints it). */
const nftOpen = `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		tcp dport 22 accept
		udp dport { 123, 323 } accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
}
`;

const nftClosed = `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related counter packets 10 bytes 840 accept
		tcp dport 22 accept
		udp dport 53 accept
	}
}
`;

Deno.test("portSpecMatches() reads single ports, sets, ranges and service names, and gives up on named sets", () => {
  assert.equal(portSpecMatches("123", 123), true);
  assert.equal(portSpecMatches("{ 53, 123 }", 123), true);
  assert.equal(portSpecMatches("100-200", 123), true);
  assert.equal(portSpecMatches("1000:2000", 123), false);
  assert.equal(portSpecMatches("ntp", 123), true);
  assert.equal(portSpecMatches("{ 22, 53 }", 123), false);
  assert.equal(portSpecMatches("@allowed_udp", 123), null);
  assert.equal(portSpecMatches("!= 123", 123), null);
});

Deno.test("judgeNftRuleset(): an empty ruleset and an accept rule for the port are open", () => {
  assert.equal(judgeNftRuleset("", 123).verdict, "open");
  const open = judgeNftRuleset(nftOpen, 123);
  assert.equal(open.verdict, "open");
  assert.match(open.reason, /udp dport \{ 123, 323 \} accept" accepts UDP 123/);
});

Deno.test("judgeNftRuleset(): policy drop without an accept rule for the port is closed, with the insert command for that chain", () => {
  const closed = judgeNftRuleset(nftClosed, 123);
  assert.equal(closed.verdict, "closed");
  assert.equal(
    closed.reason,
    "chain inet filter input: policy drop and no rule accepts UDP 123 from everywhere",
  );
  assert.equal(closed.openCommand, "nft insert rule inet filter input udp dport 123 accept");
  // The same ruleset is open for port 53.
  assert.equal(judgeNftRuleset(nftClosed, 53).verdict, "open");
});

Deno.test("judgeNftRuleset(): an explicit drop before the policy, jumps, source-limited accepts and other hooks", () => {
  const dropFirst = `table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		meta l4proto udp th dport 123 counter packets 0 bytes 0 drop
	}
}
`;
  assert.equal(judgeNftRuleset(dropFirst, 123).verdict, "closed");
  const jump = `table inet fw {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "eth0" jump wan_in
	}
	chain wan_in {
		udp dport 123 accept
	}
}
`;
  const jumped = judgeNftRuleset(jump, 123);
  assert.equal(jumped.verdict, "unknown");
  assert.match(jumped.reason, /jumps elsewhere/);
  const fromLan = `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ip saddr 10.0.0.0/8 udp dport 123 accept
	}
}
`;
  assert.equal(judgeNftRuleset(fromLan, 123).verdict, "closed", "only the LAN gets in");
  const outputOnly = `table inet filter {
	chain output {
		type filter hook output priority filter; policy drop;
	}
}
`;
  assert.equal(judgeNftRuleset(outputOnly, 123).verdict, "open");
  const namedSet = `table inet filter {
	set ntp_ports {
		type inet_service
		elements = { 123 }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		udp dport @ntp_ports accept
	}
}
`;
  assert.equal(judgeNftRuleset(namedSet, 123).verdict, "unknown");
});

Deno.test("judgeUfwStatus(): inactive is open, an ALLOW from Anywhere is open, default deny without it is closed", () => {
  assert.equal(judgeUfwStatus("Status: inactive\n", 123).verdict, "open");
  const header = `Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW IN    Anywhere
`;
  const closed = judgeUfwStatus(header, 123);
  assert.equal(closed.verdict, "closed");
  assert.equal(closed.openCommand, "ufw allow 123/udp");
  assert.equal(
    judgeUfwStatus(`${header}123/udp                    ALLOW IN    Anywhere\n`, 123).verdict,
    "open",
  );
  assert.equal(
    judgeUfwStatus(`${header}123/udp                    ALLOW IN    10.0.0.0/8\n`, 123).verdict,
    "closed",
  );
  assert.equal(
    judgeUfwStatus(`${header}NTP                        ALLOW IN    Anywhere\n`, 123).verdict,
    "unknown",
  );
});

Deno.test("judgeFirewalld(): not running, the ntp service or the port open it; otherwise closed, unknown with rich rules", () => {
  assert.equal(judgeFirewalld("FirewallD is not running\n", 123).verdict, "open");
  const zone = (services: string, ports: string, rich = "") =>
    `public (active)
  target: default
  icmp-block-inversion: no
  interfaces: eth0
  sources: 
  services: ${services}
  ports: ${ports}
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: ${rich}
`;
  assert.equal(judgeFirewalld(zone("dhcpv6-client ssh ntp", ""), 123).verdict, "open");
  assert.equal(judgeFirewalld(zone("ssh", "123/udp"), 123).verdict, "open");
  const closed = judgeFirewalld(zone("dhcpv6-client ssh", ""), 123);
  assert.equal(closed.verdict, "closed");
  assert.equal(
    closed.openCommand,
    "firewall-cmd --permanent --add-service=ntp && firewall-cmd --reload",
  );
  assert.equal(
    judgeFirewalld(
      zone(
        "ssh",
        "",
        '\n\trule family="ipv4" source address="10.0.0.0/8" port port="123" protocol="udp" accept',
      ),
      123,
    ).verdict,
    "unknown",
  );
});

Deno.test("judgeIptablesRules(): policy, an ACCEPT for the port, and a jump to a user chain", () => {
  assert.equal(judgeIptablesRules("-P INPUT ACCEPT\n", 123).verdict, "open");
  assert.equal(
    judgeIptablesRules("-P INPUT DROP\n-A INPUT -i lo -j ACCEPT\n", 123).verdict,
    "closed",
  );
  assert.equal(
    judgeIptablesRules("-P INPUT DROP\n-A INPUT -p udp -m udp --dport 123 -j ACCEPT\n", 123)
      .verdict,
    "open",
  );
  assert.equal(
    judgeIptablesRules(
      "-P INPUT DROP\n-A INPUT -p udp -m multiport --dports 53,123 -j ACCEPT\n",
      123,
    ).verdict,
    "open",
  );
  assert.equal(
    judgeIptablesRules("-P INPUT DROP\n-A INPUT -j ufw-before-input\n", 123).verdict,
    "unknown",
  );
});

Deno.test("checkFirewall() fails on any closed listing, warns when a tool cannot be read or none is installed", () => {
  const missing = ["nft", "ufw", "firewall-cmd", "iptables"].map((tool) => ({
    tool: tool as "nft",
    kind: "missing" as const,
  }));
  const none = checkFirewall({ port: 123, listings: missing });
  assert.equal(none.status, "warn");
  assert.match(none.detail, /no firewall tool found/);
  const closed = checkFirewall({
    port: 123,
    listings: [{ tool: "nft", kind: "ran", code: 0, stdout: nftClosed, stderr: "" }],
  });
  assert.equal(closed.status, "fail");
  assert.equal(closed.fix, "nft insert rule inet filter input udp dport 123 accept");
  const denied = checkFirewall({
    port: 123,
    listings: [{
      tool: "nft",
      kind: "ran",
      code: 1,
      stdout: "",
      stderr: "Operation not permitted (you must be root)\n",
    }],
  });
  assert.equal(denied.status, "warn");
  assert.match(denied.detail, /nft list ruleset failed \(exit 1: Operation not permitted/);
  const firewalldStopped = checkFirewall({
    port: 123,
    listings: [{
      tool: "firewall-cmd",
      kind: "ran",
      code: 252,
      stdout: "",
      stderr: "FirewallD is not running\n",
    }],
  });
  assert.equal(firewalldStopped.status, "ok");
});

Deno.test("parseSsUdpOwners() reads every holder of the port from ss -Hulpn", () => {
  const text = [
    'UNCONN 0      0        127.0.0.1:123  0.0.0.0:* users:(("chronyd",pid=812,fd=5))  ',
    'UNCONN 0      0        0.0.0.0:123  0.0.0.0:* users:(("ntp",pid=900,fd=7),("ntp",pid=900,fd=9))',
    'UNCONN 0      0        [::1]:1123  [::]:* users:(("other",pid=1,fd=3))',
    'UNCONN 0      0        *:123  *:* users:(("ntpd",pid=77,fd=20))',
  ].join("\n");
  assert.deepEqual(parseSsUdpOwners(text, 123), [
    { pid: 812, name: "chronyd", localAddress: "127.0.0.1:123" },
    { pid: 900, name: "ntp", localAddress: "0.0.0.0:123" },
    { pid: 77, name: "ntpd", localAddress: "*:123" },
  ]);
});

Deno.test("ownersConflictingWith() keeps the same address, wildcards of its family and dual-stack sockets", () => {
  const owners = [
    { pid: 1, name: "a", localAddress: "127.0.0.1:123" },
    { pid: 2, name: "b", localAddress: "10.0.0.1:123" },
    { pid: 3, name: "c", localAddress: "[::1]:123" },
    { pid: 4, name: "d", localAddress: "*:123" },
    { pid: 5, name: "e", localAddress: "0.0.0.0:123" },
  ];
  const pids = (hostname: string, family: 4 | 6) =>
    ownersConflictingWith(owners, { hostname, family }).map((o) => o.pid);
  assert.deepEqual(pids("127.0.0.1", 4), [1, 4, 5]);
  assert.deepEqual(pids("0.0.0.0", 4), [1, 2, 4, 5]);
  assert.deepEqual(pids("::", 6), [3, 4]);
});

Deno.test("parseProcNetUdp() decodes little-endian addresses and ports, IPv4 and IPv6, and keeps the inode", () => {
  const udp =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
    "  1: 0100007F:007B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 190476 2 0000000089e1c512 0\n" +
    "  2: 00000000:9D5B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 191224 2 000000004fdffd43 0\n";
  assert.deepEqual(parseProcNetUdp(udp, 123), [{ localAddress: "127.0.0.1:123", inode: 190476 }]);
  const udp6 =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
    "15795: 00000000000000000000000001000000:007B 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 190467 2 00000000f7aa2034 0\n" +
    "15796: 00000000000000000000000000000000:007B 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 190468 2 00000000f7aa2034 0\n";
  assert.deepEqual(parseProcNetUdp(udp6, 123), [
    { localAddress: "[::1]:123", inode: 190467 },
    { localAddress: "[::]:123", inode: 190468 },
  ]);
  assert.equal(socketInodeOfLink("socket:[190476]"), 190476);
  assert.equal(socketInodeOfLink("/dev/null"), null);
});

Deno.test("capEffHoldsSysTime() reads bit 25 of CapEff", () => {
  assert.equal(capEffHoldsSysTime("Name:\tchronyd\nCapEff:\t000001fffeffffff\n"), true);
  assert.equal(capEffHoldsSysTime("CapEff:\t000001fffcffffff\n"), false);
  assert.equal(capEffHoldsSysTime("Name:\tx\n"), null);
});
