// Tests server name resolution: literals, the hosts file, DNS through an injected lookup, -4/-6, errors as values.
import assert from "node:assert/strict";
import {
  type DnsLookup,
  lookupHostsText,
  parseIpLiteral,
  resolveServerName,
} from "../../src/io/resolve_name.ts";
import { timeBudgetScale } from "../support/time_budget.ts";

const hosts = `# comment
127.0.0.1 localhost
127.0.1.1   box.example box   # trailing comment
2001:db8::5 box.example
192.0.2.9 BOX.example
`;

const noHosts = () => Promise.resolve("");

function failingDns(calls: string[]): DnsLookup {
  return (name, type) => {
    calls.push(`${type} ${name}`);
    return Promise.reject(new Error("no records found"));
  };
}

Deno.test("parseIpLiteral() accepts dotted quads and IPv6 (with brackets) in canonical form", () => {
  assert.deepEqual(parseIpLiteral("192.0.2.1"), { hostname: "192.0.2.1", family: 4 });
  assert.deepEqual(parseIpLiteral("[2001:DB8:0::1]"), { hostname: "2001:db8::1", family: 6 });
  assert.deepEqual(parseIpLiteral("::1"), { hostname: "::1", family: 6 });
  assert.equal(parseIpLiteral("1.2.3"), null, "no inet_aton short forms");
  assert.equal(parseIpLiteral("fe80::1%eth0"), null, "no zone ids");
  assert.equal(parseIpLiteral("ntp.example"), null);
});

Deno.test("lookupHostsText() finds names case-insensitively, per family, IPv4 first", () => {
  assert.deepEqual(lookupHostsText(hosts, "box.example", null), [
    { hostname: "127.0.1.1", family: 4 },
    { hostname: "192.0.2.9", family: 4 },
    { hostname: "2001:db8::5", family: 6 },
  ]);
  assert.deepEqual(lookupHostsText(hosts, "BOX", 4), [{ hostname: "127.0.1.1", family: 4 }]);
  assert.deepEqual(lookupHostsText(hosts, "box.example.", 6), [
    { hostname: "2001:db8::5", family: 6 },
  ]);
  assert.deepEqual(lookupHostsText(hosts, "comment", null), [], "comments are not names");
  assert.deepEqual(lookupHostsText(hosts, "other", null), []);
});

Deno.test("lookupHostsText() always resolves localhost to loopback, even for IPv6 without an entry", () => {
  assert.deepEqual(lookupHostsText(hosts, "localhost", 6), [{ hostname: "::1", family: 6 }]);
  assert.deepEqual(lookupHostsText("", "localhost", null), [
    { hostname: "127.0.0.1", family: 4 },
    { hostname: "::1", family: 6 },
  ]);
});

Deno.test("resolveServerName() passes literals through without any lookup", async () => {
  const calls: string[] = [];
  const outcome = await resolveServerName("2001:db8::1", { dns: failingDns(calls) });
  assert.deepEqual(outcome, {
    ok: true,
    addresses: [{ hostname: "2001:db8::1", family: 6 }],
    source: "literal",
  });
  assert.deepEqual(calls, []);
});

Deno.test("resolveServerName() refuses a literal of the other family when -4/-6 is forced", async () => {
  assert.deepEqual(await resolveServerName("::1", { family: 4 }), {
    ok: false,
    message: "Cannot use ::1 as an IPv4 server: it is an IPv6 address",
  });
});

Deno.test("resolveServerName() asks DNS only for the forced family and merges A and AAAA", async () => {
  const calls: string[] = [];
  const dns: DnsLookup = (name, type) => {
    calls.push(`${type} ${name}`);
    return Promise.resolve(type === "A" ? ["192.0.2.1", "192.0.2.1"] : ["2001:db8::1"]);
  };
  const six = await resolveServerName("ntp.example", { family: 6, dns, readHosts: noHosts });
  assert.deepEqual(six, {
    ok: true,
    addresses: [{ hostname: "2001:db8::1", family: 6 }],
    source: "dns",
  });
  assert.deepEqual(calls, ["AAAA ntp.example"]);
  const both = await resolveServerName("ntp.example", { dns, readHosts: noHosts });
  assert.ok(both.ok);
  assert.deepEqual(both.addresses.map((address) => address.hostname), ["192.0.2.1", "2001:db8::1"]);
});

Deno.test("resolveServerName() answers from the hosts file before asking DNS", async () => {
  const calls: string[] = [];
  const outcome = await resolveServerName("box", {
    family: 4,
    dns: failingDns(calls),
    readHosts: () => Promise.resolve(hosts),
  });
  assert.deepEqual(outcome, {
    ok: true,
    addresses: [{ hostname: "127.0.1.1", family: 4 }],
    source: "hosts",
  });
  assert.deepEqual(calls, []);
});

Deno.test("resolveServerName() turns DNS failures and timeouts into messages", async () => {
  const calls: string[] = [];
  const failed = await resolveServerName("nothing.example", {
    dns: failingDns(calls),
    readHosts: noHosts,
  });
  assert.deepEqual(failed, {
    ok: false,
    message: "nothing.example does not resolve (no A or AAAA record)",
  });
  const hanging: DnsLookup = (_name, _type, signal) =>
    new Promise((_resolve, reject) => {
      signal.addEventListener("abort", () => reject(new Error("aborted")));
    });
  const started = performance.now();
  const slow = await resolveServerName("slow.example", {
    family: 4,
    dns: hanging,
    readHosts: noHosts,
    timeoutMs: 50,
  });
  assert.deepEqual(slow, {
    ok: false,
    message: "slow.example does not resolve (no answer from DNS within 0.05 s)",
  });
  assert.ok(performance.now() - started < 1000 * timeBudgetScale());
  assert.deepEqual(await resolveServerName("bad name"), {
    ok: false,
    message: "Cannot resolve 'bad name': not a host name or IP address",
  });
});

Deno.test("resolveServerName() resolves localhost on this machine for -4 and -6", async () => {
  assert.deepEqual(await resolveServerName("localhost", { family: 4 }), {
    ok: true,
    addresses: [{ hostname: "127.0.0.1", family: 4 }],
    source: "hosts",
  });
  const six = await resolveServerName("localhost", { family: 6 });
  assert.ok(six.ok);
  assert.deepEqual(six.addresses, [{ hostname: "::1", family: 6 }]);
});

Deno.test("resolveServerName() reports a name the real resolver cannot find as a value", async () => {
  const outcome = await resolveServerName("no-such-host.invalid", { timeoutMs: 3000 });
  assert.equal(outcome.ok, false);
  const message = !outcome.ok ? outcome.message : "";
  assert.match(message, /^no-such-host\.invalid does not resolve \(.+\)$/);
  // The resolver library's own text (Query { name: Name(...) }) never reaches the user.
  assert.doesNotMatch(message, /Query|proto error|Name\(/);
});

Deno.test("resolveServerName() words the runtime's DNS errors for people: no record, timeout, refused, mixed", async () => {
  const denoError = (name: string, message: string) => Object.assign(new Error(message), { name });
  const notFound = denoError(
    "NotFound",
    'proto error: no records found for Query { name: Name("svl1.ntp.se."), query_type: A, query_class: IN }',
  );
  const timedOut = denoError("TimedOut", "proto error: request timed out");
  const refused = denoError("ConnectionRefused", "Connection refused (os error 111)");
  const answer = async (
    name: string,
    errors: Record<string, Error | string[]>,
    family: 4 | 6 | null = null,
  ) =>
    await resolveServerName(name, {
      family,
      readHosts: noHosts,
      dns: (_n, type) => {
        const result = errors[type]!;
        return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
      },
    });
  assert.deepEqual(await answer("svl1.ntp.se", { A: notFound, AAAA: notFound }), {
    ok: false,
    message: "svl1.ntp.se does not resolve (no A or AAAA record)",
  });
  assert.deepEqual(await answer("svl1.ntp.se", { A: notFound }, 4), {
    ok: false,
    message: "svl1.ntp.se does not resolve (no A record)",
  });
  assert.deepEqual(await answer("ntp.example", { A: timedOut, AAAA: timedOut }), {
    ok: false,
    message: "ntp.example does not resolve (no answer from DNS within 5 s)",
  });
  assert.deepEqual(await answer("ntp.example", { A: refused, AAAA: refused }), {
    ok: false,
    message: "ntp.example does not resolve (the DNS server refused the query)",
  });
  assert.deepEqual(await answer("ntp.example", { A: notFound, AAAA: timedOut }), {
    ok: false,
    message: "ntp.example does not resolve (no A record; AAAA: no answer from DNS within 5 s)",
  });
  assert.deepEqual(await answer("ntp.example", { A: notFound, AAAA: ["2001:db8::1"] }), {
    ok: true,
    addresses: [{ hostname: "2001:db8::1", family: 6 }],
    source: "dns",
  });
});
