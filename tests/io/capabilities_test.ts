// capget(2)-based capability checks, in this process and in one started without CAP_SYS_TIME.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Capability, effectiveBitSet, hasCapability } from "../../src/io/capabilities.ts";

Deno.test("effectiveBitSet() reads bits of the first and second effective words", () => {
  const data = new Uint8Array(24);
  const view = new DataView(data.buffer);
  view.setUint32(0, 1 << 25, true);
  view.setUint32(12, 1 << 1, true);
  assertEquals(effectiveBitSet(data, 25), true);
  assertEquals(effectiveBitSet(data, 10), false);
  assertEquals(effectiveBitSet(data, 33), true);
  assertEquals(effectiveBitSet(data, 32), false);
});

Deno.test("hasCapability() sees CAP_SYS_TIME as root and not under setpriv without it", async () => {
  const probe = `import { Capability, hasCapability } from ${
    JSON.stringify(new URL("../../src/io/capabilities.ts", import.meta.url).href)
  };\nconsole.log(hasCapability(Capability.sysTime));`;
  const run = async (prefix: string[]) => {
    const out = await new Deno.Command(prefix[0]!, {
      args: [...prefix.slice(1), Deno.execPath(), "eval", probe],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  assertEquals(await run(["setpriv", "--bounding-set=-sys_time", "--"]), "false");
  if (Deno.uid() === 0) {
    assertEquals(await run(["env"]), "true");
    assertEquals(hasCapability(Capability.sysTime), true);
  }
});
