#!/usr/bin/env python3
"""An independent QMP client, written from QEMU's QMP specification
(docs/interop/qmp-spec.rst: greeting, capabilities negotiation, commands
with an "id", asynchronous events with a "timestamp") with Python's
standard library only; no ember code. It drives a VMM through a whole
lifecycle and fails loudly on anything the specification does not allow.

    qmp_client.py SOCKET CONSOLE-LOG

The VMM must have been started with -S and a guest that prints GUEST-UP,
then "TICK n" lines, and powers off when its ACPI power button is pressed
(printing GUEST-POWER-BUTTON). With a balloon, it is inflated by a quarter
and BALLOON_CHANGE awaited. Prints QMP-CLIENT-OK at the end.
"""
import json
import os
import socket
import sys
import time


class QMPError(Exception):
    pass


class Client:
    """One QMP connection: commands with ids, events kept in arrival order."""

    def __init__(self, path, name):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.next_id = 0
        self.closed = False
        greeting = self._read()
        qmp = greeting.get("QMP")
        if not isinstance(qmp, dict) or "version" not in qmp or "capabilities" not in qmp:
            raise QMPError("%s: bad greeting %r" % (name, greeting))
        ver = qmp["version"]
        for k in ("major", "minor", "micro"):
            if not isinstance(ver["qemu"][k], int):
                raise QMPError("%s: bad version %r" % (name, ver))
        if not isinstance(ver.get("package"), str):
            raise QMPError("%s: no package in %r" % (name, ver))
        self.version = ver
        # Before negotiation, only qmp_capabilities works (CommandNotFound).
        r = self.execute("query-status", error_ok=True)
        if r.get("error", {}).get("class") != "CommandNotFound":
            raise QMPError("%s: a command before negotiation gave %r" % (name, r))
        self.execute("qmp_capabilities")

    def _read(self):
        """The next JSON text (one per line, as the spec's servers send)."""
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                self.closed = True
                raise EOFError("%s: connection closed" % self.name)
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line.decode())

    def _check_event(self, msg):
        ts = msg.get("timestamp")
        if (not isinstance(ts, dict) or not isinstance(ts.get("seconds"), int)
                or not isinstance(ts.get("microseconds"), int)
                or not 0 <= ts["microseconds"] < 1000000
                or abs(ts["seconds"] - time.time()) > 3600):
            raise QMPError("%s: event with a bad timestamp: %r" % (self.name, msg))

    def execute(self, cmd, args=None, error_ok=False):
        self.next_id += 1
        ident = "%s-%d" % (self.name, self.next_id)
        msg = {"execute": cmd, "id": ident}
        if args is not None:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "event" in r:
                self._check_event(r)
                self.events.append(r)
                continue
            if r.get("id") != ident:
                raise QMPError("%s: reply for another id: %r" % (self.name, r))
            if "error" in r:
                err = r["error"]
                if not isinstance(err.get("class"), str) or not isinstance(err.get("desc"), str):
                    raise QMPError("%s: malformed error %r" % (self.name, r))
                if not error_ok:
                    raise QMPError("%s: %s failed: %r" % (self.name, cmd, err))
                return r
            if "return" not in r:
                raise QMPError("%s: neither return nor error: %r" % (self.name, r))
            return r if error_ok else r["return"]

    def event(self, name, timeout=60, data=None):
        """Waits for event @name (with @data, if given) and removes it."""
        end = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    if data is not None and e.get("data") != data:
                        raise QMPError("%s: %s with data %r, expected %r"
                                       % (self.name, name, e.get("data"), data))
                    del self.events[i]
                    return e
            left = end - time.time()
            if left <= 0:
                raise QMPError("%s: no %s event within %d s (have %r)"
                               % (self.name, name, timeout, self.events))
            self.sock.settimeout(left)
            try:
                r = self._read()
            except socket.timeout:
                continue
            finally:
                self.sock.settimeout(60)
            if "event" not in r:
                raise QMPError("%s: unexpected reply %r" % (self.name, r))
            self._check_event(r)
            self.events.append(r)


def log(msg):
    print("qmp_client: " + msg, flush=True)


def console(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_console(path, text, timeout=120):
    end = time.time() + timeout
    while text not in console(path):
        if time.time() > end:
            raise QMPError("the guest console never showed %r" % text)
        time.sleep(0.2)


def ticks(path):
    return sum(1 for line in console(path).splitlines() if line.startswith("TICK "))


def status(c, want):
    r = c.execute("query-status")
    if r.get("status") != want or r.get("running") != (want == "running"):
        raise QMPError("query-status: %r, expected %s" % (r, want))


def dummy(schema, typename):
    """A value of the type the schema names, for a required argument."""
    t = schema[typename]
    meta = t["meta-type"]
    if meta == "builtin":
        return {"int": 0, "string": "x", "boolean": False, "number": 0,
                "value": 0, "null": None}[t["json-type"]]
    if meta == "enum":
        return t["values"][0]
    if meta == "array":
        return []
    return {m["name"]: dummy(schema, m["type"]) for m in t["members"] if "default" not in m}


def sweep_schema(c):
    """query-qmp-schema, and every command it lists, answered."""
    entries = c.execute("query-qmp-schema")
    schema = {e["name"]: e for e in entries}
    if len(schema) != len(entries):
        raise QMPError("query-qmp-schema names an entity twice")
    cmds = sorted(e["name"] for e in entries if e["meta-type"] == "command")
    listed = sorted(x["name"] for x in c.execute("query-commands"))
    if cmds != listed:
        raise QMPError("schema commands %r differ from query-commands %r" % (cmds, listed))
    for e in entries:
        refs = [e.get(k) for k in ("arg-type", "ret-type", "element-type") if e.get(k)]
        refs += [m["type"] for m in e.get("members", []) if "type" in m]
        for ref in refs:
            if ref not in schema:
                raise QMPError("%s refers to %s, which the schema lacks" % (e["name"], ref))
    # State changers are driven by the lifecycle itself.
    skip = {"qmp_capabilities", "quit", "system_reset", "system_powerdown", "stop", "cont"}
    answered = 0
    for name in cmds:
        if name in skip:
            continue
        args = dummy(schema, schema[name]["arg-type"])
        r = c.execute(name, args, error_ok=True)
        if "error" in r and r["error"]["class"] == "CommandNotFound":
            raise QMPError("%s is in the schema but not found: %r" % (name, r))
        # Wrong types must be refused with QEMU's message, never accepted.
        for m in schema[schema[name]["arg-type"]].get("members", []):
            bad = dict(args)
            bad[m["name"]] = {"not": "a %s" % m["type"]}
            if schema[m["type"]].get("json-type") == "value":
                continue
            r = c.execute(name, bad, error_ok=True)
            if r.get("error", {}).get("class") != "GenericError" or \
                    "Invalid parameter type for '%s'" % m["name"] not in r["error"]["desc"]:
                raise QMPError("%s with a bad %s: %r" % (name, m["name"], r))
        answered += 1
    log("query-qmp-schema: %d entities, %d commands; %d answered" % (len(entries), len(cmds),
                                                                    answered))


def main():
    sock, cons = sys.argv[1], sys.argv[2]
    a = Client(sock, "A")
    b = Client(sock, "B")
    log("two clients negotiated; qemu %(major)d.%(minor)d.%(micro)d, " % a.version["qemu"]
        + a.version["package"])
    status(a, "prelaunch")
    time.sleep(3)
    if "GUEST-UP" in console(cons):
        raise QMPError("the guest ran before cont (-S)")
    cpus = a.execute("query-cpus-fast")
    if not cpus or not all(isinstance(x["thread-id"], int) and x["thread-id"] > 0 for x in cpus):
        raise QMPError("query-cpus-fast: %r" % cpus)

    a.execute("cont")
    a.event("RESUME")
    b.event("RESUME")
    status(b, "running")
    wait_console(cons, "TICK 2")
    log("cont: the guest runs")

    b.execute("stop")
    a.event("STOP")
    b.event("STOP")
    status(a, "paused")
    before = ticks(cons)
    time.sleep(4)
    if ticks(cons) != before:
        raise QMPError("the guest printed while paused (%d -> %d ticks)" % (before, ticks(cons)))
    log("stop: no guest output for 4 s (%d ticks)" % before)

    a.execute("cont")
    a.event("RESUME")
    b.event("RESUME")
    wait_console(cons, "TICK %d" % (before + 2))
    log("cont: the guest runs again")

    sweep_schema(a)

    # The balloon, if there is one: BALLOON_CHANGE to both as the guest inflates it.
    r = a.execute("query-balloon", error_ok=True)
    if "return" in r:
        full = r["return"]["actual"]
        a.execute("balloon", {"value": full * 3 // 4})
        for c in (a, b):
            e = c.event("BALLOON_CHANGE", timeout=120)
            if not 0 < e["data"]["actual"] < full:
                raise QMPError("BALLOON_CHANGE %r after asking for %d" % (e, full * 3 // 4))
        log("balloon: BALLOON_CHANGE, actual %d of %d" % (e["data"]["actual"], full))

    b.execute("system_powerdown")
    a.event("POWERDOWN")
    b.event("POWERDOWN")
    wait_console(cons, "GUEST-POWER-BUTTON")
    for c in (a, b):
        c.event("SHUTDOWN", data={"guest": True, "reason": "guest-shutdown"})
    log("system_powerdown: POWERDOWN, the guest saw its power button, SHUTDOWN")
    # The VMM exits: the connection ends.
    try:
        while True:
            a._read()
    except EOFError:
        pass
    print("QMP-CLIENT-OK", flush=True)


if __name__ == "__main__":
    try:
        main()
    except (QMPError, EOFError, OSError, KeyError, ValueError) as e:
        print("qmp_client: FAILED: %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)
    os._exit(0)
