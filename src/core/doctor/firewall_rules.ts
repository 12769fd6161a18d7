// Reads firewall listings (nft list ruleset, ufw status verbose, firewall-cmd --list-all, iptables -S INPUT) and judges, conservatively, whether inbound UDP to a port gets in.
//
// "open" and "closed" are only claimed when the listing shows it plainly: a rule that accepts
// (or drops) every UDP packet to the port, or a chain's policy reached without such a rule.
// Anything the reader cannot follow (jumps, named sets, negations, source-limited rules) makes
// the answer "unknown", which the doctor reports as a warning with the command to run.

/** The reader's answer for one tool. */
export interface FirewallVerdict {
  readonly verdict: "open" | "closed" | "unknown";
  /** Why, in words ("chain inet filter input: policy drop and no rule accepts UDP 123"). */
  readonly reason: string;
  /** The command that opens the port with this tool. */
  readonly openCommand: string;
}

/** Whether a port list ("123", "{ 123, 323 }", "100-200", "ntp", "100:200", "123,323") holds `port`; null when it cannot tell. */
export function portSpecMatches(spec: string, port: number): boolean | null {
  const text = spec.trim().replace(/^\{\s*/, "").replace(/\s*\}$/, "");
  if (text.startsWith("@") || text.startsWith("!=") || text.startsWith("$")) return null;
  let unknown = false;
  for (const item of text.split(/\s*,\s*/)) {
    if (item === "") continue;
    const range = /^(\d+)\s*[-:]\s*(\d+)$/.exec(item);
    if (range !== null) {
      if (port >= Number(range[1]) && port <= Number(range[2])) return true;
      continue;
    }
    if (/^\d+$/.test(item)) {
      if (Number(item) === port) return true;
      continue;
    }
    if (item === "ntp") {
      if (port === 123) return true;
      continue;
    }
    unknown = true;
  }
  return unknown ? null : false;
}

type Applies = "all" | "some" | "none" | "unknown";
type RuleAction = "accept" | "drop" | "jump" | "other";

/** Walks classified rules in order; the first decisive one, else the policy, decides. */
function walkChain(
  rules: readonly {
    readonly applies: Applies;
    readonly action: RuleAction;
    readonly text: string;
  }[],
  { policy, port }: { readonly policy: "accept" | "drop"; readonly port: number },
): { readonly verdict: FirewallVerdict["verdict"]; readonly why: string } {
  for (const rule of rules) {
    if (rule.applies === "none" || rule.action === "other") continue;
    if (rule.action === "jump") {
      return { verdict: "unknown", why: `it jumps elsewhere ("${rule.text}")` };
    }
    if (rule.applies === "unknown") {
      return { verdict: "unknown", why: `cannot tell whether "${rule.text}" matches UDP ${port}` };
    }
    if (rule.applies === "all") {
      return rule.action === "accept"
        ? { verdict: "open", why: `"${rule.text}" accepts UDP ${port}` }
        : { verdict: "closed", why: `"${rule.text}" drops UDP ${port}` };
    }
  }
  return policy === "drop"
    ? { verdict: "closed", why: `policy drop and no rule accepts UDP ${port} from everywhere` }
    : { verdict: "open", why: "policy accept and no rule drops it" };
}

/** Classifies one nft rule for inbound UDP to `port`. */
function classifyNftRule(line: string, port: number): { applies: Applies; action: RuleAction } {
  let text = line.replace(/comment\s+"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\bcounter(\s+packets\s+\d+\s+bytes\s+\d+)?/g, " ")
    .replace(/\blog\b(\s+(prefix\s+"(?:[^"\\]|\\.)*"|level\s+\S+|flags\s+\S+|group\s+\d+))*/g, " ");
  const verdict = /\b(accept|drop|reject|jump|goto|return|queue)\b.*$/.exec(text);
  if (verdict === null) return { applies: "none", action: "other" };
  const word = verdict[1]!;
  const action: RuleAction = word === "accept"
    ? "accept"
    : word === "drop" || word === "reject"
    ? "drop"
    : word === "jump" || word === "goto" || word === "queue"
    ? "jump"
    : "other";
  text = text.slice(0, verdict.index);
  let applies: Applies = "all";
  const protocol = /\b(?:meta\s+l4proto|ip\s+protocol|ip6\s+nexthdr)\s+(\{[^}]*\}|!=\s*\S+|\S+)/
    .exec(text);
  if (protocol !== null) {
    const spec = protocol[1]!;
    if (spec.startsWith("!=")) applies = "unknown";
    else if (!/\budp\b|\b17\b/.test(spec)) return { applies: "none", action };
    text = text.replace(protocol[0], " ");
  }
  const dport = /\b(?:udp|th)\s+dport\s+(\{[^}]*\}|!=\s*\S+|\S+)/.exec(text);
  if (dport !== null) {
    const matches = portSpecMatches(dport[1]!, port);
    if (matches === false) return { applies: "none", action };
    if (matches === null) applies = "unknown";
    text = text.replace(dport[0], " ");
  }
  if (/\b(tcp|icmp|icmpv6|sctp|dccp|igmp)\b/.test(text)) return { applies: "none", action };
  if (text.trim() !== "" && applies === "all") applies = "some";
  return { applies, action };
}

/**
 * Judges `nft list ruleset`: every base chain on the input hook of an ip, ip6 or inet table
 * must let UDP `port` through (a packet passes all of them).
 *
 * @example
 * ```ts
 * judgeNftRuleset("", 123).verdict; // "open" (no rules at all)
 * ```
 */
export function judgeNftRuleset(text: string, port: number): FirewallVerdict {
  const chains: {
    name: string;
    policy: "accept" | "drop";
    rules: { applies: Applies; action: RuleAction; text: string }[];
  }[] = [];
  let table: { family: string; name: string } | null = null;
  let chain: (typeof chains)[number] | null = null;
  let inputHook = false;
  let depth = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const opened = (line.match(/\{/g) ?? []).length;
    const closed = (line.match(/\}/g) ?? []).length;
    const tableMatch = /^table\s+(\S+)\s+(\S+)\s*\{$/.exec(line);
    const chainMatch = /^chain\s+(\S+)\s*\{$/.exec(line);
    if (depth === 0 && tableMatch !== null) {
      table = { family: tableMatch[1]!, name: tableMatch[2]! };
    } else if (depth === 1 && chainMatch !== null && table !== null) {
      chain = {
        name: `${table.family} ${table.name} ${chainMatch[1]}`,
        policy: "accept",
        rules: [],
      };
      inputHook = false;
    } else if (depth === 2 && chain !== null) {
      const hook = /\btype\s+filter\s+hook\s+(\w+)/.exec(line);
      if (hook !== null) {
        inputHook = hook[1] === "input" && ["ip", "ip6", "inet"].includes(table?.family ?? "");
        if (/\bpolicy\s+drop\b/.test(line)) chain.policy = "drop";
      } else if (line !== "}") {
        const rule = classifyNftRule(line, port);
        // A rule whose set continues on the next lines is not read whole.
        const whole = opened === closed || rule.applies === "none";
        chain.rules.push({ ...rule, ...(whole ? {} : { applies: "unknown" }), text: line });
      }
    }
    depth += opened - closed;
    if (depth === 1 && chain !== null) {
      if (inputHook) chains.push(chain);
      chain = null;
    }
    if (depth === 0) table = null;
  }
  const first = chains[0]?.name.split(" ") ?? ["inet", "filter", "input"];
  const openCommand = `nft insert rule ${first.join(" ")} udp dport ${port} accept`;
  if (chains.length === 0) {
    return { verdict: "open", reason: "nftables has no input filter chain", openCommand };
  }
  const results = chains.map((c) => ({
    chain: c,
    ...walkChain(c.rules, { policy: c.policy, port }),
  }));
  const closedChain = results.find((r) => r.verdict === "closed");
  const unknownChain = results.find((r) => r.verdict === "unknown");
  const decisive = closedChain ?? unknownChain;
  if (decisive !== undefined) {
    const [family, tableName, chainName] = decisive.chain.name.split(" ");
    return {
      verdict: decisive.verdict,
      reason: `chain ${decisive.chain.name}: ${decisive.why}`,
      openCommand: `nft insert rule ${family} ${tableName} ${chainName} udp dport ${port} accept`,
    };
  }
  return {
    verdict: "open",
    reason: results.map((r) => `chain ${r.chain.name}: ${r.why}`).join("; "),
    openCommand,
  };
}

/**
 * Judges `ufw status verbose`: inactive is open; otherwise the first rule for UDP `port` from
 * Anywhere decides, else the default incoming policy.
 */
export function judgeUfwStatus(text: string, port: number): FirewallVerdict {
  const openCommand = `ufw allow ${port}/udp`;
  if (/^Status:\s*inactive/m.test(text)) {
    return { verdict: "open", reason: "ufw is inactive", openCommand };
  }
  if (!/^Status:\s*active/m.test(text)) {
    return { verdict: "unknown", reason: "cannot read the ufw status", openCommand };
  }
  const rules: { applies: Applies; action: RuleAction; text: string }[] = [];
  let inTable = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (/^--\s+/.test(line)) {
      inTable = true;
      continue;
    }
    if (!inTable || line === "") continue;
    const [to, action, from] = line.split(/\s{2,}/);
    if (to === undefined || action === undefined || from === undefined) continue;
    if (/\bOUT\b/.test(action) || /\bFWD\b/.test(action)) continue;
    const toMatch = /^(Anywhere|[\d,:]+)(?:\/(udp|tcp))?(?: \(v6\))?(?: on \S+)?$/.exec(to);
    let applies: Applies;
    if (toMatch === null) applies = "unknown";
    else if (toMatch[2] === "tcp") applies = "none";
    else if (toMatch[1] === "Anywhere") applies = "all";
    else applies = portSpecMatches(toMatch[1]!, port) ? "all" : "none";
    if (applies === "all" && (!/^Anywhere/.test(from) || / on /.test(to))) applies = "some";
    const ruleAction: RuleAction = /^(ALLOW|LIMIT)/.test(action)
      ? "accept"
      : /^(DENY|REJECT)/.test(action)
      ? "drop"
      : "other";
    rules.push({ applies, action: ruleAction, text: line.replace(/\s{2,}/g, " ") });
  }
  const defaultIncoming = /^Default:\s*(\w+)\s*\(incoming\)/m.exec(text)?.[1];
  if (defaultIncoming === undefined) {
    return { verdict: "unknown", reason: "ufw is active; default policy unknown", openCommand };
  }
  const { verdict, why } = walkChain(rules, {
    policy: defaultIncoming === "allow" ? "accept" : "drop",
    port,
  });
  return { verdict, reason: `ufw is active: ${why}`, openCommand };
}

/**
 * Judges `firewall-cmd --list-all` (or its "not running" message): open when the zone's
 * target is ACCEPT, or it lists the ntp service or the port; unknown with rich rules.
 */
export function judgeFirewalld(text: string, port: number): FirewallVerdict {
  const openCommand = port === 123
    ? "firewall-cmd --permanent --add-service=ntp && firewall-cmd --reload"
    : `firewall-cmd --permanent --add-port=${port}/udp && firewall-cmd --reload`;
  if (/not running/i.test(text)) {
    return { verdict: "open", reason: "firewalld is not running", openCommand };
  }
  const field = (name: string) =>
    new RegExp(`^\\s*${name}:[ \\t]*(.*)$`, "m").exec(text)?.[1]?.trim() ?? null;
  const zone = /^(\S+)(?: \((?:active|default)[^)]*\))?\s*$/m.exec(text)?.[1] ?? "the zone";
  const target = field("target");
  const services = field("services");
  const ports = field("ports");
  if (target === null && services === null) {
    return { verdict: "unknown", reason: "cannot read firewall-cmd --list-all", openCommand };
  }
  if (target === "ACCEPT") {
    return { verdict: "open", reason: `zone ${zone} accepts everything`, openCommand };
  }
  if (port === 123 && (services ?? "").split(/\s+/).includes("ntp")) {
    return { verdict: "open", reason: `zone ${zone} allows the ntp service`, openCommand };
  }
  for (const item of (ports ?? "").split(/\s+/)) {
    const [range, protocol] = item.split("/");
    if (protocol === "udp" && range !== undefined && portSpecMatches(range, port)) {
      return { verdict: "open", reason: `zone ${zone} allows ${item}`, openCommand };
    }
  }
  const rich = /^\s*rich rules:[ \t]*\n((?:[ \t]+\S.*\n?)+)/m.exec(text)?.[1]?.trim() ?? "";
  if (rich !== "") {
    return {
      verdict: "unknown",
      reason: `zone ${zone} does not list UDP ${port}; it has rich rules the doctor does not read`,
      openCommand,
    };
  }
  return {
    verdict: "closed",
    reason: `zone ${zone} (target ${
      target ?? "default"
    }) allows neither the ntp service nor ${port}/udp`,
    openCommand,
  };
}

/** Classifies one `iptables -S` rule ("-A INPUT ... -j TARGET"). */
function classifyIptablesRule(
  line: string,
  port: number,
): { applies: Applies; action: RuleAction } {
  const target = /\s-j\s+(\S+)/.exec(line)?.[1];
  if (target === undefined) return { applies: "none", action: "other" };
  const action: RuleAction = target === "ACCEPT"
    ? "accept"
    : target === "DROP" || target === "REJECT"
    ? "drop"
    : target === "RETURN" || target === "LOG"
    ? "other"
    : "jump";
  let rest = ` ${line.replace(/^-A\s+\S+/, "").replace(/\s-j\s+.*$/, "")} `;
  let applies: Applies = "all";
  const protocol = /\s(!\s+)?-p\s+(\S+)/.exec(rest);
  if (protocol !== null) {
    if (protocol[1] !== undefined) applies = "unknown";
    else if (protocol[2] !== "udp" && protocol[2] !== "all") return { applies: "none", action };
    rest = rest.replace(protocol[0], " ");
  }
  const dport = /\s(!\s+)?--(?:dport|dports|destination-ports?)\s+(\S+)/.exec(rest);
  if (dport !== null) {
    const matches = dport[1] !== undefined ? null : portSpecMatches(dport[2]!, port);
    if (matches === false) return { applies: "none", action };
    if (matches === null) applies = "unknown";
    rest = rest.replace(dport[0], " ");
  }
  rest = rest.replace(/\s-m\s+(udp|multiport|comment)\b/g, " ").replace(
    /\s--comment\s+("(?:[^"\\]|\\.)*"|\S+)/g,
    " ",
  );
  if (rest.trim() !== "" && applies === "all") applies = "some";
  return { applies, action };
}

/** Judges `iptables -S INPUT`: the first rule for UDP `port` from everywhere, else the policy. */
export function judgeIptablesRules(text: string, port: number): FirewallVerdict {
  const openCommand = `iptables -I INPUT -p udp --dport ${port} -j ACCEPT ` +
    `(and ip6tables -I INPUT -p udp --dport ${port} -j ACCEPT)`;
  const policy = /^-P\s+INPUT\s+(\S+)/m.exec(text)?.[1];
  if (policy === undefined) {
    return { verdict: "unknown", reason: "cannot read iptables -S INPUT", openCommand };
  }
  const rules = text.split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("-A INPUT"))
    .map((line) => ({ ...classifyIptablesRule(line, port), text: line }));
  const { verdict, why } = walkChain(rules, {
    policy: policy === "ACCEPT" ? "accept" : "drop",
    port,
  });
  return { verdict, reason: `iptables INPUT: ${why}`, openCommand };
}
