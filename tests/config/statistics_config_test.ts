// Statistics in the config: ntpd's statsdir/statistics/filegen lines and the TOML keys give the same sets; misuse is named at its key with line and column.
import assert from "node:assert/strict";
import { checkConfigText, parseConfigText } from "../../src/config/parse_config.ts";

/** The diagnostics as "line:column severity message", without the advice about too few servers. */
const diagnostics = (text: string, fileName: string): string[] =>
  checkConfigText(text, { fileName }).diagnostics
    .filter((d) => !d.message.includes("no server or pool configured"))
    .map((d) => `${d.line}:${d.column} ${d.severity} ${d.message}`);
const errors = (text: string, fileName: string): string[] =>
  diagnostics(text, fileName).filter((line) => line.includes(" error "));

Deno.test("Debian ntpsec-ntpviz's ntp.d/ntpviz.conf lines load as four daily linked sets (clockstats writes nothing)", () => {
  const text = [
    "statsdir /var/log/ntpsec/",
    "statistics loopstats peerstats clockstats",
    "filegen loopstats file loopstats type day enable",
    "filegen peerstats file peerstats type day enable",
    "filegen clockstats file clockstats type day enable",
    "",
  ].join("\n");
  const config = parseConfigText(text, { fileName: "ntp.conf" });
  assert.equal(config.statsDir, "/var/log/ntpsec/");
  assert.deepEqual(config.statistics, [
    { kind: "loopstats", fileName: "loopstats", generation: "day", link: true },
    { kind: "peerstats", fileName: "peerstats", generation: "day", link: true },
    { kind: "clockstats", fileName: "clockstats", generation: "day", link: true },
  ]);
  assert.deepEqual(diagnostics(text, "ntp.conf"), [
    "2:32 warning statistics: clockstats records reference clocks, which are not supported yet: nothing is written",
  ]);
});

Deno.test("ntp.conf and TOML spell the same statistics config", () => {
  const conf = parseConfigText(
    [
      "statsdir /var/log/ntpstats",
      "statistics loopstats",
      "statistics peerstats rawstats",
      "filegen rawstats file raw type week nolink",
      "filegen peerstats disable",
      "filegen sysstats type month enable",
      "",
    ].join("\n"),
    { fileName: "ntp.conf" },
  );
  const toml = parseConfigText(
    [
      'statsdir = "/var/log/ntpstats"',
      'statistics = ["loopstats", "peerstats", "rawstats"]',
      "[[filegen]]",
      'name = "rawstats"',
      'file = "raw"',
      'type = "week"',
      "link = false",
      "[[filegen]]",
      'name = "peerstats"',
      "enable = false",
      "[[filegen]]",
      'name = "sysstats"',
      'type = "month"',
      "enable = true",
      "",
    ].join("\n"),
    { fileName: "ntp.toml" },
  );
  assert.deepEqual(conf, toml);
  assert.deepEqual(conf.statistics, [
    { kind: "loopstats", fileName: "loopstats", generation: "day", link: true },
    { kind: "rawstats", fileName: "raw", generation: "week", link: false },
    { kind: "sysstats", fileName: "sysstats", generation: "month", link: true },
  ]);
});

Deno.test("statistics misuse is an error at the word, with a suggestion or 'not supported yet'", () => {
  assert.deepEqual(errors("statsdir /s\nstatistics loopstat protostats\n", "ntp.conf"), [
    '2:12 error statistics: unknown statistics file "loopstat"; did you mean "loopstats"?',
    '2:21 error statistics: statistics file "protostats" is not supported yet',
  ]);
  assert.deepEqual(
    errors(
      "statsdir /s\nfilegen loopstats typ day\nfilegen peerstats type hourly\n" +
        "filegen rawstats file ../raw\nfilegen timingstats enable\n",
      "ntp.conf",
    ),
    [
      '2:19 error filegen: unknown option "typ"; did you mean "type"?',
      // "day" is then a word of its own.
      '2:23 error filegen: unknown option "day"; allowed: file, type, link, nolink, enable, disable',
      '3:24 error filegen type: got "hourly", expected one of "none", "pid", "day", "week", "month", "year", "age"',
      '4:23 error filegen file: "../raw" is not a file name; give a name inside statsdir, without "/"',
      '5:9 error filegen: statistics file "timingstats" is not supported yet',
    ],
  );
  assert.deepEqual(
    errors(
      "statsdir /s\nstatistics loopstats peerstats\nfilegen peerstats file loopstats\n",
      "ntp.conf",
    ),
    [
      '3:24 error filegen file: peerstats would be written to the files of loopstats ("loopstats"); give it another file name',
    ],
  );
  // TOML has no order of lines to apply: two tables for one set are an error.
  assert.deepEqual(
    errors(
      'statsdir = "/s"\n[[filegen]]\nname = "loopstats"\n[[filegen]]\nname = "loopstats"\n',
      "s.toml",
    ),
    ["5:1 error filegen[1].name: filegen loopstats is given twice; first at line 2"],
  );
});

Deno.test("statsdir without statistics, and statistics without statsdir, are warnings saying what happens", () => {
  assert.deepEqual(diagnostics('statsdir = "/var/log/ntpstats"\n', "s.toml"), [
    "1:1 warning statsdir: no statistics are enabled, so nothing is written there; add e.g. `statistics loopstats peerstats`",
  ]);
  assert.deepEqual(diagnostics("statistics loopstats\n", "ntp.conf"), [
    "1:1 warning statistics: no statsdir: no statistics file is written (ntpd writes to its compiled-in directory); set statsdir, e.g. /var/log/ntp/, the systemd unit's LogsDirectory",
  ]);
  // Disabled again by its filegen: nothing is written, so nothing to warn about.
  assert.deepEqual(
    diagnostics("statistics loopstats\nfilegen loopstats disable\n", "ntp.conf"),
    [],
  );
});

Deno.test("ntp.conf: a later filegen line for a set changes it, as ntpd applies each line in turn", () => {
  const config = parseConfigText(
    [
      "statsdir /var/log/ntpstats",
      "filegen loopstats file loop type week link enable",
      "filegen loopstats type month nolink",
      "filegen peerstats enable",
      "filegen peerstats disable",
      "",
    ].join("\n"),
    { fileName: "ntp.conf" },
  );
  assert.deepEqual(config.statistics, [
    { kind: "loopstats", fileName: "loop", generation: "month", link: false },
  ]);
  // An error in the later line points at that line.
  assert.deepEqual(
    errors("statsdir /s\nfilegen loopstats enable\nfilegen loopstats type hourly\n", "ntp.conf"),
    [
      '3:24 error filegen type: got "hourly", expected one of "none", "pid", "day", "week", "month", "year", "age"',
    ],
  );
});
