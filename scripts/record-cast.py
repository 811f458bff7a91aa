#!/usr/bin/env python3
"""Record the scripted demo as an asciinema v2 cast: assets/demo.cast.

    cargo build --release && python3 scripts/record-cast.py

Runs `wsdeck demo --script assets/demo.script` in a pseudo-terminal of 110x30 and writes
every output chunk with its time, so `asciinema play assets/demo.cast` replays the session.
"""
import json
import os
import pty
import select
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLS, ROWS = 110, 30


def main():
    binary = os.path.join(ROOT, "target", "release", "wsdeck")
    if not os.path.exists(binary):
        sys.exit("build first: cargo build --release")
    out_path = os.path.join(ROOT, "assets", "demo.cast")
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(binary, [binary, "demo", "--tick", "3", "--script",
                          os.path.join(ROOT, "assets", "demo.script")])
    import fcntl
    import struct
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    start = time.monotonic()
    events = []
    while True:
        r, _, _ = select.select([fd], [], [], 30)
        if not r:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        events.append([round(time.monotonic() - start, 6), "o", data.decode("utf-8", "replace")])
    _, status = os.waitpid(pid, 0)
    header = {"version": 2, "width": COLS, "height": ROWS,
              "timestamp": int(time.time()), "title": "wsdeck demo --script assets/demo.script",
              "env": {"TERM": "xterm-256color"}}
    with open(out_path, "w") as f:
        f.write(json.dumps(header) + "\n")
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    print(f"wrote {out_path}: {len(events)} events, {events[-1][0] if events else 0:.1f} s, exit {status >> 8}")


if __name__ == "__main__":
    main()
