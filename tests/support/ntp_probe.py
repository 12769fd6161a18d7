#!/usr/bin/python3
"""ntp_probe.py - our independent NTP probe for the end-to-end tests (Debian /usr/bin/python3 + scapy).

Requests are built and replies dissected with scapy's NTP layers (scapy.layers.ntp), carried over an
ordinary UDP socket, so it works on loopback and inside network namespaces (ip netns exec).
Every command prints JSON lines on stdout.

  ntp_probe.py query HOST PORT [--version N] [--transmit HEX|random] [--count N] [--interval S] [--timeout S]
      one line per sample: {"result": "OK"|"KOD"|"UNSYNC"|"BAD"|"NO-ANSWER", "problems": [...], ...}
      "problems" lists every malformed layer or field found in the reply. exit 0 when every sample is OK.
  ntp_probe.py raw HOST PORT HEX [--timeout S]
      sends the bytes given in hex once; prints {"answered": bool, "replies": [hex, ...]}
  ntp_probe.py flood HOST PORT [--count N] [--timeout S] [--source ADDR]
      sends N mode 3 requests back to back from one socket (bound to ADDR if given), then counts the replies:
      {"sent": N, "ok": n, "kod": {"RATE": n, ...}, "other": n}
"""
import argparse, json, logging, os, socket, struct, sys, time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.ntp import NTP, NTPHeader  # noqa: E402
from scapy.packet import NoPayload  # noqa: E402

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900 to 1970
FRAC = 1 << 32


def now_ntp64():
    ns = time.time_ns()
    sec, rem = divmod(ns, 1_000_000_000)
    return ((sec + NTP_EPOCH_OFFSET) << 32) | ((rem << 32) // 1_000_000_000)


def resolve(host, port):
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    return ai[0][0], ai[0][4]


def build_request(version, transmit):
    req = NTPHeader(leap=0, version=version, mode=3, stratum=0, poll=0, precision=0,
                    delay=0, dispersion=0, ref_id=b"\0\0\0\0", ref=0, orig=0, recv=0, sent=0)
    wire = bytearray(bytes(req))
    if len(wire) != 48:
        raise SystemExit("scapy built a %d-byte request" % len(wire))
    wire[40:48] = struct.pack("!Q", transmit)
    return wire


def layer_names(pkt):
    names, layer = [], pkt
    while not isinstance(layer, NoPayload):
        names.append(type(layer).__name__)
        layer = layer.payload
    return names


def check_reply(data, request_version, t1, t4):
    """Dissects a reply with scapy and returns (result, fields, problems)."""
    problems = []
    if len(data) < 48:
        return "BAD", {"reply_len": len(data)}, ["short reply: %d bytes" % len(data)]
    pkt = NTP(data)
    layers = layer_names(pkt)
    if layers != ["NTPHeader"]:
        problems.append("unexpected layers %s (reply is %d bytes)" % (layers, len(data)))
    hdr = pkt if isinstance(pkt, NTPHeader) else NTPHeader(data[:48])
    precision = struct.unpack("b", data[3:4])[0]
    root_delay = struct.unpack("!I", data[4:8])[0] / 65536.0
    root_disp = struct.unpack("!I", data[8:12])[0] / 65536.0
    ref, org, rec, xmt = struct.unpack("!QQQQ", data[16:48])
    fields = {
        "reply_len": len(data), "layers": layers, "leap": hdr.leap, "version": hdr.version,
        "mode": hdr.mode, "stratum": hdr.stratum, "poll": struct.unpack("b", data[2:3])[0],
        "precision": precision, "root_delay": root_delay, "root_dispersion": root_disp,
        "refid": data[12:16].hex(), "reference": "%016x" % ref, "origin": "%016x" % org,
        "receive": "%016x" % rec, "transmit": "%016x" % xmt, "request_transmit": "%016x" % t1,
    }
    if hdr.mode != 4:
        problems.append("mode %d, expected 4 (server)" % hdr.mode)
    if hdr.version != request_version:
        problems.append("version %d, request had %d" % (hdr.version, request_version))
    if org != t1:
        problems.append("origin %016x does not echo the request transmit %016x" % (org, t1))
    if hdr.stratum == 0:
        fields["kiss_code"] = data[12:16].decode("ascii", "replace")
        return "KOD", fields, problems
    if hdr.leap == 3 or hdr.stratum >= 16:
        return "UNSYNC", fields, problems
    if not -32 <= precision <= 0:
        problems.append("precision %d out of range" % precision)
    if root_disp > 16 or root_delay > 16:
        problems.append("root delay %.6f / dispersion %.6f above 16 s" % (root_delay, root_disp))
    if rec == 0 or xmt == 0:
        problems.append("zero receive or transmit timestamp")
    if xmt < rec:
        problems.append("transmit %016x before receive %016x" % (xmt, rec))
    if ref == 0 or ref > xmt:
        problems.append("reference time %016x zero or after transmit %016x" % (ref, xmt))
    # Same machine, same clock: the server's stamps must lie between our send and receive, +/- 1 s.
    if not (t1 - FRAC <= rec <= t4 + FRAC and t1 - FRAC <= xmt <= t4 + FRAC):
        problems.append("server timestamps not within 1 s of the exchange")
    fields["offset"] = ((rec - t1) + (xmt - t4)) / 2 / FRAC
    fields["delay"] = ((t4 - t1) - (xmt - rec)) / FRAC
    return ("BAD" if problems else "OK"), fields, problems


def one_query(host, port, version, transmit, timeout):
    fam, addr = resolve(host, port)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        t1 = transmit if transmit is not None else now_ntp64()
        wire = build_request(version, t1)
        if transmit is None:  # stamp as late as possible
            t1 = now_ntp64()
            wire[40:48] = struct.pack("!Q", t1)
        s.sendto(wire, addr)
        sent_at = now_ntp64()
        try:
            while True:
                data, src = s.recvfrom(65535)
                t4 = now_ntp64()
                if src[0] == addr[0] and src[1] == addr[1]:
                    break
        except socket.timeout:
            return {"result": "NO-ANSWER", "problems": [], "request_transmit": "%016x" % t1}
        # For a chosen transmit timestamp (e.g. chrony's random one) time the exchange by the wall clock.
        result, fields, problems = check_reply(data, version, t1, t4) if transmit is None else \
            check_reply_random(data, version, t1, sent_at, t4)
        return dict(fields, result=result, problems=problems)
    finally:
        s.close()


def check_reply_random(data, version, t1, sent_at, t4):
    """Like check_reply, for a request whose transmit timestamp is not the time of day."""
    result, fields, problems = check_reply(data, version, t1, t4)
    problems = [p for p in problems if not p.startswith("server timestamps not within")]
    if len(data) >= 48:
        rec, xmt = struct.unpack("!QQ", data[32:48])
        if not (sent_at - FRAC <= rec <= t4 + FRAC and sent_at - FRAC <= xmt <= t4 + FRAC):
            problems.append("server timestamps not within 1 s of the exchange")
    fields.pop("offset", None)
    fields.pop("delay", None)
    if result in ("OK", "BAD"):
        result = "BAD" if problems else "OK"
    return result, fields, problems


def cmd_query(a):
    transmit = None
    if a.transmit == "random":
        transmit = int.from_bytes(os.urandom(8), "big")
    elif a.transmit:
        transmit = int(a.transmit, 16)
    worst = 0
    codes = {"OK": 0, "NO-ANSWER": 2, "KOD": 3, "UNSYNC": 4, "BAD": 5}
    for i in range(a.count):
        r = one_query(a.host, a.port, a.version, transmit, a.timeout)
        print(json.dumps(r), flush=True)
        worst = max(worst, codes[r["result"]])
        if i + 1 < a.count:
            time.sleep(a.interval)
    return worst


def cmd_raw(a):
    fam, addr = resolve(a.host, a.port)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    replies = []
    try:
        s.sendto(bytes.fromhex(a.hex), addr)
        deadline = time.monotonic() + a.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data, _ = s.recvfrom(65535)
                replies.append(data.hex())
            except socket.timeout:
                break
    finally:
        s.close()
    print(json.dumps({"answered": bool(replies), "replies": replies}))
    return 0


def cmd_flood(a):
    fam, addr = resolve(a.host, a.port)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    counts = {"sent": 0, "ok": 0, "kod": {}, "other": 0}
    try:
        if a.source:
            s.bind((a.source, 0))
        for _ in range(a.count):
            s.sendto(build_request(4, now_ntp64()), addr)
            counts["sent"] += 1
        deadline = time.monotonic() + a.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            if len(data) >= 48 and data[1] == 0:
                code = data[12:16].decode("ascii", "replace")
                counts["kod"][code] = counts["kod"].get(code, 0) + 1
            elif len(data) >= 48 and (data[0] & 7) == 4:
                counts["ok"] += 1
            else:
                counts["other"] += 1
    finally:
        s.close()
    print(json.dumps(counts))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["query", "raw", "flood"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("hex", nargs="?", default="")
    ap.add_argument("--version", type=int, default=4)
    ap.add_argument("--transmit", default="")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--source", default="")
    a = ap.parse_args()
    if a.cmd == "query":
        return cmd_query(a)
    if a.cmd == "raw":
        return cmd_raw(a)
    return cmd_flood(a)


if __name__ == "__main__":
    sys.exit(main())
