#!/usr/bin/env python3
"""User-level test: drives the running sluice-studio with real X key and
mouse events (xdotool, XTEST) on the display it is given, and reads what
the window shows from its SLUICE_STUDIO_TRACE output (node boxes and port
positions on screen, inferred shapes, problems, selection, banner).

Usage: test-studio-user.py SLUICE_STUDIO TEST_STUDIO_DOCUMENT SCENARIO

Scenarios:
  mlp        double-click the empty canvas, search "mnist", Enter: the MNIST
             MLP appears with its shapes; pick the wire off the second
             layer's input and drop it on empty space (the input is then
             reported missing, the add search opens filtered, Escape), draw
             it again from dense/Relu to dense_1/MatMul; Ctrl+S; the saved
             GraphDef equals the reference written by the document model
             (positions aside); Ctrl+Q quits.
  train      add the MNIST MLP (double-click, "mnist", Enter), F5 opens the
             training setup, type the synthetic data's folder, Enter: the
             run trains in the Runs tab, its loss chart fills while it runs,
             it finishes, and its train/ event file holds a falling loss
             (SLUICE and MAKE_TRAIN_DATA in the environment); Ctrl+T shows
             the op times it recorded on the nodes.
  close-run  open a saved MLP, F5, train a long run; Ctrl+Q while it
             trains asks whether to stop it: "Leave Running" (Alt+L) closes
             the studio and the trainer trains on after it exited (its log
             grows); a second studio on the same graph starts another run,
             Ctrl+Q, "Stop Run" (Alt+S): the studio waits for the trainer
             to checkpoint and exit, then closes; its status is "stopped".
  bad-input  start on a corrupt file: an error shows, the studio works on
             (Shift+A adds a node); Ctrl+O opens a file of another kind
             (error shown, graph kept); Ctrl+O opens a graph with an op
             Sluice lacks: drawn and marked, the node can be selected with
             the mouse, moved, deleted and the delete undone; Ctrl+S keeps
             the op and its attrs.

Exit 77 (skipped) when there is no X display or no xdotool."""
import os, re, shutil, signal, subprocess, sys, tempfile, threading, time

studio, helper, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
if not os.environ.get("DISPLAY") or not shutil.which("xdotool"):
    print("no X display or no xdotool: skipped")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="studio-user-")
# every timeout scaled by STUDIO_USER_SLOW (e.g. 2 on a very slow machine)
SLOW = float(os.environ.get("STUDIO_USER_SLOW", "1"))


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


class Studio:
    """The app under test and the latest state its trace reported."""

    def __init__(self, *args):
        env = dict(os.environ, SLUICE_STUDIO_TRACE="1", GSK_RENDERER="cairo", GTK_A11Y="none",
                   XDG_DATA_HOME=os.path.join(tmp, "data"), XDG_CONFIG_HOME=os.path.join(tmp, "config"),
                   GDK_BACKEND="x11")
        size = os.environ.get("STUDIO_USER_SIZE", "1280x800")  # screenshots: bigger
        self.proc = subprocess.Popen([studio, "--size", size, *args], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lock = threading.Lock()
        self.state = None
        self.stamp = 0.0
        self.saved = []
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        out = xdo("search", "--sync", "--onlyvisible", "--pid", str(self.proc.pid), "--name", "Sluice Studio",
                  timeout=90)
        self.win = out.split()[0]
        self.wait("the window drawn", lambda s: s["canvas"] is not None)
        geo = xdo("getwindowgeometry", "--shell", self.win)
        g = dict(l.split("=") for l in geo.split())
        self.wx, self.wy = int(g["X"]), int(g["Y"])
        log("window", self.win, "at", self.wx, self.wy)
        # no window manager: the keyboard follows the pointer (PointerRoot),
        # so keys reach the window, or the popover, under the pointer

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    def _read(self):
        block = None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == "begin":
                block = {"nodes": {}, "ports": {}, "shapes": {}, "problems": {}, "selected": [],
                         "banner": "", "popover": 0, "modified": None, "canvas": None,
                         "setup": 0, "run": None, "runpid": 0, "prompt": 0, "runlog": "",
                         "times": None, "setupfocus": None, "setupfields": {}, "setupmessage": "",
                         "addsearch": None}
            elif line == "end" and block is not None:
                with self.lock:
                    self.state, self.stamp = block, time.monotonic()
                block = None
            elif line.startswith("saved "):
                self.saved.append(line[6:])
            elif block is not None:
                kind, _, rest = line.partition(" ")
                if kind == "canvas":
                    block["canvas"] = tuple(int(float(v)) for v in rest.split())
                elif kind == "node":
                    name, *r = rest.rsplit(" ", 4)
                    block["nodes"][name] = tuple(float(v) for v in r)
                elif kind == "port":
                    name, io, k, x, y = rest.rsplit(" ", 4)
                    block["ports"][(name, io, int(k))] = (float(x), float(y))
                elif kind == "shape":
                    name, desc = rest.split(" ", 1)
                    block["shapes"][name] = desc
                elif kind == "problem":
                    name, msg = rest.split(" ", 1)
                    block["problems"][name] = msg
                elif kind == "selected":
                    block["selected"].append(rest)
                elif kind == "banner":
                    block["banner"] = rest
                elif kind == "runlog":
                    block["runlog"] = rest
                elif kind == "setupfocus":
                    block["setupfocus"] = rest
                elif kind == "setupfield":
                    name, _, text = rest.partition(" ")
                    block["setupfields"][name] = text
                elif kind == "setupmessage":
                    block["setupmessage"] = rest
                elif kind == "addsearch":
                    block["addsearch"] = rest
                elif kind in ("popover", "modified", "setup", "runpid", "prompt", "times"):
                    block[kind] = int(rest)
                elif kind == "run":
                    status, step, steps, points, d = rest.split(" ", 4)
                    block["run"] = {"status": status, "step": int(step), "steps": int(steps),
                                    "points": int(points), "dir": d}

    def now(self):
        with self.lock:
            return self.state, self.stamp

    def wait(self, what, pred, timeout=60.0):
        """Waits until pred(state) holds; fails the test with `what`.  The
        timeouts are generous (a loaded machine can take many seconds for
        what takes a fraction of one when idle): the wait ends as soon as
        the condition holds."""
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                fail(f"the studio exited ({self.proc.returncode}) while waiting for: {what}")
            s, _ = self.now()
            if s is not None and pred(s):
                return s
            time.sleep(0.05)
        s, _ = self.now()
        fail(f"timed out waiting for: {what}\nlast state: problems={s and s['problems']} "
             f"banner={s and s['banner']!r} popover={s and s['popover']} nodes={s and len(s['nodes'])} "
             f"setup={s and s['setup']} setupfocus={s and s['setupfocus']} "
             f"setupfields={s and s['setupfields']} setupmessage={s and s['setupmessage']!r} "
             f"run={s and s['run']}")

    def wait_maybe(self, pred, timeout):
        """Whether pred(state) comes to hold within timeout."""
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            s, _ = self.now()
            if s is not None and pred(s):
                return True
            time.sleep(0.05)
        return False

    def settle(self, quiet=0.6, timeout=10.0):
        """Waits until the trace has not changed for `quiet` seconds (the
        view has stopped moving), returns the state."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s, t = self.now()
            if s is not None and time.monotonic() - t >= quiet:
                return s
            time.sleep(0.05)
        return self.now()[0]

    def screen(self, x, y):
        return int(round(x + self.wx)), int(round(y + self.wy))

    def quit(self):
        key("ctrl+q")
        try:
            rc = self.proc.wait(timeout=60 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("Ctrl+Q did not close the studio")
        if rc != 0:
            fail(f"the studio exited with status {rc}")


app = None


def fail(msg):
    log("FAIL:", msg)
    if app is not None:
        if app.proc.poll() is None:
            shot = os.path.join(tmp, "fail.png")
            subprocess.run(["import", "-window", "root", shot], stderr=subprocess.DEVNULL)
            log("screen at failure:", shot)
            app.proc.kill()
        if app.stderr:
            log("studio stderr:\n  " + "\n  ".join(app.stderr[-int(os.environ.get("STUDIO_USER_STDERR_LINES", "15")):]))
    sys.exit(1)


def xdo(*args, timeout=30):
    r = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        fail(f"xdotool {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def key(*keys):
    xdo("key", "--clearmodifiers", "--delay", "60", *keys)
    time.sleep(0.2)


def type_text(text):
    xdo("type", "--delay", "60", text)
    time.sleep(0.3)


def move(x, y):
    # two steps: GTK sees the pointer move onto the spot
    xdo("mousemove", str(x + 4), str(y + 4))
    time.sleep(0.05)
    xdo("mousemove", str(x), str(y))
    time.sleep(0.15)


def click(x, y, n=1):
    move(x, y)
    xdo("click", "--repeat", str(n), "--delay", "90", "1")
    time.sleep(0.3)


def drag(x0, y0, x1, y1, steps=14):
    move(x0, y0)
    xdo("mousedown", "1")
    time.sleep(0.15)
    for i in range(1, steps + 1):
        xdo("mousemove", str(round(x0 + (x1 - x0) * i / steps)), str(round(y0 + (y1 - y0) * i / steps)))
        time.sleep(0.03)
    time.sleep(0.15)
    xdo("mouseup", "1")
    time.sleep(0.4)


def empty_spot(s, avoid=()):
    """A point of the canvas (trace coordinates) away from every node box,
    the minimap corner and the given points."""
    cx, cy, cw, ch = s["canvas"]
    for fy in (0.5, 0.3, 0.7, 0.15):
        for fx in (0.08, 0.15, 0.92, 0.25, 0.75):
            x, y = cx + cw * fx, cy + ch * fy
            if x > cx + cw - 220 and y > cy + ch - 150:
                continue  # the minimap
            clear = all(not (nx - 40 <= x <= nx + nw + 40 and ny - 40 <= y <= ny + nh + 60)
                        for nx, ny, nw, nh in s["nodes"].values())
            if clear and all(abs(x - ax) + abs(y - ay) > 60 for ax, ay in avoid):
                return x, y
    fail("no empty spot on the canvas")


# ---- scenarios -------------------------------------------------------------



def open_add_search(app, x, y):
    """Opens the add search at canvas point (x, y) as a person would: a
    double-click; the two clicks must land within the double-click time, and
    on a loaded machine they sometimes do not, so then the other way the
    studio offers, Shift+A with the pointer there (logged)."""
    click(*app.screen(x, y), n=2)
    if not app.wait_maybe(lambda s: s["popover"] == 1, 8.0):
        log("the double-click did not register (machine busy?): Shift+A at the pointer instead")
        move(*app.screen(x, y))
        key("shift+a")
    app.wait("the add search to open", lambda s: s["popover"] == 1)


def search_and_add(app, text):
    """Types text into the open add search and presses Enter once the
    search shows exactly that text (a late double-click's Shift+A, or a
    key lost on a busy machine, would otherwise search for something
    else): Ctrl+A and the text again until it does."""
    for attempt in range(3):
        key("ctrl+a")
        type_text(text)
        if app.wait_maybe(lambda s: s["addsearch"] == text, 15.0):
            key("Return")
            return
        log(f"the add search shows {app.now()[0]['addsearch']!r}, not {text!r}: typed again")
    fail(f"the add search never showed {text!r}")

def scenario_mlp():
    global app
    path = os.path.join(tmp, "mnist_mlp.pbtxt")
    ref = os.path.join(tmp, "reference.pbtxt")
    subprocess.run([helper, "write-mlp", ref], check=True)
    app = Studio(path)  # a new graph, saved there
    s = app.wait("the empty window", lambda s: s["canvas"] and s["modified"] == 0 and not s["nodes"])
    # search-to-add: double-click on empty canvas, type, Enter
    cx, cy, cw, ch = s["canvas"]
    open_add_search(app, cx + cw / 2, cy + ch / 2)
    search_and_add(app, "mnist")
    s = app.wait("the MNIST MLP on the canvas",
                 lambda s: len(s["nodes"]) == 34 and s["popover"] == 0 and "loss/mean:0" in s["shapes"])
    s = app.settle()
    want = {"images:0": "float [?,784]", "labels:0": "int64 [?]", "dense/kernel:0": "float_ref [784,128]",
            "dense/MatMul:0": "float [?,128]", "dense/Relu:0": "float [?,128]",
            "dense_1/MatMul:0": "float [?,10]", "dense_1/BiasAdd:0": "float [?,10]",
            "loss/xent:0": "float [?]", "loss/mean:0": "float []"}
    for port, desc in want.items():
        if s["shapes"].get(port) != desc:
            fail(f"{port} shows {s['shapes'].get(port)!r}, expected {desc!r}")
    if s["problems"]:
        fail(f"problems in the template: {s['problems']}")
    log("template added: 28 nodes, shapes", ", ".join(f"{k} {v}" for k, v in want.items()))

    # pick the wire off dense_1/MatMul's first input and drop it on empty space
    x0, y0 = s["ports"][("dense_1/MatMul", "in", 0)]
    ex, ey = empty_spot(s, avoid=[(x0, y0)])
    log(f"drag the wire from {x0:.0f},{y0:.0f} to {ex:.0f},{ey:.0f}")
    drag(*app.screen(x0, y0), *app.screen(ex, ey))
    s = app.wait("dense_1/MatMul reported without its input",
                 lambda s: "dense_1/MatMul" in s["problems"] and s["popover"] == 1)
    log("wire dropped on empty space:", s["problems"]["dense_1/MatMul"], "| add search open")
    key("Escape")
    s = app.wait("the add search to close", lambda s: s["popover"] == 0)
    s = app.settle()

    # draw the wire again, from dense/Relu's output to dense_1/MatMul's input
    a = s["ports"][("dense/Relu", "out", 0)]
    b = s["ports"][("dense_1/MatMul", "in", 0)]
    drag(*app.screen(*a), *app.screen(*b))
    s = app.wait("the wire drawn again", lambda s: not s["problems"])
    if s["shapes"].get("dense_1/MatMul:0") != "float [?,10]":
        fail(f"dense_1/MatMul shows {s['shapes'].get('dense_1/MatMul:0')} after reconnecting")
    log("wire drawn from dense/Relu to dense_1/MatMul: no problems")

    # a click on a node selects it
    nx, ny, nw, nh = s["nodes"]["dense/Relu"]
    click(*app.screen(nx + nw / 2, ny + nh / 2))
    app.wait("dense/Relu selected by a click", lambda s: s["selected"] == ["dense/Relu"])

    key("ctrl+s")
    app.wait("the title to drop the modified mark", lambda s: s["modified"] == 0)
    if path not in app.saved:
        fail(f"no save of {path} reported (saved: {app.saved})")
    r = subprocess.run([helper, "same-graph", path, ref], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"the saved graph differs from the reference:\n{r.stderr}")
    log("saved with Ctrl+S: the GraphDef equals the reference (positions aside)")
    app.quit()


UNKNOWN = """node { name: 'x' op: 'Placeholder'
  attr { key: 'dtype' value { type: DT_FLOAT } }
  attr { key: 'shape' value { shape { dim { size: -1 } dim { size: 4 } } } } }
node { name: 'spell' op: 'FancyActivation' input: 'x'
  attr { key: 'T' value { type: DT_FLOAT } }
  attr { key: 'alpha' value { f: 0.25 } } }
node { name: 'out' op: 'Relu' input: 'spell' attr { key: 'T' value { type: DT_FLOAT } } }
"""


def scenario_bad_input():
    global app
    corrupt = os.path.join(tmp, "corrupt.pb")
    with open(corrupt, "wb") as f:
        f.write(b"\xff\xfe\x00\x13not a graph\x00\x01\x02" * 4)
    other = os.path.join(tmp, "notes.pbtxt")
    with open(other, "w") as f:
        f.write("These are notes, not a graph.\n{ [ unbalanced\n")
    unknown = os.path.join(tmp, "fancy.pbtxt")
    with open(unknown, "w") as f:
        f.write(UNKNOWN)

    app = Studio(corrupt)
    s = app.wait("an error about the corrupt file", lambda s: "corrupt.pb" in s["banner"])
    log("corrupt file:", s["banner"])
    if s["nodes"]:
        fail("nodes shown from a corrupt file")
    # the studio works on: Shift+A at the pointer adds a node
    cx, cy, cw, ch = s["canvas"]
    move(*app.screen(cx + cw / 2, cy + ch / 2))
    key("shift+a")
    app.wait("the add search to open", lambda s: s["popover"] == 1)
    search_and_add(app, "NoOp")
    s = app.wait("a NoOp added after the error", lambda s: len(s["nodes"]) == 1 and s["popover"] == 0)
    log("after the error the studio still edits: added", list(s["nodes"]))

    def open_file(path):
        key("ctrl+o")
        # the file chooser: the pointer onto it (keys follow the pointer)
        dlg = xdo("search", "--sync", "--onlyvisible", "--name", "Open graph", timeout=60 * SLOW).split()[0]
        g = dict(l.split("=") for l in xdo("getwindowgeometry", "--shell", dlg).split())
        move(int(g["X"]) + int(g["WIDTH"]) // 2, int(g["Y"]) + 8)
        time.sleep(0.5)
        type_text(path)  # a path typed into the chooser opens its location entry
        time.sleep(0.3)
        key("Return")

    # a file that is not a graph: error, the graph on screen stays
    open_file(other)
    s = app.wait("an error about notes.pbtxt", lambda s: "notes.pbtxt" in s["banner"])
    if len(s["nodes"]) != 1:
        fail(f"the graph changed after a failed open: {list(s['nodes'])}")
    log("file of another kind:", s["banner"])

    # a graph with an op Sluice lacks: shown, marked, editable.  Discard
    # the NoOp first (undo), so opening needs no prompt.
    move(*app.screen(cx + 20, cy + 20))
    key("ctrl+z")
    app.wait("the NoOp undone", lambda s: not s["nodes"])
    open_file(unknown)
    s = app.wait("the graph with FancyActivation", lambda s: set(s["nodes"]) == {"x", "spell", "out"})
    s = app.settle()
    msg = s["problems"].get("spell", "")
    if "FancyActivation" not in msg:
        fail(f"spell is not marked as an unknown op (problems: {s['problems']})")
    log("unknown op shown and marked:", msg)
    # select it with the mouse and move it
    nx, ny, nw, nh = s["nodes"]["spell"]
    click(*app.screen(nx + nw / 2, ny + nh / 2))
    app.wait("spell selected", lambda s: s["selected"] == ["spell"])
    drag(*app.screen(nx + nw / 2, ny + nh / 2), *app.screen(nx + nw / 2 + 120, ny + nh / 2 + 40))
    s = app.wait("spell moved", lambda s: s["nodes"]["spell"][0] > nx + 60)
    log("unknown-op node moved by dragging")
    # delete it, undo
    key("Delete")
    app.wait("spell deleted", lambda s: "spell" not in s["nodes"])
    key("ctrl+z")
    s = app.wait("spell back", lambda s: "spell" in s["nodes"] and "spell" in s["problems"])
    key("ctrl+s")
    app.wait("saved", lambda s: s["modified"] == 0)
    text = open(unknown).read()
    if not re.search(r"op: \"FancyActivation\"", text) or "0.25" not in text or "_studio_position" not in text:
        fail("the saved graph lost the unknown op, its attrs or its position:\n" + text)
    log("saved: FancyActivation kept with its attrs and position")
    app.quit()


def event_losses(path):
    """(step, loss) of every "loss" scalar in a TFRecord file of Events."""
    import struct

    def fields(buf):
        i = 0
        while i < len(buf):
            k, i = varint(buf, i)
            f, w = k >> 3, k & 7
            if w == 0:
                v, i = varint(buf, i)
            elif w == 1:
                v, i = buf[i:i + 8], i + 8
            elif w == 5:
                v, i = buf[i:i + 4], i + 4
            elif w == 2:
                n, i = varint(buf, i)
                v, i = buf[i:i + n], i + n
            else:
                return
            yield f, w, v

    def varint(buf, i):
        r = sh = 0
        while True:
            b = buf[i]
            i += 1
            r |= (b & 0x7F) << sh
            sh += 7
            if b < 0x80:
                return r, i

    out = []
    data = open(path, "rb").read()
    i = 0
    while i + 12 <= len(data):
        (n,) = struct.unpack_from("<Q", data, i)
        rec = data[i + 12:i + 12 + n]
        i += 12 + n + 4
        step = 0
        for f, w, v in fields(rec):
            if f == 2 and w == 0:
                step = v
            if f == 5 and w == 2:  # Summary
                for vf, vw, val in fields(v):
                    if vf != 1 or vw != 2:
                        continue
                    tag, x = None, None
                    for ff, fw, fv in fields(val):
                        if ff == 1 and fw == 2:
                            tag = fv.decode()
                        elif ff == 2 and fw == 5:
                            x = struct.unpack("<f", fv)[0]
                        elif ff == 8 and fw == 2:  # TensorProto
                            for tf, tw, tv in fields(fv):
                                if tf == 5 and tw == 5:
                                    x = struct.unpack("<f", tv)[0]
                                elif tf == 5 and tw == 2 and len(tv) >= 4:
                                    x = struct.unpack_from("<f", tv)[0]
                                elif tf == 4 and tw == 2 and len(tv) >= 4:
                                    x = struct.unpack_from("<f", tv)[0]
                    if tag == "loss" and x is not None:
                        out.append((step, x))
    return out


def open_setup(app):
    """F5: the training setup dialog; the pointer onto it (keys follow the
    pointer) once it shows, with the data path focused."""
    key("F5")
    app.wait("the training setup dialog", lambda s: s["setup"] == 1)
    dlg = xdo("search", "--sync", "--onlyvisible", "--name", "Training setup", timeout=60 * SLOW).split()[0]
    g = dict(l.split("=") for l in xdo("getwindowgeometry", "--shell", dlg).split())
    move(int(g["X"]) + int(g["WIDTH"]) // 2, int(g["Y"]) + 8)
    app.wait("the data path focused in the setup", lambda s: s["setupfocus"] == "path")


def set_field(app, mnemonic, field, text):
    """As a person would: the field's mnemonic (its label's Alt+letter)
    focuses it, Ctrl+A and the text replace what it held.  Types only once
    the trace shows the field focused, and goes on once it shows the text;
    does it again (up to 3 times) when a key got lost on a busy machine."""
    for attempt in range(3):
        key(mnemonic)
        if not app.wait_maybe(lambda s: s["setupfocus"] == field, 20.0):
            log(f"{mnemonic} did not focus {field} (focus: {app.now()[0]['setupfocus']}): again")
            continue
        key("ctrl+a")
        type_text(text)
        if app.wait_maybe(lambda s: s["setupfields"].get(field) == text, 20.0):
            return
        log(f"setup field {field} shows {app.now()[0]['setupfields'].get(field)!r}, not {text!r}: again")
    fail(f"could not set the setup's {field} to {text!r}")


def start_training(app):
    """Enter in the setup's focused field starts; the dialog closes."""
    key("Return")
    s = app.wait("the setup to close and the run to start",
                 lambda s: s["setup"] == 0 or s["setupmessage"], timeout=60)
    if s["setup"]:
        fail(f"the setup refused to start: {s['setupmessage']}")


def show_op_times(app):
    """Ctrl+T: the op times the run recorded, on the nodes."""
    s = app.now()[0]
    cx, cy, cw, ch = s["canvas"]
    move(*app.screen(cx + cw / 2, cy + 20))
    key("ctrl+t")
    s = app.wait("op times on the nodes", lambda s: s["times"] is not None and s["times"] >= 10)
    log(f"Ctrl+T: {s['times']} nodes show their op time")
    shot = os.environ.get("STUDIO_TIMES_SCREENSHOT")
    if shot:
        time.sleep(1.5)
        subprocess.run(["import", "-window", app.win, shot], check=False)
        log("screenshot", shot)


def scenario_train():
    global app
    data = os.path.join(tmp, "mnist")
    subprocess.run([sys.executable, os.environ["MAKE_TRAIN_DATA"], data], check=True, stdout=subprocess.DEVNULL)
    app = Studio(os.path.join(tmp, "mlp.pbtxt"))  # a new graph, saved there
    s = app.wait("the empty window", lambda s: s["canvas"] and not s["nodes"])
    cx, cy, cw, ch = s["canvas"]
    open_add_search(app, cx + cw / 2, cy + ch / 2)
    search_and_add(app, "mnist")
    app.wait("the MNIST MLP on the canvas", lambda s: "accuracy/mean:0" in s["shapes"] and s["popover"] == 0)
    app.settle()
    key("ctrl+s")
    app.wait("saved", lambda s: s["modified"] == 0)
    open_setup(app)
    set_field(app, "alt+p", "path", data)
    long_steps = os.environ.get("STUDIO_RUN_STEPS")  # a long run, for the screenshot
    if long_steps:
        set_field(app, "alt+t", "steps", long_steps)
    start_training(app)
    s = app.wait("the run to start", lambda s: s["setup"] == 0 and s["run"] and s["run"]["status"] == "running",
                 timeout=90)
    run_dir = s["run"]["dir"]
    log("training in", run_dir)
    if long_steps and s["run"]["steps"] != int(long_steps):
        fail(f"the run trains {s['run']['steps']} steps, not the {long_steps} typed into the setup")
    s = app.wait("the chart to show points while training",
                 lambda s: s["run"]["points"] > 0 or s["run"]["status"] != "running", timeout=120)
    if s["run"]["status"] == "running":
        log("live chart:", s["run"]["points"], "points at step", s["run"]["step"])
        shot = os.environ.get("STUDIO_RUN_SCREENSHOT")
        if shot:
            app.wait("a few points on the chart", lambda s: s["run"]["points"] >= 40, timeout=120)
            time.sleep(1.0)
            subprocess.run(["import", "-window", app.win, shot], check=False)
            log("screenshot", shot)
    if long_steps:
        key("shift+F5")
        s = app.wait("the run to stop", lambda s: s["run"]["status"] != "running", timeout=60)
        if s["run"]["status"] != "stopped":
            fail(f"Shift+F5 left the run {s['run']['status']}")
        log("stopped at step", s["run"]["step"])
        show_op_times(app)
        app.quit()
        return
    s = app.wait("the run to finish", lambda s: s["run"]["status"] != "running", timeout=300)
    if s["run"]["status"] != "finished":
        log_tail = open(os.path.join(run_dir, "train.log")).read()[-2000:]
        fail(f"run ended {s['run']['status']}: {log_tail}")
    if s["run"]["step"] != s["run"]["steps"]:
        fail(f"finished at step {s['run']['step']} of {s['run']['steps']}")
    events = [os.path.join(run_dir, "train", f) for f in os.listdir(os.path.join(run_dir, "train"))
              if f.startswith("events.out.tfevents")]
    losses = sorted(p for e in events for p in event_losses(e))
    if len(losses) < 4:
        fail(f"only {len(losses)} loss points in {events}")
    k = max(1, len(losses) // 4)
    first = sum(v for _, v in losses[:k]) / k
    last = sum(v for _, v in losses[-k:]) / k
    log(f"loss {first:.3f} -> {last:.3f} over {len(losses)} points")
    if not last < first * 0.7:
        fail(f"the loss did not fall: {first:.3f} -> {last:.3f}")
    spec = open(os.path.join(run_dir, "run.spec")).read()
    if data not in spec or 'loss: "loss/mean"' not in spec:
        fail("the run spec does not name the data and loss:\n" + spec)
    show_op_times(app)
    app.quit()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive (the studio that started it has gone)
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def start_long_run(app, data, steps="1000000"):
    """F5, the data folder and a step count typed into the setup (Alt+P,
    Alt+T), Enter; returns the state once the run trains (its pid known)."""
    open_setup(app)
    set_field(app, "alt+p", "path", data)
    set_field(app, "alt+t", "steps", steps)  # S_teps: Alt+S is Start training
    start_training(app)
    s = app.wait("the run to train", lambda s: s["setup"] == 0 and s["run"] and s["run"]["status"] == "running"
                 and s["runpid"] > 0 and s["run"]["step"] > 0, timeout=90)
    if s["run"]["steps"] != int(steps):
        fail(f"the run trains {s['run']['steps']} steps, not the {steps} typed into the setup")
    return s


def answer_prompt(app, keys):
    """The stop-or-leave question is a dialog of its own: the pointer on
    it (keys follow the pointer), then its mnemonic."""
    app.wait("the stop-or-leave prompt", lambda s: s["prompt"] == 1)
    end = time.monotonic() + 60 * SLOW
    while time.monotonic() < end:  # until it is mapped
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(app.proc.pid), ""],
                           capture_output=True, text=True, timeout=30)
        wins = r.stdout.split()
        for w in wins:
            if w == app.win:
                continue
            r = subprocess.run(["xdotool", "getwindowgeometry", "--shell", w], capture_output=True, text=True,
                               timeout=30)
            if r.returncode != 0:
                continue
            g = dict(l.split("=") for l in r.stdout.split())
            if int(g["WIDTH"]) < 900 and int(g["HEIGHT"]) > 60:
                time.sleep(0.3)
                move(int(g["X"]) + int(g["WIDTH"]) // 2, int(g["Y"]) + int(g["HEIGHT"]) // 2)
                key(keys)
                return
        time.sleep(0.2)
    fail(f"no prompt window among {wins}")


def scenario_close_run():
    global app
    data = os.path.join(tmp, "mnist")
    subprocess.run([sys.executable, os.environ["MAKE_TRAIN_DATA"], data], check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(tmp, "mlp.pbtxt")
    subprocess.run([helper, "write-mlp", path], check=True)

    # Leave Running: the studio exits, the trainer trains on
    app = Studio(path)
    app.wait("the MLP", lambda s: len(s["nodes"]) > 20)
    s = start_long_run(app, data)
    pid, run_dir = s["runpid"], s["run"]["dir"]
    log(f"training (pid {pid}) in {run_dir}; Ctrl+Q")
    key("ctrl+q")
    answer_prompt(app, "alt+l")
    try:
        rc = app.proc.wait(timeout=60 * SLOW)
    except subprocess.TimeoutExpired:
        fail("Leave Running did not close the studio")
    if rc != 0:
        fail(f"the studio exited with status {rc}")
    if not alive(pid):
        fail(f"the run (pid {pid}) did not outlive the studio")
    train_log = os.path.join(run_dir, "train.log")
    size = os.path.getsize(train_log)
    end = time.monotonic() + 60 * SLOW  # the log grows (slowly on a busy machine)
    while alive(pid) and os.path.getsize(train_log) <= size and time.monotonic() < end:
        time.sleep(0.2)
    if not alive(pid) or os.path.getsize(train_log) <= size:
        fail("the run left running stopped training after the studio closed")
    log(f"Leave Running: the studio closed, the trainer (pid {pid}) trains on: its log grew "
        f"{size} -> {os.path.getsize(train_log)} bytes")
    os.kill(pid, signal.SIGINT)
    end = time.monotonic() + 30
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        fail("the run left running did not stop on SIGINT")

    # Stop Run: the studio waits for the trainer to checkpoint and exit
    app = Studio(path)
    app.wait("the MLP", lambda s: len(s["nodes"]) > 20)
    s = start_long_run(app, data)
    pid2, run_dir2 = s["runpid"], s["run"]["dir"]
    if run_dir2 == run_dir:
        fail("the second run reused the first one's directory")
    log(f"training (pid {pid2}); Ctrl+Q")
    key("ctrl+q")
    answer_prompt(app, "alt+s")
    try:
        rc = app.proc.wait(timeout=120 * SLOW)
    except subprocess.TimeoutExpired:
        fail("Stop Run did not close the studio")
    if rc != 0:
        fail(f"the studio exited with status {rc}")
    if alive(pid2):
        os.kill(pid2, signal.SIGKILL)
        fail(f"Stop Run left the trainer (pid {pid2}) running")
    status = open(os.path.join(run_dir2, "status")).read().split()
    text = open(os.path.join(run_dir2, "train.log")).read()
    if status[0] != "stopped" or "interrupted at step" not in text:
        fail(f"after Stop Run the status is {status} and the log ends:\n{text[-500:]}")
    log("Stop Run: the trainer checkpointed and exited before the studio closed:",
        text.strip().splitlines()[-1])


{"mlp": scenario_mlp, "bad-input": scenario_bad_input, "train": scenario_train,
 "close-run": scenario_close_run}[scenario]()
log("ok")
shutil.rmtree(tmp, ignore_errors=True)
sys.exit(0)
