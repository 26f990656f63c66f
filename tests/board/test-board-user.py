#!/usr/bin/env python3
"""User-level test: drives sluice-board on the X display as a person
would, with real key and mouse events (xdotool, through XTEST), and
checks what the board then shows (its state dump, Ctrl+Shift+D) and
writes (a CSV export, Ctrl+E):

  open a logdir (Ctrl+O, type the path in the file chooser, Enter),
  pick a run (click its check box: it is hidden and the chart loses its
  points), change the smoothing (click on the slider), open the graph
  view (Alt+6) and expand a scope (double-click the "gradients" group).

Usage: test-board-user.py SLUICE_BOARD BOARD_WRITE_LOGS GRAPH.pbtxt
Exit 77 (skipped) without a display, xdotool or the graph fixture."""
import os, shutil, subprocess, sys, tempfile, time

board, writer, graph = sys.argv[1:4]
if not os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
    print("skip: needs an X display (run under xvfb-run)")
    sys.exit(77)
if shutil.which("xdotool") is None:
    print("skip: xdotool is not installed")
    sys.exit(77)
if not os.path.exists(graph):
    print("skip: no graph fixture", graph)
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="board-user-")
logdir = os.path.join(tmp, "logs")
export = os.path.join(tmp, "export")
subprocess.run([writer, "demo", logdir, graph], check=True, stdout=subprocess.DEVNULL)
env = dict(os.environ, GSK_RENDERER="cairo", GTK_A11Y="none", SLUICE_BOARD_EXPORT_DIR=export,
           GSETTINGS_BACKEND="memory",   # the file chooser's settings: no dconf, no D-Bus
           XDG_CONFIG_HOME=os.path.join(tmp, "config"), HOME=tmp)
app = subprocess.Popen([board], env=env)
state_path = os.path.join(export, "sluice-board-state.txt")

def xdo(*args):
    return subprocess.run(["xdotool"] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=20).stdout.strip()

def fail(msg):
    print("FAIL:", msg)
    try:
        print(open(state_path).read())
    except OSError:
        pass
    app.kill()
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
    xdo("windowactivate", "--sync", win)   # needs a WM; harmless without one
    xdo("windowfocus", "--sync", win)
    time.sleep(0.2)

def state(win):
    """The board's state dump, written on Ctrl+Shift+D."""
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

def wait_for(win, pred, what, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        s = state(win)
        if pred(s):
            return s
        time.sleep(0.3)
    fail("timed out waiting for " + what)

def rect(value):
    """'NAME x y w h' or 'x y w h' -> (name, x, y, w, h)."""
    f = value.split()
    name = " ".join(f[:-4])
    return (name,) + tuple(float(v) for v in f[-4:])

def click(win, x, y, repeat=1):
    # window coordinates: the window's position on the screen plus x, y
    geo = dict(kv.split("=") for kv in xdo("getwindowgeometry", "--shell", win).split())
    xdo("mousemove", "--sync", int(geo["X"]) + int(x), int(geo["Y"]) + int(y))
    time.sleep(0.1)
    xdo("click", "--repeat", repeat, "--delay", 80, 1)
    time.sleep(0.3)

win = find_window("Sluice Board")
s = state(win)
if s.get("logdir", [""])[0]:
    fail("a logdir is open before Ctrl+O")

# 1. open the logdir: Ctrl+O, then the file chooser's location (Ctrl+L),
#    type the path, Enter to go there and Enter again to open it
focus(win)
xdo("key", "--clearmodifiers", "ctrl+o")
dlg = find_window("Open Logdir")
focus(dlg)
xdo("key", "--clearmodifiers", "ctrl+l")
time.sleep(0.3)
xdo("type", "--delay", 20, logdir + "/")
time.sleep(0.5)
xdo("key", "Return")
time.sleep(0.8)
if xdo("search", "--onlyvisible", "--name", "Open Logdir"):
    xdo("key", "Return")   # the chooser went into the folder: Open it
time.sleep(0.5)
s = wait_for(win, lambda s: s.get("logdir", [""])[0].rstrip("/") == logdir and
             len(s.get("run_check", [])) == 6 and "chart" in s, "the logdir's runs and charts")
chart_tag, points_all = s["chart"][0].split()
points_all = int(points_all)
print(f"opened {logdir}: {len(s['run'])} runs, first chart {chart_tag} with {points_all} points")

# 2. pick a run: click the check box of lr0.1/seed2 to hide it
checks = {rect(v)[0]: rect(v)[1:] for v in s["run_check"]}
x, y, w, h = checks["lr0.1/seed2"]
click(win, x + w / 2, y + h / 2)
s = wait_for(win, lambda s: "hidden lr0.1/seed2" in " ".join(s["run"]), "lr0.1/seed2 hidden")
points_picked = int(s["chart"][0].split()[1])
if not points_picked < points_all:
    fail(f"the chart kept {points_picked} of {points_all} points after hiding a run")
print(f"hid lr0.1/seed2: the chart shows {points_picked} points")

# 3. change the smoothing: click at 90% of the slider's width
smoothing0 = float(s["smoothing"][0])
_, x, y, w, h = rect(s["smoothing_slider"][0])
click(win, x + w * 0.9, y + h / 2)
s = wait_for(win, lambda s: abs(float(s["smoothing"][0]) - smoothing0) > 0.1, "a new smoothing")
smoothing1 = float(s["smoothing"][0])
if not smoothing1 > 0.75:
    fail(f"smoothing {smoothing1} after clicking at 90% of the slider")
print(f"smoothing {smoothing0} -> {smoothing1}")

# what it writes: Ctrl+E exports the first chart's visible series as CSV
focus(win)
xdo("key", "--clearmodifiers", "ctrl+e")
time.sleep(1.0)
csvs = sorted(f for f in os.listdir(export) if f.endswith(".csv"))
if len(csvs) != 5 or any("seed2" in f and "lr0.1" in f for f in csvs):
    fail(f"CSV export wrote {csvs}: want the 5 shown runs, not the hidden one")
rows = open(os.path.join(export, csvs[0])).read().splitlines()
if rows[0] != "Wall time,Step,Value" or len(rows) != 1 + 41:   # eval/loss: every 50 of 2000 steps
    fail(f"CSV {csvs[0]}: {rows[:2]} ({len(rows)} lines)")
print(f"Ctrl+E wrote {len(csvs)} CSV files, {len(rows) - 1} points in {csvs[0]}")

# 4. the graph view (Alt+6), then expand the "gradients" scope
focus(win)
xdo("key", "--clearmodifiers", "alt+6")
s = wait_for(win, lambda s: s["view"][0] == "graph" and any(
    rect(v)[0] == "closed gradients" for v in s.get("graph_node", [])), "the graph's top level")
nodes = {rect(v)[0]: rect(v)[1:] for v in s["graph_node"]}
x, y, w, h = nodes["closed gradients"]
top_level = len(nodes)
click(win, x + w / 2, y + h / 2, repeat=2)
s = wait_for(win, lambda s: any(rect(v)[0] == "open gradients" for v in s["graph_node"]) and any(
    rect(v)[0].split()[-1].startswith("gradients/") for v in s["graph_node"]),
    "gradients expanded with its children on screen")
inner = [rect(v)[0] for v in s["graph_node"] if rect(v)[0].split()[-1].startswith("gradients/")]
print(f"graph: {top_level} nodes at the top, gradients expanded to {len(inner)} inner nodes "
      f"(selected: {s['graph_selected'][0] or '-'})")

focus(win)
xdo("key", "--clearmodifiers", "ctrl+q")
try:
    app.wait(timeout=10)
except subprocess.TimeoutExpired:
    fail("Ctrl+Q did not quit")
shutil.rmtree(tmp, ignore_errors=True)
print("ok")
