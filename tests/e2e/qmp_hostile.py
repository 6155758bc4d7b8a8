"""Hostile QMP clients against a running ember (tests/e2e/cases/qmp-hostile.sh).

  qmp_hostile.py hostile SOCK LOG   a silent client, a flood after a syntax
      error, a NUL inside a command, a client that never reads, and a normal
      client that is answered throughout and sees the guest running
  qmp_hostile.py fdlimit SOCK N     N clients at once under a low fd limit:
      those ember can take are greeted, the others wait; once the first
      leave, the others are greeted too. Prints SERVED-FIRST k.
Prints QMP-HOSTILE-OK at the end; exits non-zero on the first failure.
"""
import socket
import sys
import time


def fail(msg):
    print('FAILED: ' + msg, flush=True)
    sys.exit(1)


def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


PENDING = {}     # bytes received past the last line, by socket


def line(s, timeout=10.0):
    """One line (without CR LF), or None on EOF or timeout."""
    s.settimeout(timeout)
    buf = PENDING.pop(s, b'')
    while b'\n' not in buf:
        try:
            d = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            PENDING[s] = buf
            return None
        if not d:
            return None
        buf += d
    ln, _, rest = buf.partition(b'\n')
    PENDING[s] = rest
    return ln.rstrip(b'\r').decode('utf-8', 'replace')


def closed(s, timeout):
    """Whether the server closed @s within @timeout s (reading what it sent)."""
    end = time.time() + timeout
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        if not d:
            return True
    return False


def cmd(s, text, want):
    s.sendall(text.encode() + b'\n')
    while True:
        r = line(s)
        if r is None:
            fail('no reply to %s' % text)
        if '"event"' in r:
            continue
        print('%s -> %s' % (text, r[:200]), flush=True)
        if want not in r:
            fail('reply to %s lacks %s' % (text, want))
        return r


def greet(s):
    g = line(s)
    if not g or '"QMP"' not in g:
        fail('no greeting: %r' % g)


def hostile(path, log):
    silent = conn(path)
    greet(silent)
    t_silent = time.time()
    normal = conn(path)
    greet(normal)
    cmd(normal, '{"execute":"qmp_capabilities"}', '{"return":{}}')
    cmd(normal, '{"execute":"query-status"}', '"running":true')
    print('a silent client does not lock the normal one out', flush=True)

    # NUL inside the command name and inside an argument key: refused, not cut short.
    nul = conn(path)
    greet(nul)
    cmd(nul, '{"execute":"qmp_capabilities"}', '{"return":{}}')
    cmd(nul, '{"execute":"quit\\u0000 junk"}', '(NUL) in a string is not supported')
    cmd(nul, '{"execute":"query-status","arguments":{"x\\u0000":1}}',
        '(NUL) in a string is not supported')
    cmd(nul, '{"execute":"query-status"}', '"running":true')
    nul.close()

    # A syntax error, then bytes without a newline: dropped at the bound.
    flood = conn(path)
    greet(flood)
    flood.sendall(b'}{')
    r = line(flood)
    if not r or 'JSON parse error' not in r:
        fail('no parse error for the flood client: %r' % r)
    try:
        for _ in range(64):
            flood.sendall(b'x' * 4096)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = line(flood)
    print('flood client got: %s' % r, flush=True)
    if not r or 'longer than 65536 bytes' not in r or not closed(flood, 5):
        fail('the flood client was not cut off at the bound')
    flood.close()

    # One that asks for big replies and never reads: hung up on at the bound.
    sink = conn(path)
    greet(sink)
    cmd(sink, '{"execute":"qmp_capabilities"}', '{"return":{}}')
    sink.settimeout(5)
    try:
        for _ in range(2000):
            sink.sendall(b'{"execute":"query-qmp-schema"}\n')
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    cmd(normal, '{"execute":"query-status"}', '"running":true')
    if not closed(sink, 10):
        fail('the client that never reads was not dropped')
    sink.close()
    print('the client that never read was dropped', flush=True)

    # The silent one: gone after the 10 s handshake timeout.
    if not closed(silent, 15):
        fail('the silent client was not dropped')
    waited = time.time() - t_silent
    print('the silent client was dropped after %.1f s' % waited, flush=True)
    if waited < 9:
        fail('dropped before the 10 s handshake timeout')
    cmd(normal, '{"execute":"query-status"}', '"running":true')
    with open(log) as f:
        ticks = sum(1 for x in f if x.startswith('TICK '))
    print('guest ticks so far: %d' % ticks, flush=True)
    if ticks < 10:
        fail('the guest did not keep running')
    cmd(normal, '{"execute":"quit"}', '{"return":{}}')


def fdlimit(path, n):
    cs = [conn(path) for _ in range(n)]
    greeted, waiting = [], []
    for c in cs:
        g = line(c, 1)
        if g and '"QMP"' in g:
            # Negotiated at once: the handshake timeout must not free their slots.
            cmd(c, '{"execute":"qmp_capabilities"}', '{"return":{}}')
            greeted.append(c)
        else:
            waiting.append(c)
    print('SERVED-FIRST %d of %d' % (len(greeted), n), flush=True)
    if not greeted or not waiting:
        fail('expected some clients served and some waiting')
    time.sleep(2)   # the loop must not spin meanwhile (the case measures)
    print('WAITED', flush=True)
    sys.stdin.readline()    # the case has measured ember's CPU time
    for c in waiting:
        if line(c, 0.1) is not None:
            fail('a waiting client was served while no descriptor was free')
    for c in greeted:
        c.close()
    # Each one served leaves in turn, freeing a descriptor for the next.
    for c in waiting:
        greet(c)
        cmd(c, '{"execute":"qmp_capabilities"}', '{"return":{}}')
        if c is not waiting[-1]:
            c.close()
    print('the waiting clients were served once descriptors were free', flush=True)
    cmd(waiting[-1], '{"execute":"query-status"}', '"running":true')
    cmd(waiting[-1], '{"execute":"quit"}', '{"return":{}}')


if __name__ == '__main__':
    if sys.argv[1] == 'hostile':
        hostile(sys.argv[2], sys.argv[3])
    else:
        fdlimit(sys.argv[2], int(sys.argv[3]))
    print('QMP-HOSTILE-OK', flush=True)
