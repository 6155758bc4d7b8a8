"""ember on a pseudo-terminal, for tests/e2e/cases/qemu-serial-mux.sh:
whether the terminal is raw while ember runs and as before once it ends.

    pty_console.py quit|term|error EMBER ARGS...

quit: once the guest prints GUEST-UP, types Ctrl-a x; term: sends SIGTERM
then; error: ember is expected to fail while setting up. Prints
RAW-WHILE-RUNNING (or COOKED-...), EXIT:STATUS, RESTORED (or NOT-RESTORED),
then what ember wrote.
"""
import os
import select
import signal
import subprocess
import sys
import termios
import time


class Console:
    def __init__(self, args):
        self.master, self.slave = os.openpty()
        self.before = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(args, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, start_new_session=True)
        self.out = b""

    def pump(self, secs, want=None):
        """Reads ember's output for up to SECS; True once WANT is in it."""
        end = time.time() + secs
        while time.time() < end:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    return False
            if want and want in self.out:
                return True
            if self.proc.poll() is not None and not r:
                break
        return want is None

    def raw(self):
        return not termios.tcgetattr(self.slave)[3] & termios.ICANON

    def restored(self):
        return termios.tcgetattr(self.slave) == self.before


def main():
    how, args = sys.argv[1], sys.argv[2:]
    con = Console(args)
    if how != "error":
        if not con.pump(120, b"GUEST-UP"):
            print("NO-GUEST-UP")
        print("RAW-WHILE-RUNNING" if con.raw() else "COOKED-WHILE-RUNNING")
        if how == "quit":
            os.write(con.master, b"\x01x")
        else:
            con.proc.send_signal(signal.SIGTERM)
    end = time.time() + 60
    while con.proc.poll() is None and time.time() < end:
        con.pump(0.5)
    if con.proc.poll() is None:
        con.proc.kill()
    rc = con.proc.wait()
    con.pump(0.5)
    print("EXIT:%s" % rc)
    print("RESTORED" if con.restored() else "NOT-RESTORED")
    sys.stdout.write(con.out.decode("utf-8", "replace").replace("\r", ""))


if __name__ == "__main__":
    main()
