#!/usr/bin/python3
"""ntpq_peer_summary.py - renders billboard rows with ntpsec's own ntpq code (ntp.util.PeerSummary, as `ntpq -np -W 80`).

Reads JSON lines {"status": int, "text": "name=value, ...", "now": unix seconds} on stdin and writes
one JSON string per line (the row without its newline). Run it with Debian's /usr/bin/python3.
"""
import json, sys, time
import ntp.packet, ntp.util

summary = ntp.util.PeerSummary("peers", 2, 0, False, termwidth=80)
summary.header()
session = ntp.packet.ControlSession()
for line in sys.stdin:
    item = json.loads(line)
    session.response = item["text"].encode("latin-1")
    variables = session._ControlSession__parse_varlist(raw=True)
    real_time = time.time
    time.time = lambda: item["now"]
    try:
        row = summary.summary(item["status"], variables, 1)
    except Exception as error:  # ntpq itself would crash on this input
        row = "ERROR " + type(error).__name__
    finally:
        time.time = real_time
    print(json.dumps(row.rstrip("\n")), flush=True)
