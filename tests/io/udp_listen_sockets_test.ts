// Listen sockets on a kernel that refuses optional features (as qemu-user refuses SO_TIMESTAMPNS and the reuseport BPF program): bound anyway, each missing feature named once with its cost; a needed option refused is a ListenSetupError naming the option and --io portable.
import assert from "node:assert/strict";
import { Const, type Libc, openLibc } from "../../src/io/libc.ts";
import { ListenSetupError } from "../../src/io/listen_setup_error.ts";
import { bindListenSockets, closeSockets } from "../../src/io/udp_listen_sockets.ts";
import { underQemuUser } from "../support/under_qemu.ts";

const ENOPROTOOPT = 92;

/** The real libc, except that setsockopt refuses (ENOPROTOOPT) the options `refused` names. */
function refusing(refused: (level: number, option: number) => boolean): Libc {
  const real = openLibc();
  let lastErrno = 0;
  const symbols = new Proxy(real.symbols, {
    get(target, name, receiver) {
      if (name !== "setsockopt") return Reflect.get(target, name, receiver);
      return (fd: number, level: number, option: number, value: BufferSource, size: number) => {
        if (refused(level, option)) {
          lastErrno = ENOPROTOOPT;
          return -1;
        }
        lastErrno = 0;
        return target.setsockopt(fd, level, option, value, size);
      };
    },
  });
  return {
    symbols,
    errno: () => (lastErrno !== 0 ? lastErrno : real.errno()),
    strerror: (errno) => real.strerror(errno),
  };
}

const options = { copies: 2, receiveBufferBytes: 1 << 16, receiveTimeoutMs: 10 };

Deno.test("SO_TIMESTAMPNS, IP_PKTINFO and the steering refused: the sockets bind, each loss named once", () => {
  const libc = refusing((level, option) =>
    (level === Const.SOL_SOCKET && (option === Const.SO_TIMESTAMPNS || option === 51)) ||
    (level === Const.IPPROTO_IP && option === Const.IP_PKTINFO)
  );
  const table = bindListenSockets(libc, [{ hostname: "0.0.0.0", port: 0, family: 4 }], options);
  try {
    assert.equal(table.rows.length, 2);
    assert.ok(table.rows.flat().every((s) => !s.receiveTimestamps && !s.packetInfo && s.wildcard));
    assert.equal(table.missing.length, 3);
    assert.match(table.missing[0]!, /^SO_TIMESTAMPNS refused: .*queueing delay/);
    assert.match(table.missing[1]!, /^IP_PKTINFO\/IPV6_RECVPKTINFO refused: /);
    assert.match(table.missing[2]!, /reuseport BPF steering was refused: .*up to 2x its limit/);
  } finally {
    closeSockets(libc, table.rows);
  }
});

Deno.test("what is reported missing is what the sockets lack: none on a kernel that grants all", () => {
  const libc = openLibc();
  const table = bindListenSockets(libc, [{ hostname: "0.0.0.0", port: 0, family: 4 }], options);
  try {
    const all = table.rows.flat();
    const said = (pattern: RegExp) => table.missing.some((line) => pattern.test(line));
    assert.equal(said(/^SO_TIMESTAMPNS refused/), all.some((s) => !s.receiveTimestamps));
    assert.equal(said(/^IP_PKTINFO/), all.some((s) => !s.packetInfo));
    assert.equal(said(/^receive buffer capped/), all.some((s) => s.receiveBufferBytes < 1 << 16));
    // Under qemu-user (the CI's ARM stage) SO_TIMESTAMPNS and the steering are refused; a real
    // x86_64 or aarch64 kernel grants all of it.
    if (!underQemuUser()) assert.deepEqual(table.missing, []);
  } finally {
    closeSockets(libc, table.rows);
  }
});

Deno.test("a receive buffer the kernel caps (no SO_RCVBUFFORCE) is reported with its size and the fix", () => {
  const libc = refusing((level, option) =>
    level === Const.SOL_SOCKET && option === Const.SO_RCVBUFFORCE
  );
  // 1 GiB: far beyond any net.core.rmem_max (4 MiB on the CI machine, 208 KiB by default).
  const asked = 1 << 30;
  const table = bindListenSockets(libc, [{ hostname: "127.0.0.1", port: 0, family: 4 }], {
    ...options,
    receiveBufferBytes: asked,
  });
  try {
    const granted = table.rows[0]![0]!.receiveBufferBytes;
    assert.ok(granted > 0 && granted < asked, `${granted}`);
    assert.ok(table.rows.flat().every((s) => s.receiveBufferBytes === granted));
    assert.deepEqual(table.missing.filter((line) => /receive buffer/.test(line)), [
      `receive buffer capped at ${Math.round(granted / 1024)} KiB (asked ${
        Math.round(asked / 1024)
      } KiB): bursts beyond it are dropped by the kernel; raise net.core.rmem_max, or run with ` +
      "CAP_NET_ADMIN",
    ]);
  } finally {
    closeSockets(libc, table.rows);
  }
});

Deno.test("SO_RCVTIMEO refused: a ListenSetupError naming the address, the option and --io portable", () => {
  const libc = refusing((level, option) =>
    level === Const.SOL_SOCKET && option === Const.SO_RCVTIMEO
  );
  assert.throws(
    () => bindListenSockets(libc, [{ hostname: "127.0.0.1", port: 0, family: 4 }], options),
    (error: unknown) =>
      error instanceof ListenSetupError && error.option === "SO_RCVTIMEO" &&
      /^cannot set up 127\.0\.0\.1:\d+\/udp: the kernel refused SO_RCVTIMEO \(Protocol not available\).*--io portable/
        .test(error.message),
  );
});
