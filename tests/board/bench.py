#!/usr/bin/env python3
"""Board benchmark (printed, not asserted): a generated logdir of RUNS x
TAGS x STEPS scalar points (default 100 x 10 x 10,000: 10 million), opened
with `sluice-board --bench`.  Prints the time from start to the first
chart drawn and to all data loaded and drawn, the frame times while
panning a chart of every run, and the peak resident memory, against the
goals (first chart < 2 s, all loaded < 10 s, frames < 16 ms).

Usage: bench.py SLUICE_BOARD BOARD_WRITE_LOGS [RUNS TAGS STEPS]
Runs under the current DISPLAY, or starts Xvfb itself; the logdir is
kept in $TMPDIR/sluice-board-bench-RxTxS for the next run.  Exit 77 when
no display can be had."""
import os, shutil, subprocess, sys, tempfile, time

board, writer = sys.argv[1], sys.argv[2]
runs, tags, steps = (int(a) for a in (sys.argv[3:6] if len(sys.argv) >= 6 else (100, 10, 10000)))
if not os.environ.get("DISPLAY"):
    if shutil.which("xvfb-run") is None:
        print("bench: no display and no xvfb-run")
        sys.exit(77)
    os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24 -nolisten tcp",
                           sys.executable] + sys.argv)
logdir = os.path.join(tempfile.gettempdir(), f"sluice-board-bench-{runs}x{tags}x{steps}")
if not os.path.isdir(logdir):
    t = time.monotonic()
    subprocess.run([writer, "bench", logdir + ".part", str(runs), str(tags), str(steps)], check=True)
    os.rename(logdir + ".part", logdir)
    print(f"wrote {logdir} in {time.monotonic() - t:.1f} s")
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(logdir) for f in fs)
print(f"logdir: {runs} runs x {tags} tags x {steps} steps = {runs * tags * steps:,} points, "
      f"{size / 1e6:.0f} MB")
# drop the page cache's advantage only where we may (not as a user): warm
# runs are what a user reopening a logdir sees; say which this is
env = dict(os.environ, GSK_RENDERER=os.environ.get("GSK_RENDERER", "cairo"), GTK_A11Y="none",
           XDG_CONFIG_HOME=tempfile.mkdtemp(prefix="board-config-"))   # default settings
t0 = time.monotonic()
p = subprocess.run([board, logdir, "--bench", "--size", "1280x800"], env=env,
                   capture_output=True, text=True, timeout=600)
fig = {}
for line in p.stdout.splitlines():
    f = line.split()
    if len(f) >= 3 and f[0] == "bench":
        if f[1] in ("first-frame", "first-chart", "loaded"):
            fig[f[1]] = int(f[2]) / 1e6 - t0
            fig[f[1] + "-extra"] = " ".join(f[3:])
        elif f[1] == "frames":
            fig["frames"] = dict(kv.split("=") for kv in f[2:])
        elif f[1] == "peak-rss-mb":
            fig["rss"] = float(f[2])
if p.returncode != 0 or "loaded" not in fig:
    print(p.stdout, p.stderr)
    sys.exit(1)
fr = fig.get("frames", {})
def goal(ok):
    return "ok" if ok else "MISSED"
print(f"window's first frame: {fig.get('first-frame', 0):.2f} s")
print(f"first chart drawn: {fig['first-chart']:.2f} s   (goal < 2 s: {goal(fig['first-chart'] < 2)})")
print(f"all data loaded:   {fig['loaded']:.2f} s   (goal < 10 s: {goal(fig['loaded'] < 10)}; "
      f"{fig['loaded-extra']})")
if fr:
    print(f"frames panning a chart of {fr['lines']} runs ({int(fr['points']):,} points): "
          f"mean {fr['mean_ms']} ms, p95 {fr['p95_ms']} ms, max {fr['max_ms']} ms over {fr['n']} "
          f"frames   (goal < 16 ms: {goal(float(fr['p95_ms']) < 16)})")
print(f"peak memory (RSS): {fig['rss']:.0f} MB")
print(f"renderer: GSK_RENDERER={env['GSK_RENDERER']}, {os.cpu_count()} CPUs")
