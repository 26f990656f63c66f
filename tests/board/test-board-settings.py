#!/usr/bin/env python3
"""Settings remembered between sessions: with XDG_CONFIG_HOME set to a
temporary folder,

  1. a board.ini written beforehand (smoothing, x-axis, log y, a run's
     color) is what the board shows on start (its state dump);
  2. a change made in the window (a click on the smoothing slider) is in
     board.ini after Ctrl+Q, with the other settings kept, and the next
     session starts with it.

Usage: test-board-settings.py SLUICE_BOARD BOARD_WRITE_LOGS
Exit 77 (skipped) without an X display or xdotool."""
import configparser, os, shutil, subprocess, sys, tempfile, time

board, writer = sys.argv[1:3]
if not os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
    print("skip: needs an X display (run under xvfb-run)")
    sys.exit(77)
if shutil.which("xdotool") is None:
    print("skip: xdotool is not installed")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="board-settings-")
logdir = os.path.join(tmp, "logs")
config = os.path.join(tmp, "config")
ini = os.path.join(config, "sluice", "board.ini")
export = os.path.join(tmp, "export")
state_path = os.path.join(export, "sluice-board-state.txt")
for run in ("alpha", "beta"):
    subprocess.run([writer, "live", os.path.join(logdir, run), "20", "0"], check=True,
                   stdout=subprocess.DEVNULL)
env = dict(os.environ, GSK_RENDERER="cairo", GTK_A11Y="none", SLUICE_BOARD_EXPORT_DIR=export,
           GSETTINGS_BACKEND="memory", XDG_CONFIG_HOME=config, HOME=tmp)


def xdo(*args):
    return subprocess.run(["xdotool"] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=20).stdout.strip()


def fail(msg, app=None):
    print("FAIL:", msg)
    if os.path.exists(ini):
        print(open(ini).read())
    if app:
        app.kill()
    sys.exit(1)


def start():
    app = subprocess.Popen([board, logdir], env=env)
    end = time.time() + 20
    while time.time() < end:
        ids = xdo("search", "--onlyvisible", "--pid", app.pid).split()
        if ids:
            return app, ids[-1]
        time.sleep(0.1)
    fail("no window", app)


def state(app, win, pred, what):
    end = time.time() + 20
    while time.time() < end:
        try:
            os.remove(state_path)
        except OSError:
            pass
        xdo("windowfocus", "--sync", win)
        xdo("key", "--window", win, "--clearmodifiers", "ctrl+shift+d")
        t = time.time()
        while time.time() - t < 5 and not os.path.exists(state_path):
            time.sleep(0.05)
        time.sleep(0.05)
        d = {}
        if os.path.exists(state_path):
            for line in open(state_path):
                k, _, v = line.rstrip("\n").partition("=")
                d.setdefault(k, []).append(v)
        if pred(d):
            return d
        time.sleep(0.2)
    fail(f"timed out waiting for {what}: {d}", app)


def quit(app, win):
    xdo("windowfocus", "--sync", win)
    xdo("key", "--window", win, "--clearmodifiers", "ctrl+q")
    try:
        app.wait(timeout=10)
    except subprocess.TimeoutExpired:
        fail("Ctrl+Q did not quit", app)


def runs(d):
    return {r.split()[1]: r.split()[2] for r in d.get("run", [])}


# 1. settings written beforehand are applied
os.makedirs(os.path.dirname(ini))
with open(ini, "w") as f:
    f.write("[scalars]\nsmoothing=0.25\nx-axis=wall\nlog-y=true\n"
            "[colors]\nbeta=#123456\n")
app, win = start()
d = state(app, win, lambda d: len(runs(d)) == 2, "both runs")
got = (d["smoothing"][0], d["x_axis"][0], d["log_y"][0], runs(d)["beta"])
if got != ("0.25", "wall", "1", "#123456"):
    fail(f"state {got}: want smoothing 0.25, x-axis wall, log y, beta #123456", app)
print(f"read board.ini: smoothing {got[0]}, x-axis {got[1]}, log y {got[2]}, beta {got[3]}")

# 2. a change in the window is written, the rest kept
f = d["smoothing_slider"][0].split()
x, y, w, h = (float(v) for v in f[-4:])
geo = dict(kv.split("=") for kv in xdo("getwindowgeometry", "--shell", win).split())
xdo("mousemove", "--sync", int(geo["X"]) + int(x + w * 0.9), int(geo["Y"]) + int(y + h / 2))
time.sleep(0.1)
xdo("click", 1)
d = state(app, win, lambda d: float(d["smoothing"][0]) > 0.75, "the new smoothing")
smoothing = d["smoothing"][0]
quit(app, win)
cp = configparser.ConfigParser()
cp.read(ini)
saved = (cp["scalars"]["smoothing"], cp["scalars"]["x-axis"], cp["scalars"]["log-y"],
         cp["colors"]["beta"])
if abs(float(saved[0]) - float(smoothing)) > 0.005 or saved[1:] != ("wall", "true", "#123456"):
    fail(f"board.ini holds {saved} after setting smoothing {smoothing}")
print(f"after a click on the slider and Ctrl+Q, board.ini holds {saved}")

# 3. the next session starts with it
app, win = start()
d = state(app, win, lambda d: len(runs(d)) == 2, "both runs")
if d["smoothing"][0] != smoothing or d["x_axis"][0] != "wall":
    fail(f"second session: smoothing {d['smoothing'][0]}, x-axis {d['x_axis'][0]}", app)
quit(app, win)
print(f"second session: smoothing {smoothing}, x-axis wall")
shutil.rmtree(tmp, ignore_errors=True)
print("ok")
