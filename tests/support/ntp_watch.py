#!/usr/bin/python3
# Watches what an NTP server serves: a mode 3 request every INTERVAL s, one JSON line per sample (stdlib only, starts fast).
"""ntp_watch.py HOST PORT [--interval S] [--duration S] [--timeout S]

Every sample is one JSON line on stdout, flushed:
  {"wall": <unix s when the request left>, "answered": true, "leap": L, "stratum": S,
   "refid": "<8 hex>", "offset": <s>, "delay": <s>}
  {"wall": ..., "answered": false}
offset uses the NTP sign (positive: the server is ahead of this host's clock); the request's
transmit timestamp is the time of day and the reply must echo it (else the sample is not
answered). Runs for --duration seconds (or until killed), exit 0.
"""
import argparse, json, os, socket, struct, sys, time

NTP_UNIX_OFFSET = 2208988800
FRAC = 2 ** 32


def ntp64(unix_seconds):
    return int((unix_seconds + NTP_UNIX_OFFSET) * FRAC)


def unix(ntp):
    return ntp / FRAC - NTP_UNIX_OFFSET


def one_sample(sock, addr, timeout):
    request = bytearray(48)
    request[0] = (4 << 3) | 3
    t1 = time.time()
    xmt = ntp64(t1)
    request[40:48] = struct.pack("!Q", xmt)
    sock.sendto(bytes(request), addr)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return {"wall": t1, "answered": False}
        sock.settimeout(left)
        try:
            data, src = sock.recvfrom(2048)
        except (socket.timeout, ConnectionRefusedError, OSError):
            return {"wall": t1, "answered": False}
        t4 = time.time()
        if src[:2] != addr[:2] or len(data) < 48:
            continue
        org, rec, tx = struct.unpack("!QQQ", data[24:48])
        if org != xmt:
            continue  # a late reply to an earlier request
        t2, t3 = unix(rec), unix(tx)
        return {
            "wall": t1,
            "answered": True,
            "leap": data[0] >> 6,
            "stratum": data[1],
            "refid": data[12:16].hex(),
            "offset": ((t2 - t1) + (t3 - t4)) / 2,
            "delay": (t4 - t1) - (t3 - t2),
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--timeout", type=float, default=0.3)
    a = ap.parse_args()
    info = socket.getaddrinfo(a.host, a.port, type=socket.SOCK_DGRAM)[0]
    sock = socket.socket(info[0], socket.SOCK_DGRAM)
    end = time.monotonic() + a.duration
    try:
        while time.monotonic() < end:
            started = time.monotonic()
            sample = one_sample(sock, info[4], a.timeout)
            print(json.dumps(sample), flush=True)
            time.sleep(max(0.0, a.interval - (time.monotonic() - started)))
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
