#!/usr/bin/env python3
"""User-level test of the timeline: drives sluice-board on the X display
as a person would (xdotool, through XTEST) on the real GPU run of
tests/board/data, and checks what the board then shows (its state dump,
Ctrl+Shift+D):

  Alt+7 opens the timeline: run train, its newest traced step, 8 lanes;
  the pointer on conv1/Conv2D's bar hovers that node (what the tooltip
  shows); Ctrl+scroll zooms in around the pointer; a drag pans; a
  double-click shows the whole step again; a Shift+drag zooms to the
  range dragged over.

Usage: test-board-timeline-user.py SLUICE_BOARD LOGDIR
Exit 77 (skipped) without a display or xdotool."""
import os, shutil, subprocess, sys, tempfile, time

board, logdir = sys.argv[1:3]
if not os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
    print("skip: needs an X display (run under xvfb-run)")
    sys.exit(77)
if shutil.which("xdotool") is None:
    print("skip: xdotool is not installed")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="board-timeline-user-")
export = os.path.join(tmp, "export")
env = dict(os.environ, GSK_RENDERER="cairo", GTK_A11Y="none", SLUICE_BOARD_EXPORT_DIR=export,
           GSETTINGS_BACKEND="memory", XDG_CONFIG_HOME=os.path.join(tmp, "config"), HOME=tmp)
app = subprocess.Popen([board, logdir, "--size", "1280x800"], env=env)
state_path = os.path.join(export, "sluice-board-state.txt")


def xdo(*args):
    return subprocess.run(["xdotool"] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=20).stdout.strip()


def fail(msg):
    print("FAIL:", msg)
    try:
        print("".join(l for l in open(state_path) if not l.startswith("timeline_bar=")))
    except OSError:
        pass
    app.kill()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1)


def find_window(name, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        ids = xdo("search", "--onlyvisible", "--name", name).split()
        if ids:
            return ids[-1]
        time.sleep(0.2)
    fail(f"no window named {name!r}")


def focus(win):
    xdo("windowactivate", "--sync", win)
    xdo("windowfocus", "--sync", win)
    time.sleep(0.2)


def state(win):
    try:
        os.remove(state_path)
    except OSError:
        pass
    focus(win)
    xdo("key", "--clearmodifiers", "ctrl+shift+d")
    end = time.time() + 10
    while time.time() < end:
        if os.path.exists(state_path):
            time.sleep(0.05)
            d = {}
            for line in open(state_path):
                k, _, v = line.rstrip("\n").partition("=")
                d.setdefault(k, []).append(v)
            return d
        time.sleep(0.1)
    fail("no state dump after Ctrl+Shift+D")


def wait_for(win, pred, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        s = state(win)
        if pred(s):
            return s
        time.sleep(0.3)
    fail("timed out waiting for " + what)


def rect(value):
    f = value.split()
    return (" ".join(f[:-4]),) + tuple(float(v) for v in f[-4:])


def bars(s):
    return {r[0]: r[1:] for r in map(rect, s.get("timeline_bar", []))}


def trange(s):
    a, b = s["timeline_range"][0].split()
    return float(a), float(b)


def to_screen(win, x, y):
    geo = dict(kv.split("=") for kv in xdo("getwindowgeometry", "--shell", win).split())
    return int(geo["X"]) + int(x), int(geo["Y"]) + int(y)


def move(win, x, y):
    xdo("mousemove", "--sync", *to_screen(win, x, y))
    time.sleep(0.15)


win = find_window("Sluice Board")
focus(win)
xdo("key", "--clearmodifiers", "alt+7")
s = wait_for(win, lambda s: s.get("view") == ["timeline"] and
             s.get("timeline", [""])[0] == "train step400 8", "the timeline of train step400")
lanes = [rect(v) for v in s.get("timeline_lane", [])]
if [l[0] for l in lanes] != ["CPU:0 t0", "CPU:0 t5", "CPU:0 t13", "CPU:0 t15",
                              "GPU:0 t0", "GPU:0 t5", "GPU:0 t10", "GPU:0 t13"]:
    fail(f"lanes {lanes}")
full = trange(s)
if not (full[0] <= 0 and full[1] > 2700):
    fail(f"not the whole step: {full}")

# hover conv1/Conv2D's bar
b = bars(s).get("conv1/Conv2D")
if not b:
    fail("no bar for conv1/Conv2D")
x, y, w, h = b
cx, cy = x + w / 2, y + h / 2
move(win, cx, cy)
s = wait_for(win, lambda s: s.get("timeline_hover") == ["conv1/Conv2D"], "hover on conv1/Conv2D")
print("# hovered conv1/Conv2D at", int(cx), int(cy))

# Ctrl+scroll up three times zooms in around the pointer
xdo("keydown", "ctrl")
for _ in range(3):
    xdo("click", "4")
    time.sleep(0.1)
xdo("keyup", "ctrl")
time.sleep(0.3)
s = state(win)
z = trange(s)
if not (z[1] - z[0] < 0.7 * (full[1] - full[0])):
    fail(f"Ctrl+scroll did not zoom in: {full} -> {z}")
b2 = bars(s).get("conv1/Conv2D")
if not b2 or not (b2[0] <= cx <= b2[0] + b2[2]) or b2[2] <= w:
    fail(f"the bar under the pointer moved away or did not widen: {b} -> {b2}")
print(f"# zoomed to {z[0]:.0f}..{z[1]:.0f} us; the bar is {b2[2]:.0f} px wide")

# a drag to the left pans later in time
move(win, cx, cy)
xdo("mousedown", "1")
for k in range(1, 11):
    move(win, cx - 20 * k, cy)
xdo("mouseup", "1")
time.sleep(0.3)
p = trange(state(win))
if not (p[0] > z[0] + 1 and abs((p[1] - p[0]) - (z[1] - z[0])) < 1e-3 * (z[1] - z[0]) + 0.01):
    fail(f"the drag did not pan: {z} -> {p}")
print(f"# panned to {p[0]:.0f}..{p[1]:.0f} us")

# double-click: the whole step
move(win, cx, cy)
xdo("click", "--repeat", 2, "--delay", 80, 1)
time.sleep(0.3)
r = trange(state(win))
if abs(r[0] - full[0]) > 1 or abs(r[1] - full[1]) > 1:
    fail(f"double-click did not show the whole step: {r} (whole {full})")

# Shift+drag over a third of the plot zooms to it
gpu = [l for l in lanes if l[0] == "GPU:0 t13"][0]
ly = gpu[2] + gpu[4] / 2
x0, x1 = 500, 800
move(win, x0, ly)
xdo("keydown", "shift")
xdo("mousedown", "1")
for k in range(1, 11):
    move(win, x0 + (x1 - x0) * k / 10, ly)
xdo("mouseup", "1")
xdo("keyup", "shift")
time.sleep(0.3)
q = trange(state(win))
span = full[1] - full[0]
if not (0.1 * span < q[1] - q[0] < 0.5 * span and q[0] > full[0]):
    fail(f"Shift+drag did not zoom to the range: {q}")
print(f"# Shift+drag zoomed to {q[0]:.0f}..{q[1]:.0f} us")

app.terminate()
try:
    app.wait(timeout=10)
except subprocess.TimeoutExpired:
    app.kill()
shutil.rmtree(tmp, ignore_errors=True)
print("ok")
