#!/usr/bin/python3
"""Prints the kernel clock discipline state through adjtimex(2) with modes = 0 (read only).

An independent referee for the tests and benchmarks: written with ctypes, not with the project's
FFI code, so a wrong struct layout in one shows up against the other. It never writes: `modes`
is 0, which only reads.

    adjtimex_read.py          one line: offset freq status constant tick state
    adjtimex_read.py --json   the same fields plus maxerror and esterror as JSON
"""
import ctypes
import ctypes.util
import json
import sys

LONG = ctypes.c_long


class Timeval(ctypes.Structure):
    _fields_ = [("sec", LONG), ("usec", LONG)]


class Timex(ctypes.Structure):
    # struct timex from <sys/timex.h> (glibc, LP64 and ILP32 alike: every field a long or int).
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", LONG),
        ("freq", LONG),
        ("maxerror", LONG),
        ("esterror", LONG),
        ("status", ctypes.c_int),
        ("constant", LONG),
        ("precision", LONG),
        ("tolerance", LONG),
        ("time", Timeval),
        ("tick", LONG),
        ("ppsfreq", LONG),
        ("jitter", LONG),
        ("shift", ctypes.c_int),
        ("stabil", LONG),
        ("jitcnt", LONG),
        ("calcnt", LONG),
        ("errcnt", LONG),
        ("stbcnt", LONG),
        ("tai", ctypes.c_int),
        ("reserved", ctypes.c_int * 11),
    ]


def main() -> int:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    timex = Timex()
    timex.modes = 0
    state = libc.adjtimex(ctypes.byref(timex))
    if state < 0:
        print(f"adjtimex failed: errno {ctypes.get_errno()}", file=sys.stderr)
        return 1
    fields = {name: getattr(timex, name) for name in
              ("offset", "freq", "status", "constant", "tick", "maxerror", "esterror")}
    fields["state"] = state
    if "--json" in sys.argv or "--full" in sys.argv:
        print(json.dumps(fields))
    else:
        print(f"offset={timex.offset} freq={timex.freq} status=0x{timex.status:04x} "
              f"constant={timex.constant} tick={timex.tick} state={state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
