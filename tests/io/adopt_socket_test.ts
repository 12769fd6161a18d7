// Sockets inherited from systemd: a dual-stack IPv6 socket is refused (IPv4 clients would meet only the IPv6 restrict rules), and a receive buffer larger than asked is kept, never lowered.
import assert from "node:assert/strict";
import { Const, openLibc } from "../../src/io/libc.ts";
import { encodeSockaddr, parseIp } from "../../src/io/sockaddr.ts";
import { Layout } from "../../src/io/libc.ts";
import { InheritedSocketError } from "../../src/io/listen_setup_error.ts";
import { bindListenSockets, closeSockets } from "../../src/io/udp_listen_sockets.ts";

const libc = openLibc();

/** A UDP socket bound the way a .socket unit might leave it (no options of ours). */
function boundSocket(hostname: string, family: 4 | 6, v6only: boolean | null): number {
  const fd = libc.symbols.socket(
    family === 4 ? Const.AF_INET : Const.AF_INET6,
    Const.SOCK_DGRAM,
    0,
  );
  assert.ok(fd >= 0);
  if (v6only !== null) {
    libc.symbols.setsockopt(
      fd,
      Const.IPPROTO_IPV6,
      Const.IPV6_V6ONLY,
      new Int32Array([v6only ? 1 : 0]),
      4,
    );
  }
  const sockaddr = new Uint8Array(Layout.sockaddrIn6Bytes);
  const length = encodeSockaddr(sockaddr, 0, { ...parseIp(hostname, family), port: 0 });
  assert.equal(libc.symbols.bind(fd, sockaddr, length), 0);
  return fd;
}

const options = { copies: 1, receiveBufferBytes: 1 << 20, receiveTimeoutMs: 200 };

Deno.test("an inherited dual-stack [::] socket is refused with the .socket unit's fix", () => {
  const fd = boundSocket("::", 6, false);
  try {
    assert.throws(
      () =>
        bindListenSockets(libc, [{ hostname: "::", port: 0, family: 6, inheritedFd: fd }], options),
      (error: unknown) =>
        error instanceof InheritedSocketError &&
        /descriptor \d+ \(IPV6_V6ONLY\).*BindIPv6Only=ipv6-only/.test(error.message),
    );
  } finally {
    libc.symbols.close(fd);
  }
});

Deno.test("an inherited IPv6-only socket is served; a receive buffer above the one asked is kept", () => {
  const fd = boundSocket("::1", 6, true);
  // systemd's ReceiveBuffer= sets it with SO_RCVBUFFORCE; as root here, so can we.
  libc.symbols.setsockopt(fd, Const.SOL_SOCKET, Const.SO_RCVBUFFORCE, new Int32Array([4 << 20]), 4);
  const table = bindListenSockets(
    libc,
    [{ hostname: "::1", port: 0, family: 6, inheritedFd: fd }],
    options,
  );
  try {
    const [socket] = table.rows[0]!;
    assert.equal(socket?.fd, fd);
    assert.ok(socket!.port > 0);
    assert.ok(socket!.receiveBufferBytes >= 4 << 20, `buffer ${socket!.receiveBufferBytes}`);
  } finally {
    closeSockets(libc, table.rows);
  }
});
