#!/usr/bin/env python3
"""Times a daemon's start to READY=1, as systemd would see it.

    ready.py SOCKET TIMEOUT_S -- COMMAND...

Binds a datagram socket at SOCKET (which must not exist), starts
COMMAND with NOTIFY_SOCKET pointing at it, and waits at most TIMEOUT_S
for a message holding READY=1. Then prints one line,
`ready_s=... rss_kib=...` (the daemon's VmRSS once ready), stops the
daemon with SIGTERM (SIGKILL after 10 s) and exits 0; 1 when it
exited or was not ready in time. The clock starts just before the
command is started: the time to exec it counts."""

import os
import signal
import socket
import subprocess
import sys
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def wait_ready(sock, child, deadline):
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or child.poll() is not None:
            return None
        # Short waits, so that a daemon that dies is seen at once.
        sock.settimeout(min(left, 0.05))
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        if b"READY=1" in data.split(b"\n"):
            return time.monotonic()


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: ready.py SOCKET TIMEOUT_S -- COMMAND...")
    path, timeout, command = sys.argv[1], float(sys.argv[2]), sys.argv[4:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    start = time.monotonic()
    child = subprocess.Popen(command, env=env)
    ready = wait_ready(sock, child, start + timeout)
    status = 1
    if ready is not None:
        print("ready_s=%.3f rss_kib=%d" % (ready - start, rss_kib(child.pid)),
              flush=True)
        status = 0
    else:
        print("ready.py: no READY=1 within %g s" % timeout, file=sys.stderr)
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    sys.exit(status)


if __name__ == "__main__":
    main()
