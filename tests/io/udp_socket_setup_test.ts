// Tests of openUdpSocket(): the options land on the socket, failures name the step and leave no descriptor open.
import assert from "node:assert/strict";
import { Const, openLibc } from "../../src/io/libc.ts";
import { formatIp, parseIp } from "../../src/io/sockaddr.ts";
import { localNameOf, openUdpSocket, SocketSetupError } from "../../src/io/udp_socket_setup.ts";

const libc = openLibc();

function intOption(fd: number, level: number, option: number): number {
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  assert.equal(libc.symbols.getsockopt(fd, level, option, value, length), 0);
  return value[0]!;
}

/** The descriptor the next socket() gets: the lowest free one, so a leaked descriptor moves it. */
function nextFreeDescriptor(): number {
  const fd = libc.symbols.socket(Const.AF_INET, Const.SOCK_DGRAM | Const.SOCK_CLOEXEC, 0);
  assert.ok(fd >= 0);
  libc.symbols.close(fd);
  return fd;
}

Deno.test("openUdpSocket() binds port 0 to a kernel-chosen port with the options asked for", () => {
  const socket = openUdpSocket(libc, {
    address: parseIp("127.0.0.1", 4),
    port: 0,
    reusePort: true,
    receiveTimestamps: true,
    receiveTimeoutMs: 1500,
  });
  try {
    assert.ok(socket.localPort > 0);
    assert.equal(formatIp(socket.localAddress), "127.0.0.1");
    assert.equal(socket.wildcard, false);
    assert.equal(intOption(socket.fd, Const.SOL_SOCKET, Const.SO_REUSEPORT), 1);
    assert.equal(intOption(socket.fd, Const.SOL_SOCKET, Const.SO_TIMESTAMPNS), 1);
    assert.deepEqual(localNameOf(libc, socket.fd)?.port, socket.localPort);
  } finally {
    libc.symbols.close(socket.fd);
  }
});

Deno.test("openUdpSocket() makes IPv6 sockets v6-only so [::] and 0.0.0.0 share a port", () => {
  const v4 = openUdpSocket(libc, { address: parseIp("0.0.0.0", 4), port: 0 });
  try {
    const v6 = openUdpSocket(libc, { address: parseIp("::", 6), port: v4.localPort });
    try {
      assert.equal(v6.localPort, v4.localPort);
      assert.equal(v6.wildcard, true);
      assert.equal(intOption(v6.fd, Const.IPPROTO_IPV6, Const.IPV6_V6ONLY), 1);
    } finally {
      libc.symbols.close(v6.fd);
    }
  } finally {
    libc.symbols.close(v4.fd);
  }
});

Deno.test("openUdpSocket() names the failed step and closes the socket it made", () => {
  const holder = openUdpSocket(libc, { address: parseIp("127.0.0.1", 4), port: 0 });
  try {
    const before = nextFreeDescriptor();
    assert.throws(
      () => openUdpSocket(libc, { address: parseIp("127.0.0.1", 4), port: holder.localPort }),
      (thrown: unknown) =>
        thrown instanceof SocketSetupError && thrown.step === "bind" &&
        thrown.code === "EADDRINUSE" && /in use/i.test(thrown.message),
    );
    assert.equal(nextFreeDescriptor(), before);
    assert.throws(
      () => openUdpSocket(libc, { address: parseIp("192.0.2.1", 4), port: 0 }),
      (thrown: unknown) => thrown instanceof SocketSetupError && thrown.code === "EADDRNOTAVAIL",
    );
    assert.equal(nextFreeDescriptor(), before);
  } finally {
    libc.symbols.close(holder.fd);
  }
});

Deno.test("openUdpSocket() with connectTo reports the source address the route picks", () => {
  const socket = openUdpSocket(libc, {
    address: parseIp("0.0.0.0", 4),
    port: 0,
    connectTo: { address: parseIp("127.0.0.2", 4), port: 123 },
  });
  try {
    assert.equal(formatIp(socket.localAddress), "127.0.0.1");
    assert.ok(socket.localPort > 0);
  } finally {
    libc.symbols.close(socket.fd);
  }
});
