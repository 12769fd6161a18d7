// Tests of the logging setup: stderr styles, the log file (early records, levels, rotation, open failures).
import assert from "node:assert/strict";
import {
  attachLogFile,
  chooseStderrStyle,
  lineFormatter,
  log,
  type LogRecord,
  setLogLevel,
  setupLogging,
  shutdownLogging,
} from "../../src/daemon/logging.ts";

function record(level: LogRecord["level"], text: string): LogRecord {
  return {
    category: ["ntp", "sync"],
    level,
    message: text,
    timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  };
}

/** Collects what would go to stderr. */
function capture(): { writeSync(bytes: Uint8Array): number; text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    writeSync(bytes: Uint8Array) {
      chunks.push(bytes.slice());
      return bytes.length;
    },
    text: () => new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))),
  };
}

const ESC = "\x1b";

Deno.test("chooseStderrStyle() colours only a terminal without NO_COLOR", () => {
  const base = { journalStream: undefined, stderrIdentity: null };
  assert.equal(chooseStderrStyle({ ...base, isTerminal: true, noColor: false }), "color");
  assert.equal(chooseStderrStyle({ ...base, isTerminal: true, noColor: true }), "plain");
  assert.equal(chooseStderrStyle({ ...base, isTerminal: false, noColor: false }), "plain");
});

Deno.test("chooseStderrStyle() picks journal only when JOURNAL_STREAM names our own stderr", () => {
  const facts = { isTerminal: false, noColor: false, stderrIdentity: { dev: 23, ino: 4711 } };
  assert.equal(chooseStderrStyle({ ...facts, journalStream: "23:4711" }), "journal");
  assert.equal(chooseStderrStyle({ ...facts, journalStream: "23:4712" }), "plain");
  assert.equal(
    chooseStderrStyle({ ...facts, journalStream: "23:4711", stderrIdentity: null }),
    "plain",
  );
});

Deno.test("lineFormatter('plain') writes timestamp, level, category and message without escapes", () => {
  const line = lineFormatter("plain")(record("warning", `evil ${ESC}[31mred${ESC}[0m name`));
  assert.match(
    line,
    /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d \[WRN\] ntp·sync: evil .*red.* name\n$/,
  );
  assert.ok(!line.includes(ESC), JSON.stringify(line));
});

Deno.test("lineFormatter('color') colours the line (so the plain checks can fail)", () => {
  assert.ok(lineFormatter("color")(record("info", "hello")).includes(`${ESC}[`));
});

Deno.test("lineFormatter('journal') prefixes every line with its syslog priority and no timestamp", () => {
  const journal = lineFormatter("journal");
  assert.equal(journal(record("info", "hello")), "<6>ntp·sync: hello\n");
  assert.equal(journal(record("warning", "a\nb")), "<4>ntp·sync: a\n<4>b\n");
  assert.equal(journal(record("error", "x")), "<3>ntp·sync: x\n");
  assert.equal(journal(record("debug", "x")), "<7>ntp·sync: x\n");
});

Deno.test("the log file gets what was logged before it was attached, and later lines, at the set level", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-log-" });
  try {
    const stderr = capture();
    setupLogging({ level: "info", stderrStyle: "plain", stderr });
    log("config").warn("early warning");
    log("serve").debug("debug line not wanted");
    assert.deepEqual(attachLogFile(`${dir}/ntp.log`), { ok: true });
    log("serve").info("after attach");
    // Written at once, before shutdown.
    const before = await Deno.readTextFile(`${dir}/ntp.log`);
    assert.match(before, /\[WRN\] ntp·config: early warning\n.*\[INF\] ntp·serve: after attach\n$/);
    shutdownLogging();
    const file = await Deno.readTextFile(`${dir}/ntp.log`);
    assert.equal(file, before);
    assert.doesNotMatch(file, /debug line/);
    assert.match(stderr.text(), /early warning\n.*after attach\n$/);
    assert.doesNotMatch(stderr.text(), /debug line/);
  } finally {
    shutdownLogging();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--log-level warning keeps info lines out of stderr and the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-log-" });
  try {
    const stderr = capture();
    setupLogging({ level: "warning", stderrStyle: "plain", stderr });
    attachLogFile(`${dir}/ntp.log`);
    log("sync").info("system peer is now x");
    log("sync").warn("x is unreachable");
    shutdownLogging();
    const file = await Deno.readTextFile(`${dir}/ntp.log`);
    assert.equal(file.trim().split("\n").length, 1, file);
    assert.match(file, /\[WRN\] ntp·sync: x is unreachable/);
    assert.equal(stderr.text().trim().split("\n").length, 1, stderr.text());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setLogLevel() changes the level of stderr and the file while they stay open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-log-" });
  try {
    const stderr = capture();
    setupLogging({ level: "info", stderrStyle: "journal", stderr });
    attachLogFile(`${dir}/ntp.log`);
    log("sync").debug("hidden 1");
    setLogLevel("debug");
    log("sync").debug("shown 1");
    setLogLevel("error");
    log("sync").warn("hidden 2");
    log("sync").error("shown 2");
    shutdownLogging();
    assert.equal(stderr.text(), "<7>ntp·sync: shown 1\n<3>ntp·sync: shown 2\n");
    const file = await Deno.readTextFile(`${dir}/ntp.log`);
    assert.match(file, /\[DBG\] ntp·sync: shown 1\n.*\[ERR\] ntp·sync: shown 2\n$/);
    assert.doesNotMatch(file, /hidden/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the log file is appended to, never truncated, across restarts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-log-" });
  try {
    for (const run of [1, 2]) {
      setupLogging({ level: "info", stderrStyle: "plain", stderr: capture() });
      attachLogFile(`${dir}/ntp.log`);
      log("serve").info(`run ${run}`);
      shutdownLogging();
    }
    assert.match(await Deno.readTextFile(`${dir}/ntp.log`), /run 1\n.*run 2\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the log file is rotated by size and keeps maxFiles rotated copies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-log-" });
  try {
    setupLogging({ level: "info", stderrStyle: "plain", stderr: capture() });
    attachLogFile(`${dir}/ntp.log`, { maxBytes: 400, maxFiles: 3 });
    for (let i = 0; i < 40; i++) log("serve").info(`line ${i} ${"x".repeat(40)}`);
    shutdownLogging();
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["ntp.log", "ntp.log.1", "ntp.log.2", "ntp.log.3"]);
    for (const name of names) assert.ok(Deno.statSync(`${dir}/${name}`).size <= 400, name);
    assert.match(await Deno.readTextFile(`${dir}/ntp.log`), /line 39 x+\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attachLogFile() reports a missing directory and logging goes on to stderr", () => {
  const stderr = capture();
  setupLogging({ level: "info", stderrStyle: "plain", stderr });
  try {
    const result = attachLogFile("/nonexistent-ntp-dir/ntp.log");
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.message : "", /nonexistent-ntp-dir|No such file/);
    log("serve").info("still logging");
    assert.match(stderr.text(), /still logging/);
  } finally {
    shutdownLogging();
  }
});

Deno.test("a log file that cannot be written any more is given up with one error on stderr", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-log-" });
  const stderr = capture();
  setupLogging({ level: "info", stderrStyle: "journal", stderr });
  try {
    attachLogFile(`${dir}/ntp.log`, { maxBytes: 200 });
    log("serve").info("written");
    await Deno.remove(dir, { recursive: true }); // the next rotation cannot rename the file
    for (let i = 0; i < 10; i++) log("serve").info(`line ${i} ${"x".repeat(60)}`);
    const lines = stderr.text().trim().split("\n");
    const errors = lines.filter((l) => l.startsWith("<3>"));
    assert.equal(errors.length, 1, stderr.text());
    assert.match(
      errors[0]!,
      /^<3>ntp·logging: cannot write the log file any more \(.+\); logging to stderr only$/,
    );
    assert.equal(lines.filter((l) => l.startsWith("<6>ntp·serve: line")).length, 10);
  } finally {
    shutdownLogging();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("attachLogFile(null) drops the kept records and writes no file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-log-" });
  try {
    setupLogging({ level: "info", stderrStyle: "plain", stderr: capture() });
    log("serve").info("kept until now");
    assert.deepEqual(attachLogFile(null), { ok: true });
    log("serve").info("later");
    shutdownLogging();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stderr that fails (reader gone) is given up quietly; the log file goes on", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ntpt-log-" });
  let writes = 0;
  const broken = {
    writeSync(): number {
      writes++;
      throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    },
  };
  setupLogging({ level: "info", stderrStyle: "plain", stderr: broken });
  try {
    attachLogFile(`${dir}/ntp.log`);
    log("serve").info("first"); // must not throw into the caller
    log("serve").info("second");
    assert.equal(writes, 1, "stderr was tried again after it broke");
    assert.match(Deno.readTextFileSync(`${dir}/ntp.log`), /first\n.*second\n$/);
  } finally {
    shutdownLogging();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("lineFormatter() shows C0, DEL and C1 control characters as \\xNN, keeps newline and tab", () => {
  const line = lineFormatter("plain")(record("info", "a\x1b[31mb\x9b31mc\x7fd\re\tf"));
  assert.match(line, /a\\x1b\[31mb\\x9b31mc\\x7fd\\x0de\tf\n$/);
});
