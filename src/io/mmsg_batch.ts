// Preallocated recvmmsg/sendmmsg batches: the mmsghdr/iovec arrays wired to per-slot buffers, and cmsg parsing.
//
// One ArrayBuffer holds everything, so pointers into it stay valid for the batch's lifetime
// (V8 never moves an ArrayBuffer's backing store). Receive slot i and transmit slot j are
// separate: replies are compacted into transmit slots 0..n-1 so one sendmmsg sends them all.
import { addressOf, Const, Layout, readU64, writeU64 } from "./libc.ts";

/** Bytes reserved per received datagram; larger ones are truncated (MSG_TRUNC) and dropped. */
export const packetBytes = 2048;
/**
 * Bytes reserved per transmitted datagram by default: plain replies are 48 bytes (a mode 4
 * header or a Kiss-o'-Death), so one cache line holds one. NTS replies are as long as their
 * request: a batch for NTS reserves {@link packetBytes} per reply.
 */
export const transmitPacketBytes = 64;
/**
 * Receive slots are this much more than packetBytes apart: with a 2048-byte stride every slot's
 * header falls into the same two L1 cache sets, and a batch evicts itself.
 */
const receiveSlotPadding = 64;
const nameBytes = 32;
const receiveControlBytes = 128;
const transmitControlBytes = 64;

/** The batch memory and the offsets of each region. */
export interface MmsgBatch {
  readonly capacity: number;
  /** Bytes reserved per transmitted datagram. */
  readonly transmitBytes: number;
  readonly memory: Uint8Array;
  readonly view: DataView;
  /** The receive mmsghdr array (capacity entries), passed to recvmmsg. */
  readonly receiveVector: Uint8Array;
  /** The transmit mmsghdr array (capacity entries), passed to sendmmsg. */
  readonly transmitVector: Uint8Array;
  /** Byte offsets in `memory` of each slot's regions. */
  readonly receiveData: readonly number[];
  readonly transmitData: readonly number[];
  readonly receiveName: readonly number[];
  readonly transmitName: readonly number[];
  readonly receiveControl: readonly number[];
  readonly transmitControl: readonly number[];
  /** Offsets in `memory` of each receive / transmit mmsghdr and iovec. */
  readonly receiveHeader: readonly number[];
  readonly transmitHeader: readonly number[];
  readonly transmitIovec: readonly number[];
}

/**
 * Allocates a batch of `capacity` slots and wires every mmsghdr to its iovec, name and control
 * buffers. Call {@link armReceive} before each recvmmsg. `transmitBytes` (default
 * {@link transmitPacketBytes}) is the room per reply.
 */
export function createMmsgBatch(
  capacity: number,
  options: { readonly transmitBytes?: number } = {},
): MmsgBatch {
  const transmitBytes = options.transmitBytes ?? transmitPacketBytes;
  const perSlot = packetBytes + receiveSlotPadding + transmitBytes + 2 * nameBytes +
    receiveControlBytes + transmitControlBytes +
    2 * Layout.iovecBytes + 2 * Layout.mmsghdrBytes;
  const memory = new Uint8Array(capacity * perSlot);
  const view = new DataView(memory.buffer);
  const base = addressOf(memory);
  let cursor = 0;
  const region = (bytes: number): number[] => {
    const offsets: number[] = [];
    for (let i = 0; i < capacity; i++) offsets.push(cursor + i * bytes);
    cursor += capacity * bytes;
    return offsets;
  };
  const receiveHeaderStart = cursor;
  const receiveHeader = region(Layout.mmsghdrBytes);
  const transmitHeaderStart = cursor;
  const transmitHeader = region(Layout.mmsghdrBytes);
  const receiveIovec = region(Layout.iovecBytes);
  const transmitIovec = region(Layout.iovecBytes);
  const receiveName = region(nameBytes);
  const transmitName = region(nameBytes);
  const receiveControl = region(receiveControlBytes);
  const transmitControl = region(transmitControlBytes);
  const receiveData = region(packetBytes + receiveSlotPadding);
  const transmitData = region(transmitBytes);
  for (let i = 0; i < capacity; i++) {
    writeU64(view, receiveIovec[i]!, base + receiveData[i]!);
    writeU64(view, receiveIovec[i]! + 8, packetBytes);
    writeU64(view, transmitIovec[i]!, base + transmitData[i]!);
    const rx = receiveHeader[i]!;
    writeU64(view, rx + Layout.msgName, base + receiveName[i]!);
    writeU64(view, rx + Layout.msgIov, base + receiveIovec[i]!);
    writeU64(view, rx + Layout.msgIovLen, 1);
    writeU64(view, rx + Layout.msgControl, base + receiveControl[i]!);
    const tx = transmitHeader[i]!;
    writeU64(view, tx + Layout.msgName, base + transmitName[i]!);
    writeU64(view, tx + Layout.msgIov, base + transmitIovec[i]!);
    writeU64(view, tx + Layout.msgIovLen, 1);
    writeU64(view, tx + Layout.msgControl, base + transmitControl[i]!);
  }
  const batch: MmsgBatch = {
    capacity,
    transmitBytes,
    memory,
    view,
    receiveVector: memory.subarray(
      receiveHeaderStart,
      receiveHeaderStart + capacity * Layout.mmsghdrBytes,
    ),
    transmitVector: memory.subarray(
      transmitHeaderStart,
      transmitHeaderStart + capacity * Layout.mmsghdrBytes,
    ),
    receiveData,
    transmitData,
    receiveName,
    transmitName,
    receiveControl,
    transmitControl,
    receiveHeader,
    transmitHeader,
    transmitIovec,
  };
  armReceive(batch, capacity);
  return batch;
}

/**
 * Resets the in/out fields (name and control lengths, flags) the kernel overwrote in the first
 * `used` receive headers, so they can receive again.
 */
export function armReceive(batch: MmsgBatch, used: number): void {
  const view = batch.view;
  for (let i = 0; i < used; i++) {
    const rx = batch.receiveHeader[i]!;
    view.setUint32(rx + Layout.msgNameLen, nameBytes, true);
    writeU64(view, rx + Layout.msgControlLen, receiveControlBytes);
    view.setUint32(rx + Layout.msgFlags, 0, true);
  }
}

/** What the kernel told about one received datagram besides its bytes. */
export interface ReceiveMeta {
  /** Kernel receive timestamp (SO_TIMESTAMPNS), or seconds = -1 when absent. */
  kernelSeconds: number;
  kernelNanoseconds: number;
  /** Destination address and interface (IP_PKTINFO / IPV6_PKTINFO), when enabled; else -1. */
  pktinfoIfindex: number;
  /** Offset in batch memory of the destination address bytes (4 or 16), valid if ifindex >= 0. */
  pktinfoAddressOffset: number;
}

/** Creates an empty {@link ReceiveMeta} to be filled by {@link parseReceiveControl}. */
export function createReceiveMeta(): ReceiveMeta {
  return { kernelSeconds: -1, kernelNanoseconds: 0, pktinfoIfindex: -1, pktinfoAddressOffset: 0 };
}

/** Walks the control messages of receive slot `slot` and fills `meta`. */
export function parseReceiveControl(batch: MmsgBatch, slot: number, meta: ReceiveMeta): void {
  const view = batch.view;
  meta.kernelSeconds = -1;
  meta.pktinfoIfindex = -1;
  const start = batch.receiveControl[slot]!;
  const end = start + readU64(view, batch.receiveHeader[slot]! + Layout.msgControlLen);
  let offset = start;
  while (offset + Layout.cmsgHeaderBytes <= end) {
    const length = readU64(view, offset);
    if (length < Layout.cmsgHeaderBytes || offset + length > end) break;
    const level = view.getInt32(offset + 8, true);
    const type = view.getInt32(offset + 12, true);
    const data = offset + Layout.cmsgHeaderBytes;
    if (level === Const.SOL_SOCKET && type === Const.SCM_TIMESTAMPNS) {
      meta.kernelSeconds = view.getUint32(data, true) +
        view.getInt32(data + 4, true) * 0x1_0000_0000;
      meta.kernelNanoseconds = view.getUint32(data + 8, true);
    } else if (level === Const.IPPROTO_IP && type === Const.IP_PKTINFO) {
      // struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
      meta.pktinfoIfindex = view.getInt32(data, true);
      meta.pktinfoAddressOffset = data + 8;
    } else if (level === Const.IPPROTO_IPV6 && type === Const.IPV6_PKTINFO) {
      // struct in6_pktinfo { in6_addr ipi6_addr; unsigned ipi6_ifindex; }
      meta.pktinfoAddressOffset = data;
      meta.pktinfoIfindex = view.getInt32(data + 16, true);
    }
    offset += (length + 7) & ~7;
  }
}

/**
 * Writes an IP_PKTINFO / IPV6_PKTINFO control message into transmit slot `slot` so the reply
 * leaves from the address (and interface) the request arrived at; returns its length in bytes.
 */
export function writeTransmitPktinfo(
  batch: MmsgBatch,
  slot: number,
  options: { family: 4 | 6; ifindex: number; addressOffset: number },
): number {
  return writePktinfo(batch.memory, batch.transmitControl[slot]!, options, batch.view);
}

/**
 * Writes a pktinfo control message at `offset` of `memory`, copying the destination address
 * from `addressOffset` (also in `memory`); returns the control length (CMSG_SPACE).
 */
export function writePktinfo(
  memory: Uint8Array,
  offset: number,
  options: { family: 4 | 6; ifindex: number; addressOffset: number },
  /** A view of `memory` from its first byte (the batch's own, so no view is made per reply). */
  view: DataView = new DataView(memory.buffer, memory.byteOffset),
): number {
  const data = offset + Layout.cmsgHeaderBytes;
  if (options.family === 4) {
    writeU64(view, offset, Layout.cmsgHeaderBytes + 12);
    view.setInt32(offset + 8, Const.IPPROTO_IP, true);
    view.setInt32(offset + 12, Const.IP_PKTINFO, true);
    view.setInt32(data, options.ifindex, true);
    memory.copyWithin(data + 4, options.addressOffset, options.addressOffset + 4); // ipi_spec_dst
    view.setUint32(data + 8, 0, true); // ipi_addr (ignored on send)
    return Layout.cmsgHeaderBytes + 16;
  }
  writeU64(view, offset, Layout.cmsgHeaderBytes + 20);
  view.setInt32(offset + 8, Const.IPPROTO_IPV6, true);
  view.setInt32(offset + 12, Const.IPV6_PKTINFO, true);
  memory.copyWithin(data, options.addressOffset, options.addressOffset + 16);
  view.setInt32(data + 16, options.ifindex, true);
  view.setInt32(data + 20, 0, true);
  return Layout.cmsgHeaderBytes + 24;
}
