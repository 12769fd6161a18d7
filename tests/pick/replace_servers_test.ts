// replaceServers(): the picked servers replace a config's [[server]] tables / server lines in place, everything else and its comments kept.
import assert from "node:assert/strict";
import { checkConfigText } from "../../src/config/parse_config.ts";
import type { UpstreamConfig } from "../../src/config/ntp_config.ts";
import { replaceServers } from "../../src/config/replace_servers.ts";
import { pickedUpstream } from "../../src/cli/pick_command.ts";

const picked: UpstreamConfig[] = [
  pickedUpstream({ host: "ptbtime1.ptb.de", port: 123, line: 1 }, { family: 4 }),
  pickedUpstream({ host: "127.0.0.1", port: 11123, line: 2 }, { family: null }),
  pickedUpstream({ host: "::1", port: 11124, line: 3 }, { family: null }),
  pickedUpstream({ host: "sth1.ntp.se", port: 123, line: 4 }, { family: null }),
];

const toml = `# my ntp.toml
driftfile = "/var/lib/ntp/drift"

# the old servers
[[server]]
address = "old1.example"
iburst = true # a comment inside the table goes with it

[[server]]
address = "old2.example"
minpoll = 4

# access rules follow
[[restrict]]
address = "default"
flags = ["kod", "limited"]

[[server]]
address = "old3.example"

[tos]
minsane = 2 # keep this
`;

Deno.test("replaceServers() swaps every [[server]] table for the picked ones where the first was, keeping comments", () => {
  const text = replaceServers(toml, picked, {
    format: "toml",
    note: " on 2025-01-01 from list.txt",
  });
  assert.equal(
    text,
    `# my ntp.toml
driftfile = "/var/lib/ntp/drift"

# the old servers
# picked by ntp pick on 2025-01-01 from list.txt
[[server]]
address = "ptbtime1.ptb.de"
ipv4 = true
iburst = true

[[server]]
address = "127.0.0.1"
port = 11123
iburst = true

[[server]]
address = "::1"
port = 11124
iburst = true

[[server]]
address = "sth1.ntp.se"
iburst = true

# access rules follow
[[restrict]]
address = "default"
flags = ["kod", "limited"]

[tos]
minsane = 2 # keep this
`,
  );
  const checked = checkConfigText(text, { fileName: "x.toml" });
  assert.ok(checked.config, JSON.stringify(checked.diagnostics));
  assert.deepEqual(checked.config.servers, picked);
  assert.equal(checked.config.tos.minSane, 2);
  assert.equal(checked.config.restrict.length, 1);
});

Deno.test("replaceServers() is idempotent: running the same pick twice gives the same file", () => {
  const once = replaceServers(toml, picked, { format: "toml", note: " again" });
  assert.equal(replaceServers(once, picked, { format: "toml", note: " again" }), once);
  assert.equal((once.match(/# picked by ntp pick/g) ?? []).length, 1);
});

Deno.test("replaceServers() puts servers before the first table of a TOML file that has none", () => {
  const text = replaceServers(
    'listen = ["127.0.0.1:123"]\n\n# limits\n[tos]\nminsane = 1\n',
    picked.slice(0, 1),
    {
      format: "toml",
    },
  );
  assert.equal(
    text,
    'listen = ["127.0.0.1:123"]\n\n[[server]]\naddress = "ptbtime1.ptb.de"\nipv4 = true\niburst = true\n\n# limits\n[tos]\nminsane = 1\n',
  );
  assert.equal(
    replaceServers("", picked.slice(1, 2), { format: "toml" }),
    '[[server]]\naddress = "127.0.0.1"\nport = 11123\niburst = true\n',
  );
});

Deno.test("replaceServers() never takes lines of a multi-line array or string for table headers", () => {
  const text = `listen = [
  "127.0.0.1:123",
]
# [[server]] in a comment
[[server]]
address = "old.example"
`;
  const out = replaceServers(text, picked.slice(3), { format: "toml" });
  assert.equal(
    out,
    `listen = [
  "127.0.0.1:123",
]
# [[server]] in a comment
[[server]]
address = "sth1.ntp.se"
iburst = true
`,
  );
});

const conf = `# ntp.conf
driftfile /var/lib/ntp/drift
restrict -4 default kod limited nomodify notrap nopeer noquery
server -4 old1.example iburst
server old2.example
pool pool.example iburst
server old3.example prefer
logfile /var/log/ntp.log
`;

Deno.test("replaceServers() swaps the server lines of an ntp.conf, keeping pools and everything else", () => {
  const text = replaceServers(conf, picked, { format: "ntp.conf", note: " today" });
  assert.equal(
    text,
    `# ntp.conf
driftfile /var/lib/ntp/drift
restrict -4 default kod limited nomodify notrap nopeer noquery
# picked by ntp pick today
server -4 ptbtime1.ptb.de iburst
server 127.0.0.1 port 11123 iburst
server ::1 port 11124 iburst
server sth1.ntp.se iburst
pool pool.example iburst
logfile /var/log/ntp.log
`,
  );
  const checked = checkConfigText(text, { fileName: "x.conf" });
  assert.ok(checked.config, JSON.stringify(checked.diagnostics));
  assert.deepEqual(checked.config.servers, picked);
  assert.equal(checked.config.pools.length, 1);
  assert.equal(replaceServers(text, picked, { format: "ntp.conf", note: " today" }), text);
});

Deno.test("replaceServers() adds servers after the last pool line of an ntp.conf without servers", () => {
  const text = replaceServers("driftfile /x\npool a.example\nlogfile /y\n", picked.slice(3), {
    format: "ntp.conf",
  });
  assert.equal(text, "driftfile /x\npool a.example\nserver sth1.ntp.se iburst\nlogfile /y\n");
});

Deno.test("replaceServers() writes the servers alone into an empty ntp.conf", () => {
  assert.equal(
    replaceServers("", picked.slice(3), { format: "ntp.conf" }),
    "server sth1.ntp.se iburst\n",
  );
});
