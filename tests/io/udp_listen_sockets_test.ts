// Listen sockets on a kernel that refuses optional features (as qemu-user refuses SO_TIMESTAMPNS and the reuseport BPF program): bound anyway, each missing feature named once with its cost; a needed option refused is a ListenSetupError naming the option and --io portable.
import assert from "node:assert/strict";
import { Const, type Libc, openLibc } from "../../src/io/libc.ts";
import { ListenSetupError } from "../../src/io/listen_setup_error.ts";
import { bindListenSockets, closeSockets } from "../../src/io/udp_listen_sockets.ts";

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
    assert.match(table.missing[1]!, /^IP_PKTINFO refused: /);
    assert.match(table.missing[2]!, /reuseport BPF steering was refused: .*per thread/);
  } finally {
    closeSockets(libc, table.rows);
  }
});

Deno.test("with every option granted nothing is reported missing", () => {
  const libc = openLibc();
  const table = bindListenSockets(libc, [{ hostname: "127.0.0.1", port: 0, family: 4 }], options);
  try {
    assert.deepEqual(table.missing, []);
    assert.ok(table.rows.flat().every((s) => s.receiveTimestamps));
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
