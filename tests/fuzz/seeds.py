#!/usr/bin/env python3
"""Writes the hand-made seeds of the stateful register fuzzers into
tests/fuzz/corpus/NAME/. Run from the top of the tree after changing an
input format; scripts/fuzz merges what the fuzzers find on top of these."""
import os
import struct
import zlib

LOG2 = {1: 0, 2: 1, 4: 2, 8: 3}


def out(target, name, data):
    d = os.path.join('tests/fuzz/corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# --- fuzz_virtio_transport: kind byte (where | write<<3 | log2(size)<<4) ---
class T:
    def __init__(self, kvm=False):
        self.b = bytes([1 if kvm else 0])   # mode byte

    def op(self, where, write, size, operand, val=None):
        self.b += bytes([where | (8 if write else 0) | LOG2[size] << 4]) + operand
        if write:
            self.b += val.to_bytes(size, 'little')

    def ecam(self, reg, val=None, size=4, slot=3, fn=0):
        self.op(0, val is not None, size, bytes([slot | fn << 5]) + struct.pack('<H', reg), val)

    def cf8(self, slot, reg, val=None, size=4):
        self.op(1, True, 4, bytes([0]), 0x80000000 | slot << 11 | (reg & 0xfc))
        self.op(1, val is not None, size, bytes([4 + (reg & 3)]), val)

    def bar4(self, off, val=None, size=4, fn=0):
        self.op(2 | fn << 6, val is not None, size, struct.pack('<H', off), val)

    def bar1(self, off, val=None, size=4):
        self.op(3, val is not None, size, struct.pack('<H', off), val)

    def mmio(self, off, val=None, size=4):
        self.op(4, val is not None, size, struct.pack('<H', off), val)

    def ram(self, off, val, size=2):
        self.b += bytes([6 | LOG2[size] << 4]) + struct.pack('<H', off) + val.to_bytes(size, 'little')

    def event(self, e):
        self.b += bytes([7]) + bytes([e])


BAR4_AT, BAR1_AT, MSIX_CAP = 0x800100000, 0xc0010000, 0x98
COMMON = dict(dfselect=0, df=4, gfselect=8, gf=12, msix=16, numq=18, status=20, gen=21,
              qsel=22, qsize=24, qmsix=26, qenable=28, qnoff=30, qdesc=32, qavail=40, qused=48)


def pci_bringup(t, msix=True):
    t.ecam(0x20, 0xffffffff); t.ecam(0x24, 0xffffffff); t.ecam(0x20)
    t.ecam(0x14, 0xffffffff); t.ecam(0x14)
    t.ecam(0x20, BAR4_AT & 0xffffffff); t.ecam(0x24, BAR4_AT >> 32)
    t.ecam(0x14, BAR1_AT)
    t.ecam(0x04, 0x6, size=2)
    t.ecam(0x34, size=1)
    c = COMMON
    for s in (0, 1, 3):
        t.bar4(c['status'], s, 1)
    t.bar4(c['dfselect'], 1); t.bar4(c['df']); t.bar4(c['gfselect'], 1); t.bar4(c['gf'], 1)
    t.bar4(c['gfselect'], 0); t.bar4(c['gf'], 0x20)
    t.bar4(c['status'], 11, 1); t.bar4(c['status'], size=1)
    for q in (0, 1):
        base = 0x10000 + q * 0x8000
        t.bar4(c['qsel'], q, 2); t.bar4(c['qsize'], 16, 2); t.bar4(c['qmsix'], q + 1, 2)
        t.bar4(c['qdesc'], base, 8); t.bar4(c['qavail'], base + 0x2000, 8)
        t.bar4(c['qused'], base + 0x4000, 8); t.bar4(c['qenable'], 1, 2)
    t.bar4(c['msix'], 0, 2)
    if msix:
        for v in range(3):
            t.bar1(16 * v, 0xfee00000); t.bar1(16 * v + 8, 0x40 + v); t.bar1(16 * v + 12, 0)
        t.ecam(MSIX_CAP + 2, 0x8000, size=2)
    t.bar4(c['status'], 15, 1)


t = T(); pci_bringup(t)
t.bar4(0x3000, 0, 2); t.bar4(0x3004, 1, 2)       # doorbells
t.ram(0x2000, 0, 2); t.event(0); t.event(0x08)    # used-buffer interrupts
t.bar1(12, 1); t.event(0); t.bar1(0x800, size=8); t.bar1(12, 0)   # masked: PBA, then unmask
t.event(2); t.bar4(0x1000, size=1)                # config change, ISR
t.bar4(0x2000, 0x1234, 4); t.bar4(0x2008, size=4)  # device config
t.ecam(0x24, 0x9); t.bar4(0x3000, 0, 2)          # BAR 4 moved: doorbell at the new place
t.event(4); t.bar4(COMMON['status'], 0, 1)       # NEEDS_RESET, then reset
out('virtio_transport', 'pci-bringup', t.b)
out('virtio_transport', 'pci-bringup-kvm', b'\x01' + t.b[1:])

t = T(); pci_bringup(t, msix=False)
t.event(0); t.bar4(0x1000, size=1); t.ecam(0x3c, size=1)   # INTx
t.ecam(0x04, 0x406, size=2)                                 # INTx disabled
out('virtio_transport', 'pci-intx', t.b)

t = T()
t.cf8(3, 0); t.cf8(3, 8); t.cf8(3, 0x34, size=1); t.cf8(3, 0x40, size=1)
t.cf8(3, 0x20, 0xffffffff); t.cf8(3, 0x20); t.cf8(3, 0x98 + 2, 0xc000, size=2)
t.cf8(0, 0); t.cf8(31, 0); t.ecam(0, slot=0); t.ecam(0x100)
# the PCI cfg access capability at 0x84: BAR 4, offset 20 (status), length 1
t.cf8(3, 0x84 + 4, 4, size=1); t.cf8(3, 0x84 + 8, 20); t.cf8(3, 0x84 + 12, 1)
t.cf8(3, 0x84 + 16, 1); t.cf8(3, 0x84 + 16, size=1)
out('virtio_transport', 'cf8-config', t.b)

t = T()   # function 1 (multifunction) puts BAR 4 on top of function 0's, then moves it off
pci_bringup(t, msix=False)
t.ecam(0x0e, size=1); t.ecam(0x00, fn=1)
t.ecam(0x20, BAR4_AT & 0xffffffff, fn=1); t.ecam(0x24, BAR4_AT >> 32, fn=1)
t.ecam(0x04, 0x6, size=2, fn=1); t.bar4(COMMON['status'], size=1); t.bar4(COMMON['status'], 1, 1, fn=1)
t.ecam(0x20, (BAR4_AT + 0x10000) & 0xffffffff, fn=1); t.bar4(COMMON['status'], size=1, fn=1)
t.event(0x20 | 2); t.ecam(0x04, 0, size=2)
out('virtio_transport', 'multifunction-overlap', t.b)

t = T()
for r, v in ((0x70, 0), (0x70, 1), (0x70, 3), (0x14, 1), (0x10, 1), (0x24, 0), (0x20, 0x21),
             (0x70, 11), (0x30, 0), (0x38, 16), (0x80, 0x10000), (0x84, 0), (0x90, 0x12000),
             (0x94, 0), (0xa0, 0x14000), (0xa4, 0), (0x44, 1), (0x70, 15), (0x50, 0),
             (0x50, 1)):
    t.mmio(r, v)
t.ram(0x0002, 1); t.event(1); t.mmio(0x60); t.mmio(0x64, 1); t.mmio(0xfc); t.mmio(0x100, 7)
t.event(3); t.mmio(0x70); t.mmio(0x70, 0)
out('virtio_transport', 'mmio-bringup', t.b)
out('virtio_transport', 'mmio-bringup-kvm', b'\x01' + t.b[1:])

# --- fuzz_legacy_pio: kind byte (op | log2(size)<<4), then port and value ---
class P:
    def __init__(self):
        self.b = b''

    def out(self, port, val, size=1):
        self.b += bytes([1 | LOG2[size] << 4]) + struct.pack('<H', port) + val.to_bytes(size, 'little')

    def inp(self, port, size=1):
        self.b += bytes([0 | LOG2[size] << 4]) + struct.pack('<H', port)

    def chr_in(self, data):
        self.b += bytes([2, len(data)]) + data

    def tick(self, ms):
        self.b += bytes([3]) + struct.pack('<H', ms)


p = P()   # 16550: 115200 8n1, FIFO, interrupts, loopback, input
for port, v in ((0x3fb, 0x80), (0x3f8, 1), (0x3f9, 0), (0x3fb, 3), (0x3fa, 0xc7), (0x3f9, 0xf),
                (0x3fc, 0xb)):
    p.out(port, v)
p.out(0x3f8, ord('h')); p.chr_in(b'hello\r\n' * 3); p.inp(0x3fa); p.inp(0x3fd)
for _ in range(5):
    p.inp(0x3f8)
p.out(0x3fc, 0x1b); p.out(0x3f8, 0x41); p.inp(0x3f8); p.inp(0x3fe); p.out(0x3ff, 0x5a); p.inp(0x3ff)
out('legacy_pio', 'serial', p.b)

p = P()   # RTC: time, alarm, periodic and update interrupts, register C
for i in (0, 2, 4, 6, 7, 8, 9, 0x32, 0x0a, 0x0b):
    p.out(0x70, i); p.inp(0x71)
p.out(0x70, 0x0b); p.out(0x71, 0x82); p.out(0x70, 0); p.out(0x71, 0x30); p.out(0x70, 0x0b)
p.out(0x71, 0x76); p.out(0x70, 0x0a); p.out(0x71, 0x26); p.out(0x70, 1); p.out(0x71, 0xff)
p.tick(1000); p.tick(250); p.out(0x70, 0x0c); p.inp(0x71); p.out(0x70, 0x8d); p.inp(0x71)
p.out(0x70, 0x0b); p.out(0x71, 0x06); p.out(0x70, 0x04); p.out(0x71, 13); p.inp(0x70, 2)
out('legacy_pio', 'rtc', p.b)

p = P()   # i8042: self test, config byte, output port, reset; POST; pvpanic; ACPI PM
for c, d in ((0xaa, None), (0x20, None), (0x60, 0x47), (0xad, None), (0xd0, None), (0xd1, 0xdf),
             (0xa7, None), (0xa8, None), (0xae, None)):
    p.out(0x64, c)
    if d is not None:
        p.out(0x60, d)
    p.inp(0x64); p.inp(0x60)
p.out(0x60, 0xff); p.inp(0x60); p.out(0x80, 0x55); p.inp(0x80)
p.inp(0x505); p.out(0x505, 2); p.out(0x505, 1)
p.inp(0x600); p.inp(0x601); p.out(0x601, 0x80); p.out(0x600, 0x14); p.out(0x602, 0x0e)
p.out(0x64, 0xfe)
out('legacy_pio', 'i8042-misc', p.b)


# --- the ring fuzzers: a split ring of 16 at the start of RAM (fuzz_ring.h) ---
def split_ring(chains, qsize=16, base=0x1000, avail_off=None, used_align=4, buf_off=0x1000):
    """chains: lists of (len, write, data) segments. Returns the RAM image
    (descriptors at 0, avail after them, buffers from buf_off)."""
    img = bytearray(0x2000 + buf_off)
    avail = avail_off if avail_off is not None else 16 * qsize
    d, heads, at = 0, [], buf_off
    for chain in chains:
        heads.append(d)
        for i, (ln, wr, data) in enumerate(chain):
            flags = (1 if i < len(chain) - 1 else 0) | (2 if wr else 0)
            struct.pack_into('<QIHH', img, 16 * d, base + at, ln, flags, d + 1)
            if data:
                img[at:at + len(data)] = data
            at += max(ln, 1)
            d += 1
    struct.pack_into('<HH', img, avail, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into('<H', img, avail + 4 + 2 * i, h)
    return bytes(img[:at])


def blk_req(kind, sector=0, out=b'', inlen=0):
    chain = [(16, False, struct.pack('<IIQ', kind, 0, sector))]
    if out:
        chain.append((len(out), False, out))
    if inlen:
        chain.append((inlen, True, None))
    chain.append((1, True, None))
    return chain


blk_hdr = bytes([0, 4, 0, 0x10, 0, 0, 0, 0])       # split, 16 entries, 0x1000 sectors
out('virtio_blk', 'read-write-flush', blk_hdr + split_ring([
    blk_req(0, 8, inlen=512), blk_req(1, 16, out=b'\x5a' * 512), blk_req(4),
    blk_req(8, inlen=20)]))
out('virtio_blk', 'discard-zeroes', bytes([16 | 32, 4, 0, 0x10, 0, 0, 0, 0]) + split_ring([
    blk_req(11, out=struct.pack('<QII', 8, 8, 0)), blk_req(13, out=struct.pack('<QII', 0, 16, 1)),
    blk_req(1, 0xfff, out=b'\0' * 1024)]))

net_hdr = lambda flags, feat: bytes([flags, 4]) + struct.pack('<Q', feat) + b'\0\0'
vnet = b'\0' * 12
out('virtio_net', 'tx', net_hdr(0, 1 << 0 | 1 << 11) + split_ring([
    [(12, False, vnet), (60, False, b'\xff' * 6 + b'\x52\x54\0\x12\x34\x56\x08\x00')],
    [(72, False, bytes([1, 0, 14, 0, 20, 0, 34, 0, 16, 0, 0, 0]) + b'\0' * 60)]]))
out('virtio_net', 'rx', net_hdr(16, 1 << 15) + split_ring([[(1526, True, None)], [(12, True, None)]]))
out('virtio_net', 'ctrl', bytes([8, 4 | 0x10]) + struct.pack('<Q', 1 << 17 | 1 << 18 | 1 << 22 | 1 << 23) +
    b'\0\0' + split_ring([
        [(3, False, bytes([0, 0, 1])), (1, True, None)],
        [(8, False, bytes([1, 1]) + bytes([0x52, 0x54, 0, 1, 2, 3])), (1, True, None)],
        [(4, False, bytes([4, 0, 2, 0])), (1, True, None)],
        [(2 + 4 + 6 + 4 + 6, False, bytes([1, 0]) + struct.pack('<I', 1) + bytes(6) +
          struct.pack('<I', 1) + bytes([1, 0, 0x5e, 0, 0, 1])), (1, True, None)],
        [(4, False, bytes([2, 0, 5, 0])), (1, True, None)]]))

# fuzz_virtq: 16-byte header, then RAM region A (rings at 0, 0x100, 0x200; buffers from 0x1000)
vq_hdr = bytes([0, 4, 0, 0, 0, 0, 0, 0]) + struct.pack('<HHH', 0, 0x100, 0x200) + bytes([1, 0])
out('virtq', 'split-chains', vq_hdr + split_ring([
    [(16, False, b'h' * 16), (512, True, None), (1, True, None)], [(64, False, b'x' * 64)]],
    avail_off=0x100))
img = bytearray(split_ring([[(32, False, None)]], avail_off=0x100))
struct.pack_into('<QIHH', img, 0, 0x1000 + 0x1000, 32, 4, 0)   # one indirect table of two
struct.pack_into('<QIHH', img, 0x1000, 0x1000 + 0x1800, 16, 1, 1)
struct.pack_into('<QIHH', img, 0x1010, 0x1000 + 0x1900, 64, 2, 0)
out('virtq', 'indirect', bytes([4]) + vq_hdr[1:] + bytes(img))

# fuzz_virtio_balloon: segment count, then (length, bytes) per segment
pfns = struct.pack('<4I', 0x100, 0x101, 0x102, 0x1000)
stats = b''.join(struct.pack('<HQ', t, v) for t, v in ((0, 1), (4, 1 << 20), (5, 1 << 30), (7, 3)))
out('virtio_balloon', 'pfns', bytes([1]) + struct.pack('<H', len(pfns)) + pfns)
out('virtio_balloon', 'stats-split', bytes([2]) + struct.pack('<H', 15) + stats[:15] +
    struct.pack('<H', len(stats) - 15) + stats[15:])

# fuzz_bzimage, fuzz_elf: the input is XORed onto a valid image, so zeros are that image
for t in ('bzimage', 'elf'):
    out(t, 'template', bytes(64))
    out(t, 'template-initrd', bytes(63) + b'\x01')

# fuzz_keyval: option strings
for name, s in (('device', 'virtio-blk-pci,name=d0,base=0x2f8,size=4G,flag=on,n=18446744073709551615'),
                ('implied', 'isa-serial,size=1k'), ('help', 'help'), ('empty-value', 'x=,size=0'),
                ('commas', 'a,name=one,,two,size=1M')):
    out('keyval', name, s.encode())
out('blk_throttle', 'bursts', b'driver=qcow2,throttling.iops-total=100,throttling.iops-total-max=200,'
    b'throttling.bps-read=1M,throttling.bps-read-max=2M,throttling.bps-write=1k')

# fuzz_qmp: the first byte is the piece size (0: all at once), then the client's bytes
sess = b'{"execute":"qmp_capabilities"}\n'
out('qmp', 'quit', b'\0' + sess + b'{"execute":"quit"}\n')
out('qmp', 'queries', b'\0' + sess + b''.join(b'{"execute":"%s","id":%d}\n' % (c.encode(), i)
    for i, c in enumerate(('query-status', 'query-version', 'query-commands', 'query-balloon'))))
out('qmp', 'qom', b'\x07' + sess +
    b'{"execute":"qom-list","arguments":{"path":"d0"}}\n'
    b'{"execute":"qom-set","arguments":{"path":"d0","property":"u","value":7}}\n'
    b'{"execute":"qom-get","arguments":{"path":"/objects/o0","property":"z"}}\n'
    b'{"execute":"qom-set","arguments":{"path":"b0","property":"guest-stats-polling-interval","value":2}}\n'
    b'{"execute":"balloon","arguments":{"value":268435456}}\n{"execute":"quit","id":"bye"}\n')
out('qmp', 'errors', b'\x03' + b'{"execute":"query-status"}\n' + sess + b'{"execute":"nope"}\n'
    b'{"execute":"qom-get","arguments":{"path":"zz","property":"u"}}\n}{ garbage\n'
    b'{"execute":"quit"}\n')

# fuzz_qmp_stream: opcode (client | op << 2; op 0 connect, 1 disconnect, 2 send LEN,
# 3 read LEN*16, 4 event LEN), then LEN and the bytes for send
def qs_send(k, b):
    out_ = b''
    while b:
        out_ += bytes([k | 2 << 2, min(len(b), 255)]) + b[:255]
        b = b[255:]
    return out_


def qs(*ops):
    return b''.join(ops)


QS_CONNECT = lambda k: bytes([k])
QS_LEAVE = lambda k: bytes([k | 1 << 2])
QS_READ = lambda k, n=255: bytes([k | 3 << 2, n])
QS_EVENT = lambda n: bytes([4 << 2, n])
out('qmp_stream', 'two-then-quit', qs(
    QS_CONNECT(0), QS_CONNECT(1), qs_send(1, b'{"execute":"query-status"}\n'), QS_READ(1),
    qs_send(0, sess), qs_send(1, sess), QS_READ(0), QS_EVENT(0), QS_EVENT(1),
    qs_send(0, b'{"execute":"stop","id":1}\n{"execute":"cont","id":2}\n'), QS_READ(0), QS_READ(1),
    QS_LEAVE(1), QS_CONNECT(1), qs_send(1, sess + b'{"execute":"query-version"}\n'), QS_READ(1),
    qs_send(0, b'{"execute":"quit"}\n'), QS_READ(0)))
out('qmp_stream', 'pieces', qs(
    QS_CONNECT(2), *[qs_send(2, sess[i:i + 3]) for i in range(0, len(sess), 3)],
    qs_send(2, b'{"execute":"balloon","arguments":{"value":268435456}}\n'),
    QS_EVENT(7), QS_READ(2, 1), QS_READ(2),
    qs_send(2, b'{"execute":"system_powerdown"}\n'), QS_READ(2), QS_LEAVE(2)))
out('qmp_stream', 'hostile', qs(
    QS_CONNECT(0), QS_CONNECT(3), qs_send(3, sess),
    qs_send(0, b'}{' + b'x' * 600), qs_send(3, b'{"execute":"quit\\u0000 junk"}\n'),
    qs_send(3, b'{"execute":"query-qmp-schema"}\n' * 8), QS_EVENT(0), QS_EVENT(2),
    QS_READ(3, 1), qs_send(3, b'{"execute":"quit","id":"bye"}\n'), QS_READ(3)))

# --- fuzz_cli_opts: argv[1..] one per line ---
# Seeds: the command lines of the e2e cases qemu-*.sh (run_ember, "$EMBER"
# and their `bad NAME PATTERN ARGS` lines) and of docs/cli.md (its `ember ...`
# examples, and each option written in backquotes after -kernel).
import glob
import re
import shlex
import subprocess

CLI_VARS = {'LAB_KERNEL': '/lab/kernel/vmlinuz', 'E2E_TMP': '/tmp/e2e', 'E2E_APPEND':
            'console=ttyS0 panic=-1 quiet', 'LAB_VMLINUX': '/lab/kernel/vmlinux'}
CLI_STOP = {'>', '<', '|', '||', '&&', ';', '&', '2>&1', '>&2'}


def cli_words(line):
    lex = shlex.shlex(line, posix=True, punctuation_chars='|&;<>')
    lex.whitespace_split = True
    try:
        words = list(lex)
    except ValueError:
        return None
    out_words = []
    for w in words:
        if w in CLI_STOP or w.startswith('>') or w.startswith('2>'):
            break
        out_words.append(re.sub(r'\$\{?(\w+)\}?', lambda m: CLI_VARS.get(m.group(1), 'x'), w))
    return out_words


def cli_seed(name, words):
    if words:
        out('cli_opts', name, '\n'.join(words).encode())


for path in sorted(glob.glob('tests/e2e/cases/qemu-*.sh')):
    case = os.path.basename(path)[:-3]
    text = re.sub(r'\\\n\s*', ' ', open(path).read())
    for i, line in enumerate(text.splitlines()):
        line = line.strip()
        m = re.match(r'(?:run_ember|"\$EMBER")\s+(.*)', line)
        b = re.match(r'bad\s+(.*)', line)
        if m:
            words = cli_words(m.group(1))
            while words and words[0] in ('--timeout', '--log'):
                words = words[2:]
        elif b:
            words = cli_words(b.group(1))
            words = words and ['-kernel', CLI_VARS['LAB_KERNEL']] + words[2:]
        else:
            continue
        cli_seed('%s-%d' % (case, i), words)

doc = open('docs/cli.md').read()
for i, m in enumerate(re.finditer(r'^ +ember ((?:.*\\\n)*.*)', doc, re.M)):
    cli_seed('doc-example-%d' % i, cli_words(re.sub(r'\\\n\s*', ' ', m.group(1)).replace('...', '')))
for i, span in enumerate(sorted(set(re.findall(r'`(-[a-z][^`]*)`', doc)))):
    words = cli_words(span.replace('\\|', '|'))
    if words and len(words) > 1:
        cli_seed('doc-option-%d' % i, ['-kernel', 'k'] + words)

# The dictionary, from the tables as ember prints them (EMBER=path, default
# build/ember): every option, device, back-end type and property key.
def cli_dict(ember):
    def help_of(*args):
        r = subprocess.run([ember, *args], capture_output=True, text=True)
        return r.stdout

    words = {'\n', 'help', 'on', 'off', 'id=', 'driver=', 'node-name=', 'qom-type=',
             'backend=', 'type=', ',', '=', ',,', '{', '}', '"', ':'}
    words |= set(re.findall(r'(?:^  |, )(-[A-Za-z][\w-]*)', help_of('-help'), re.M))
    for dev in re.findall(r'^name "([^"]+)"', help_of('-device', 'help'), re.M):
        words.add(dev)
        words |= {k + '=' for k in re.findall(r'^  ([\w.-]+)=<', help_of('-device', dev + ',help'), re.M)}
    for opt, pre in (('-blockdev', 'driver='), ('-netdev', ''), ('-chardev', ''), ('-object', '')):
        words.add(opt)
        for t in re.findall(r'^  ([\w-]+) +- ', help_of(opt, 'help' if not pre else pre + 'help'), re.M):
            words.add(t)
            words |= {k + '=' for k in re.findall(r'^  ([\w.-]+)=<', help_of(opt, pre + t + ',help'), re.M)}
    for opt in ('-M', '-cpu'):
        words |= set(re.findall(r'^(?:  )?([a-z][\w-]*)\s', help_of(opt, 'help'), re.M))
    return sorted(w for w in words if w)


ember_bin = os.environ.get('EMBER', 'build/ember')
if os.access(ember_bin, os.X_OK):
    with open('tests/fuzz/cli_opts.dict', 'w') as f:
        f.write('# tests/fuzz/seeds.py writes this from %s\'s help output\n' % 'ember')
        for w in cli_dict(ember_bin):
            f.write('"%s"\n' % ''.join(c if ' ' <= c <= '~' and c not in '"\\' else
                                        '\\x%02x' % ord(c) for c in w))
else:
    print('seeds.py: no %s: tests/fuzz/cli_opts.dict not rewritten' % ember_bin)

# fuzz_vhost_user: a daemon's replies, in order: GET_FEATURES, GET_PROTOCOL_FEATURES,
# (GET_QUEUE_NUM with MQ), SET_OWNER's ack (REPLY_ACK), GET_CONFIG (60 bytes), GET_VRING_BASE
def vu(req, payload, flags=5):
    return struct.pack('<III', req, flags, len(payload)) + payload
VU_OK = (vu(1, struct.pack('<Q', 1 << 30 | 1 << 32)) + vu(15, struct.pack('<Q', 1 << 3 | 1 << 9 | 1 << 0)) +
         vu(17, struct.pack('<Q', 4)) + vu(3, struct.pack('<Q', 0)))
VU_CFG = vu(24, struct.pack('<III', 0, 60, 0) + bytes(range(60)))
out('vhost_user', 'session', VU_OK + VU_CFG + vu(11, struct.pack('<II', 0, 42)))
out('vhost_user', 'no-ack', vu(1, struct.pack('<Q', 1 << 30)) + vu(15, struct.pack('<Q', 1 << 9)) +
    VU_CFG + vu(11, struct.pack('<II', 0, 7)))
out('vhost_user', 'empty-config', VU_OK + vu(24, b''))
out('vhost_user', 'wrong-ring', VU_OK + VU_CFG + vu(11, struct.pack('<II', 3, 1)))
out('vhost_user', 'nack', VU_OK[:-8] + struct.pack('<Q', 1))
out('vhost_user', 'huge-size', struct.pack('<III', 1, 5, 0xffffffff))


# --- fuzz_vfio_region: region size, MSI-X layout, struct vfio_region_info + caps ---
def vfio_region(name, region, nvec, table_off, pba_off, mmap, areas=None):
    head = struct.pack('<Q', region) + struct.pack('<I', nvec)[:1] + bytes([mmap, 0, 0])
    head += struct.pack('<II', table_off, pba_off)
    flags = 1 | 2 | 4 | (8 if areas is not None else 0)  # READ WRITE MMAP [CAPS]
    info = struct.pack('<IIIIQQ', 32, flags, 0, 32 if areas is not None else 0, region, 0)
    if areas is not None:
        info += struct.pack('<HHIII', 1, 1, 0, len(areas), 0)  # SPARSE_MMAP header
        for o, s in areas:
            info += struct.pack('<QQ', o, s)
    out('vfio_region', name, head + info)


vfio_region('whole', 0x100000, 0, 0, 0, 1)
vfio_region('nvme-msix', 0x4000, 65, 0x2000, 0x3000, 1)
vfio_region('sparse', 0x8000, 1, 0x3000, 0x3800, 1, [(0, 0x1800), (0x2000, 0x4000)])


# --- fuzz_net_user_frames: guest frames into libslirp, each a u16 length + bytes ---
def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


GMAC, SMAC, BCAST = bytes.fromhex('525400123456'), bytes.fromhex('525500000002'), b'\xff' * 6
GIP, HIP = bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2])


def ip4(proto, payload, src=GIP, dst=HIP, frag=0):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return SMAC + GMAC + b'\x08\x00' + h + payload


def l4sum(proto, seg, src=GIP, dst=HIP):
    return csum(src + dst + struct.pack('!BBH', 0, proto, len(seg)) + seg)


def udp(sport, dport, data, dst=HIP):
    seg = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
    seg = seg[:6] + struct.pack('!H', l4sum(17, seg, dst=dst)) + seg[8:]
    return ip4(17, seg, dst=dst)


def tcp(sport, dport, flags, seq=1000, data=b''):
    seg = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + data
    seg = seg[:16] + struct.pack('!H', l4sum(6, seg)) + seg[18:]
    return ip4(6, seg)


def frames(*fs):
    return b''.join(struct.pack('<H', len(f)) + f for f in fs)


ARP = BCAST + GMAC + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + GMAC + GIP + b'\0' * 6 + HIP
BOOTP = (struct.pack('!BBBBIHH', 1, 1, 6, 0, 0x1234, 0, 0) + b'\0' * 16 + GMAC + b'\0' * 202 +
         bytes([99, 130, 83, 99, 53, 1, 1, 55, 3, 1, 3, 6, 255]))
DNS = struct.pack('!HHHHHH', 0x4242, 0x0100, 1, 0, 0, 0) + b'\x07example\x03com\x00' + struct.pack('!HH', 1, 1)
ICMP = struct.pack('!BBHHH', 8, 0, 0, 1, 1) + b'ping'
ICMP = ICMP[:2] + struct.pack('!H', csum(ICMP)) + ICMP[4:]
out('net_user_frames', 'arp', frames(ARP))
out('net_user_frames', 'dhcp', frames(udp(68, 67, BOOTP, dst=b'\xff' * 4)))
out('net_user_frames', 'dns', frames(ARP, udp(5353, 53, DNS, dst=bytes([10, 0, 2, 3]))))
out('net_user_frames', 'ping', frames(ARP, ip4(1, ICMP)))
out('net_user_frames', 'tcp', frames(tcp(40000, 22, 0x02), tcp(40000, 22, 0x10, 1001, b'x' * 64),
                                     tcp(40000, 22, 0x11, 1065)))
out('net_user_frames', 'frags', frames(ip4(17, b'\0' * 64, frag=0x2000), ip4(17, b'\0' * 32, frag=8)))
out('net_user_frames', 'ipv6-ns', frames(BCAST + GMAC + b'\x86\xdd' + struct.pack('!IHBB', 0x60000000, 24, 58, 255) +
                                         b'\xfe\x80' + b'\0' * 14 + b'\xff\x02' + b'\0' * 13 + b'\x01\xff\x00\x00\x02' +
                                         struct.pack('!BBHI', 135, 0, 0, 0) + b'\xfe\x80' + b'\0' * 13 + b'\x02'))


# --- fuzz_snapshot: lib/snapfile.h's format (header, sections, CRC) ---
def snapfile(machine, mem, sects, version=1):
    body = b''
    for name, data in sects:
        body += struct.pack('<H', len(name)) + name + struct.pack('<I', len(data)) + data
    total = 48 + len(body) + 4
    head = b'EMBERSNP' + struct.pack('<IIQQ', version, len(sects), total, mem)
    head += machine.ljust(16, b'\0')
    d = head + body
    return d + struct.pack('<I', zlib.crc32(d))


SNAP = [(b'cpu0', bytes(range(200))), (b'vm', b'\1' * 40), (b'serial/com0', b'')]
out('snapshot', 'pc', snapfile(b'pc', 256 << 20, SNAP))
out('snapshot', 'empty', snapfile(b'microvm', 0, []))
out('snapshot', 'truncated', snapfile(b'pc', 256 << 20, SNAP)[:-9])
out('snapshot', 'version2', snapfile(b'pc', 256 << 20, SNAP, 2))
