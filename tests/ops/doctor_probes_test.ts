// The doctor's probes against this machine: binding a UDP port, naming its holder (ss and /proc), listing processes from /proc, running tools.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { findUdpPortOwners, findUdpPortOwnersInProc } from "../../src/io/port_owners.ts";
import { readProcText } from "../../src/io/proc_files.ts";
import { listProcesses, ownNetworkNamespace, readProcess } from "../../src/io/process_table.ts";
import { runProgram } from "../../src/io/run_program.ts";
import { probeUdpBind } from "../../src/io/udp_bind_probe.ts";
import { freeUdpPort } from "../support/ports.ts";

async function boundSocket(host: string): Promise<{ socket: dgram.Socket; port: number }> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { socket, port: socket.address().port };
}

Deno.test("probeUdpBind() tells a free port from one in use and from an address that is not local", async () => {
  const port = await freeUdpPort();
  assert.deepEqual(await probeUdpBind({ hostname: "127.0.0.1", port, family: 4 }), {
    kind: "free",
  });
  const held = await boundSocket("127.0.0.1");
  try {
    assert.deepEqual(
      await probeUdpBind({ hostname: "127.0.0.1", port: held.port, family: 4 }),
      { kind: "inUse" },
    );
    // The wildcard conflicts with a socket on one address of the same port.
    assert.deepEqual(
      await probeUdpBind({ hostname: "0.0.0.0", port: held.port, family: 4 }),
      { kind: "inUse" },
    );
  } finally {
    held.socket.close();
  }
  const foreign = await probeUdpBind({ hostname: "192.0.2.1", port, family: 4 });
  assert.equal(foreign.kind, "notLocal");
});

Deno.test("findUdpPortOwners() names this test process as the holder, through ss and through /proc alone", async () => {
  const held = await boundSocket("127.0.0.1");
  try {
    const viaSs = await findUdpPortOwners(held.port);
    assert.equal(viaSs.source, "ss");
    assert.deepEqual(viaSs.owners, [
      { pid: Deno.pid, name: "deno", localAddress: `127.0.0.1:${held.port}` },
    ]);
    const viaProc = findUdpPortOwnersInProc(held.port);
    assert.equal(viaProc.source, "proc");
    assert.deepEqual(viaProc.owners, viaSs.owners);
  } finally {
    held.socket.close();
  }
  const port = await freeUdpPort();
  assert.deepEqual((await findUdpPortOwners(port)).owners, []);
});

Deno.test("listProcesses() finds a process by name with its arguments, network namespace and capabilities", async () => {
  const child = new Deno.Command("setpriv", {
    args: ["--bounding-set=-sys_time", "--", "sleep", "37.5"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let found = listProcesses({ names: ["sleep"] }).find((p) => p.pid === child.pid);
    for (let i = 0; i < 50 && found?.args[0] !== "sleep"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      found = listProcesses({ names: ["sleep"] }).find((p) => p.pid === child.pid);
    }
    assert.ok(found, "the sleep child is listed");
    assert.deepEqual(found.args, ["sleep", "37.5"]);
    assert.equal(found.networkNamespace, ownNetworkNamespace());
    assert.match(found.networkNamespace ?? "", /^net:\[\d+\]$/);
    assert.equal(found.holdsSysTime, false, "setpriv dropped CAP_SYS_TIME");
    const self = readProcess(Deno.pid);
    assert.equal(self?.name, "deno");
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.equal(readProcText("/proc/999999999/comm"), null);
});

Deno.test("runProgram() captures output and exit code, and reports a missing tool as missing", async () => {
  const ran = await runProgram(["sh", "-c", "echo out; echo err >&2; exit 3"]);
  assert.deepEqual(ran, { kind: "ran", code: 3, stdout: "out\n", stderr: "err\n" });
  assert.deepEqual(await runProgram(["no-such-tool-for-ntp-doctor"]), { kind: "missing" });
  const slow = await runProgram(["sleep", "5"], { timeoutMs: 200 });
  assert.equal(slow.kind, "failed");
});
