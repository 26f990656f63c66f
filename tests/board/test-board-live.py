#!/usr/bin/env python3
"""Live test: a writer appends a point and flushes every 100 ms while the
board runs; each count the writer flushed must show in the board's chart
(its point count, traced on the monotonic clock) within 1 second.
Usage: test-board-live.py SLUICE_BOARD BOARD_WRITE_LOGS
Exit 77 when no display can be had."""
import os, subprocess, sys, tempfile, threading, time

board, writer = sys.argv[1], sys.argv[2]
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    sys.exit(77)
logdir = tempfile.mkdtemp(prefix="board-live-")
env = dict(os.environ, SLUICE_BOARD_TRACE_POINTS="1", GSK_RENDERER="cairo", GTK_A11Y="none",
           XDG_CONFIG_HOME=tempfile.mkdtemp(prefix="board-config-"))   # default settings
# the run exists (one point) before the board starts
subprocess.run([writer, "live", logdir + "/run", "1", "0"], check=True, stdout=subprocess.DEVNULL)
app = subprocess.Popen([board, logdir], env=env, stdout=subprocess.PIPE, text=True)
seen = {}  # count -> first time shown (µs)
def read_board():
    for line in app.stdout:
        parts = line.split()
        if len(parts) == 4 and parts[0] == "points" and parts[1] == "live/loss":
            seen.setdefault(int(parts[2]), int(parts[3]))
threading.Thread(target=read_board, daemon=True).start()
time.sleep(2.0)
w = subprocess.Popen([writer, "live", logdir + "/run", "30", "100"], stdout=subprocess.PIPE, text=True)
flushed = []
for line in w.stdout:
    p = line.split()
    flushed.append((int(p[1]) + 1, int(p[2])))  # +1: the first point written before
w.wait()
time.sleep(1.5)
app.terminate()
app.wait(timeout=10)
worst = 0.0
missing = []
for count, t in flushed:
    shown = [ts for c, ts in seen.items() if c >= count]
    if not shown:
        missing.append(count)
        continue
    worst = max(worst, (min(shown) - t) / 1e6)
print(f"flushes: {len(flushed)}, board updates seen: {len(seen)}, worst latency: {worst*1000:.0f} ms")
if missing:
    print("never shown:", missing)
    sys.exit(1)
sys.exit(0 if worst <= 1.0 else 1)
