// Tests of the recvmmsg/sendmmsg batch layout and of control message (cmsg) parsing and writing.
import assert from "node:assert/strict";
import {
  armReceive,
  createMmsgBatch,
  createReceiveMeta,
  packetBytes,
  parseReceiveControl,
  writePktinfo,
} from "../../src/io/mmsg_batch.ts";
import { addressOf, Const, Layout, readU64, writeU64 } from "../../src/io/libc.ts";

Deno.test("createMmsgBatch() wires each mmsghdr to its own iovec, name and control buffers", () => {
  const batch = createMmsgBatch(4);
  const base = addressOf(batch.memory);
  const view = batch.view;
  for (let i = 0; i < 4; i++) {
    const rx = batch.receiveHeader[i]!;
    assert.equal(readU64(view, rx + Layout.msgName), base + batch.receiveName[i]!);
    assert.equal(view.getUint32(rx + Layout.msgNameLen, true), 32);
    assert.equal(readU64(view, rx + Layout.msgIovLen), 1);
    assert.equal(readU64(view, rx + Layout.msgControl), base + batch.receiveControl[i]!);
    assert.equal(readU64(view, rx + Layout.msgControlLen), 128);
    const iovec = readU64(view, rx + Layout.msgIov) - base;
    assert.equal(readU64(view, iovec), base + batch.receiveData[i]!);
    assert.equal(readU64(view, iovec + 8), packetBytes);
    const tx = batch.transmitHeader[i]!;
    assert.equal(readU64(view, tx + Layout.msgName), base + batch.transmitName[i]!);
    assert.equal(readU64(view, tx + Layout.msgIov), base + batch.transmitIovec[i]!);
    assert.equal(readU64(view, batch.transmitIovec[i]!), base + batch.transmitData[i]!);
  }
  assert.equal(batch.receiveVector.byteLength, 4 * Layout.mmsghdrBytes);
  assert.equal(batch.receiveVector.byteOffset, batch.receiveHeader[0]);
  assert.equal(batch.transmitVector.byteOffset, batch.transmitHeader[0]);
});

Deno.test("armReceive() restores the lengths the kernel overwrote", () => {
  const batch = createMmsgBatch(2);
  const rx = batch.receiveHeader[1]!;
  batch.view.setUint32(rx + Layout.msgNameLen, 16, true);
  writeU64(batch.view, rx + Layout.msgControlLen, 32);
  batch.view.setUint32(rx + Layout.msgFlags, Const.MSG_TRUNC, true);
  armReceive(batch, 2);
  assert.equal(batch.view.getUint32(rx + Layout.msgNameLen, true), 32);
  assert.equal(readU64(batch.view, rx + Layout.msgControlLen), 128);
  assert.equal(batch.view.getUint32(rx + Layout.msgFlags, true), 0);
});

/** Appends one cmsg at `offset`; returns the next offset (CMSG_SPACE). */
function putCmsg(
  batch: ReturnType<typeof createMmsgBatch>,
  offset: number,
  cmsg: { level: number; type: number; data: Uint8Array },
): number {
  writeU64(batch.view, offset, Layout.cmsgHeaderBytes + cmsg.data.length);
  batch.view.setInt32(offset + 8, cmsg.level, true);
  batch.view.setInt32(offset + 12, cmsg.type, true);
  batch.memory.set(cmsg.data, offset + Layout.cmsgHeaderBytes);
  return offset + Layout.cmsgHeaderBytes + ((cmsg.data.length + 7) & ~7);
}

Deno.test("parseReceiveControl() finds the kernel timestamp and the IPv4 pktinfo", () => {
  const batch = createMmsgBatch(1);
  const start = batch.receiveControl[0]!;
  const timespec = new Uint8Array(16);
  const tsView = new DataView(timespec.buffer);
  tsView.setUint32(0, 1_795_860_123, true);
  tsView.setUint32(8, 987_654_321, true);
  let offset = putCmsg(batch, start, {
    level: Const.SOL_SOCKET,
    type: Const.SCM_TIMESTAMPNS,
    data: timespec,
  });
  const pktinfo = new Uint8Array(12);
  new DataView(pktinfo.buffer).setInt32(0, 7, true); // ifindex
  pktinfo.set([127, 0, 0, 2], 8); // ipi_addr: the request's destination
  offset = putCmsg(batch, offset, {
    level: Const.IPPROTO_IP,
    type: Const.IP_PKTINFO,
    data: pktinfo,
  });
  writeU64(batch.view, batch.receiveHeader[0]! + Layout.msgControlLen, offset - start);
  const meta = createReceiveMeta();
  parseReceiveControl(batch, 0, meta);
  assert.equal(meta.kernelSeconds, 1_795_860_123);
  assert.equal(meta.kernelNanoseconds, 987_654_321);
  assert.equal(meta.pktinfoIfindex, 7);
  assert.deepEqual(
    Array.from(batch.memory.subarray(meta.pktinfoAddressOffset, meta.pktinfoAddressOffset + 4)),
    [127, 0, 0, 2],
  );
});

Deno.test("parseReceiveControl() reports no timestamp when there is no control data", () => {
  const batch = createMmsgBatch(1);
  writeU64(batch.view, batch.receiveHeader[0]! + Layout.msgControlLen, 0);
  const meta = createReceiveMeta();
  meta.kernelSeconds = 5;
  parseReceiveControl(batch, 0, meta);
  assert.equal(meta.kernelSeconds, -1);
  assert.equal(meta.pktinfoIfindex, -1);
});

Deno.test("parseReceiveControl() stops at a cmsg whose length runs past the control data", () => {
  const batch = createMmsgBatch(1);
  const start = batch.receiveControl[0]!;
  writeU64(batch.view, start, 4096);
  batch.view.setInt32(start + 8, Const.SOL_SOCKET, true);
  batch.view.setInt32(start + 12, Const.SCM_TIMESTAMPNS, true);
  writeU64(batch.view, batch.receiveHeader[0]! + Layout.msgControlLen, 32);
  const meta = createReceiveMeta();
  parseReceiveControl(batch, 0, meta);
  assert.equal(meta.kernelSeconds, -1);
});

Deno.test("parseReceiveControl() reads an IPv6 pktinfo", () => {
  const batch = createMmsgBatch(1);
  const start = batch.receiveControl[0]!;
  const data = new Uint8Array(20);
  data[15] = 1; // ::1
  new DataView(data.buffer).setInt32(16, 3, true);
  const end = putCmsg(batch, start, { level: Const.IPPROTO_IPV6, type: Const.IPV6_PKTINFO, data });
  writeU64(batch.view, batch.receiveHeader[0]! + Layout.msgControlLen, end - start);
  const meta = createReceiveMeta();
  parseReceiveControl(batch, 0, meta);
  assert.equal(meta.pktinfoIfindex, 3);
  assert.equal(batch.memory[meta.pktinfoAddressOffset + 15], 1);
});

Deno.test("writePktinfo() writes in_pktinfo with the source in ipi_spec_dst", () => {
  const memory = new Uint8Array(64);
  memory.set([10, 1, 2, 3], 48);
  const length = writePktinfo(memory, 0, { family: 4, ifindex: 2, addressOffset: 48 });
  const view = new DataView(memory.buffer);
  assert.equal(length, 32); // CMSG_SPACE(12)
  assert.equal(readU64(view, 0), 28); // CMSG_LEN(12)
  assert.equal(view.getInt32(8, true), Const.IPPROTO_IP);
  assert.equal(view.getInt32(12, true), Const.IP_PKTINFO);
  assert.equal(view.getInt32(16, true), 2);
  assert.deepEqual(Array.from(memory.subarray(20, 24)), [10, 1, 2, 3]);
  assert.deepEqual(Array.from(memory.subarray(24, 28)), [0, 0, 0, 0]);
});

Deno.test("writePktinfo() writes in6_pktinfo with the address then the interface", () => {
  const memory = new Uint8Array(96);
  memory[64 + 15] = 1;
  const length = writePktinfo(memory, 0, { family: 6, ifindex: 9, addressOffset: 64 });
  const view = new DataView(memory.buffer);
  assert.equal(length, 40); // CMSG_SPACE(20)
  assert.equal(readU64(view, 0), 36); // CMSG_LEN(20)
  assert.equal(view.getInt32(8, true), Const.IPPROTO_IPV6);
  assert.equal(view.getInt32(12, true), Const.IPV6_PKTINFO);
  assert.equal(memory[16 + 15], 1);
  assert.equal(view.getInt32(32, true), 9);
});
