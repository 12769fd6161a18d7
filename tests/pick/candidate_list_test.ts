// parseCandidateList(): the candidate file format (HOST[:PORT] per line, # comments), and the shipped list parses cleanly.
import assert from "node:assert/strict";
import { parseCandidateList } from "../../src/config/candidate_list.ts";
import { candidateLabel } from "../../src/core/pick/candidate.ts";

Deno.test("parseCandidateList() reads names, IP literals and ports, skipping comments and blank lines", () => {
  const list = parseCandidateList(
    "# header\n\nPTBtime1.ptb.de   # PTB\n127.0.0.1:11123\n  ::1\n[2001:db8::1]:1123\n",
  );
  assert.deepEqual(list.problems, []);
  assert.deepEqual(list.candidates, [
    { host: "ptbtime1.ptb.de", port: 123, line: 3 },
    { host: "127.0.0.1", port: 11123, line: 4 },
    { host: "::1", port: 123, line: 5 },
    { host: "2001:db8::1", port: 1123, line: 6 },
  ]);
});

Deno.test("parseCandidateList() reports bad lines and repeats with their line numbers and keeps the rest", () => {
  const list = parseCandidateList(
    "a.example b.example\nbad_host!\na.example\nc.example:0\nA.example\n",
  );
  assert.deepEqual(list.candidates, [{ host: "a.example", port: 123, line: 3 }]);
  assert.deepEqual(list.problems.map((p) => p.line), [1, 2, 4, 5]);
  assert.match(list.problems[0]!.message, /one HOST\[:PORT\] per line, got 2 words/);
  assert.match(list.problems[3]!.message, /listed twice \(also line 3\)/);
});

Deno.test("the shipped conf/candidates.txt parses without problems and names only host names", async () => {
  const text = await Deno.readTextFile(new URL("../../conf/candidates.txt", import.meta.url));
  const list = parseCandidateList(text);
  assert.deepEqual(list.problems, []);
  assert.ok(list.candidates.length >= 20, `${list.candidates.length} candidates`);
  for (const c of list.candidates) {
    assert.equal(c.port, 123);
    assert.match(c.host, /[a-z]/);
  }
  assert.match(text, /Where this list comes from/);
  assert.match(text, /Operators change addresses/);
});

Deno.test("candidateLabel() writes the port only when it is not 123, bracketing IPv6", () => {
  assert.equal(candidateLabel({ host: "a.example", port: 123 }), "a.example");
  assert.equal(candidateLabel({ host: "127.0.0.1", port: 11123 }), "127.0.0.1:11123");
  assert.equal(candidateLabel({ host: "::1", port: 1123 }), "[::1]:1123");
});
