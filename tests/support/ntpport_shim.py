#!/usr/bin/python3
"""ntpport_shim.py PORT SCRIPT [ARGS...] - runs an unmodified ntpsec Python tool (ntpdig, ntpq), which
always targets UDP port 123 / service "ntp", against PORT instead. Only socket.getaddrinfo() is wrapped;
the tool's own packet building, parsing and printing are untouched. Run it with Debian's /usr/bin/python3.
"""
import os, runpy, socket, sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
PORT = int(sys.argv[1])
SCRIPT = sys.argv[2]
_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, port, *args, **kwargs):
    if port in (123, "123", "ntp"):
        port = PORT
    return _getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = getaddrinfo
sys.argv = [SCRIPT] + sys.argv[3:]
sys.path.insert(0, os.path.dirname(os.path.abspath(SCRIPT)))
runpy.run_path(SCRIPT, run_name="__main__")
