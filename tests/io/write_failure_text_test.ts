// The hint added to write failures on a read-only file system names the unit's writable directories, which must be the ones conf/ntp.service declares.
import assert from "node:assert/strict";
import { readOnlyHint, UNIT_WRITABLE_DIRECTORIES } from "../../src/io/write_failure_text.ts";

const erofs = () =>
  Object.assign(new Error("Read-only file system (os error 30)"), { code: "EROFS" });

Deno.test("readOnlyHint() speaks only for EROFS, also as a cause, and names the file's directory", () => {
  assert.match(
    readOnlyHint(erofs(), "/var/log/ntpstats/loopstats"),
    /ReadWritePaths=\/var\/log\/ntpstats\)$/,
  );
  const wrapped = new Error("create of /x/.tmp: Read-only file system", { cause: erofs() });
  assert.match(readOnlyHint(wrapped, "/x/ntp.drift"), /ReadWritePaths=\/x\)$/);
  assert.equal(readOnlyHint(new Error("No space left on device"), "/var/lib/ntp/ntp.drift"), "");
  assert.equal(
    readOnlyHint(Object.assign(new Error("Permission denied"), { code: "EACCES" }), "/a/b"),
    "",
  );
  assert.equal(readOnlyHint("EROFS", "/a/b"), "");
});

Deno.test("the writable directories named are conf/ntp.service's StateDirectory and LogsDirectory", async () => {
  const unit = await Deno.readTextFile(new URL("../../conf/ntp.service", import.meta.url));
  const value = (key: string) => new RegExp(`^${key}=(.+)$`, "m").exec(unit)?.[1]?.trim();
  assert.match(unit, /^ProtectSystem=strict$/m);
  assert.deepEqual(
    [`/var/lib/${value("StateDirectory")}`, `/var/log/${value("LogsDirectory")}`],
    [...UNIT_WRITABLE_DIRECTORIES],
  );
  assert.equal(value("ReadWritePaths"), undefined, "ReadWritePaths in the unit: name them too");
});
