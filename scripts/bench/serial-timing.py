#!/usr/bin/env python3
"""Runs a command and timestamps its standard output, for scripts/bench/emulated.

serial-timing.py CMD... prints, in milliseconds since just before the process was spawned:
  first-byte MS            the first byte on the command's stdout (the guest's first serial byte
                           when the VMM's serial port goes to stdout)
  line MS TEXT             every stdout line, at the moment its newline arrived
  exit MS STATUS           the process ended (status as the shell would report it)
  cpu SECONDS              user + system CPU time of the process and its children (os.wait4):
                           on a loaded host a steadier measure of work done than wall time
stderr of the command is discarded. One clock (time.monotonic) for both VMMs, so the figures of
our launcher and of QEMU are measured the same way.

serial-timing.py --first-byte CMD... stops at the first byte: prints its first-byte line, kills
the process and prints its cpu line (CPU time up to the kill, all threads), for start-up figures
(scripts/bench/startup.sh) of commands that would run on.
"""
import os
import subprocess
import sys
import time

first_byte_only = len(sys.argv) > 1 and sys.argv[1] == "--first-byte"
command = sys.argv[2:] if first_byte_only else sys.argv[1:]
start = time.monotonic()
p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
fd = p.stdout.fileno()
if first_byte_only:
    got = os.read(fd, 1)
    now = (time.monotonic() - start) * 1000
    p.kill()
    _, _, usage = os.wait4(p.pid, 0)
    print("first-byte %s" % ("%.1f" % now if got else "nan"))
    print("cpu %.3f" % (usage.ru_utime + usage.ru_stime))
    sys.exit(0)
first = None
pending = b""
out = []
while True:
    chunk = os.read(fd, 65536)
    now = (time.monotonic() - start) * 1000
    if not chunk:
        break
    if first is None:
        first = now
    pending += chunk
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        out.append("line %.1f %s" % (now, line.decode("utf-8", "replace").rstrip("\r")))
_, raw_status, usage = os.wait4(p.pid, 0)
end = (time.monotonic() - start) * 1000
status = os.waitstatus_to_exitcode(raw_status)
if status < 0:
    status = 128 - status  # killed by a signal: as the shell reports it
print("first-byte %s" % ("%.1f" % first if first is not None else "nan"))
for l in out:
    print(l)
print("exit %.1f %d" % (end, status))
print("cpu %.3f" % (usage.ru_utime + usage.ru_stime))
