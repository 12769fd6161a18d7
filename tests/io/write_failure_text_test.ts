// The hint added to write failures on a read-only file system: the fix for the directory under the shipped unit, whose sandbox the code assumes (checked against conf/ntp.service here).
import assert from "node:assert/strict";
import { readOnlyHint } from "../../src/io/write_failure_text.ts";
import {
  parseUnitSandbox,
  SHIPPED_UNIT_SANDBOX,
} from "../../src/core/doctor/unit_sandbox_check.ts";

const erofs = () =>
  Object.assign(new Error("Read-only file system (os error 30)"), { code: "EROFS" });

Deno.test("readOnlyHint() speaks only for EROFS (also as a cause) and gives the fix for the directory written", () => {
  assert.match(
    readOnlyHint(erofs(), "/var/log/ntpstats/loopstats.20261207"),
    /for \/var\/log\/ntpstats: systemctl edit ntp and add \[Service\] LogsDirectory=ntpstats \(systemd creates \/var\/log\/ntpstats for the service's user\), or use \/var\/lib\/ntp or \/var\/log\/ntp$/,
  );
  const wrapped = new Error("create of /srv/x/.tmp: Read-only file system", { cause: erofs() });
  assert.match(
    readOnlyHint(wrapped, "/srv/x/ntp.drift"),
    /for \/srv\/x: use a path under \/var\/lib\/ntp or \/var\/log\/ntp \(the unit's dynamic user can own no other directory\)$/,
  );
  // Where the unit may write, a read-only file system is the machine's, not the unit's.
  assert.equal(
    readOnlyHint(erofs(), "/var/lib/ntp/ntp.drift"),
    "; the file system is read-only here",
  );
  assert.equal(readOnlyHint(new Error("No space left on device"), "/var/lib/ntp/ntp.drift"), "");
  assert.equal(
    readOnlyHint(Object.assign(new Error("Permission denied"), { code: "EACCES" }), "/a/b"),
    "",
  );
  assert.equal(readOnlyHint("EROFS", "/a/b"), "");
});

Deno.test("the sandbox the hints assume is what conf/ntp.service declares", async () => {
  const unit = await Deno.readTextFile(new URL("../../conf/ntp.service", import.meta.url));
  assert.deepEqual(parseUnitSandbox([unit]), SHIPPED_UNIT_SANDBOX);
});
