#!/usr/bin/env python3
"""Deterministic pcap workloads for benchmarking tcpflow.

Writes classic pcap files (Ethernet, microsecond timestamps) with HTTP/1.1
traffic over TCP: three-way handshake, data in realistic 1448-byte segments
(1428 over IPv6; TCP timestamps option), ACKs in the reverse direction and a
FIN exchange.  In every workload 1 in 50 data segments is swapped with a later
segment of the same message and 1 in 100 is retransmitted (an exact duplicate
a few segments later).  IP and TCP checksums are left zero (tcpflow does not
verify them).

Workloads (sizes selectable, defaults in brackets):

  bulk        64 concurrent connections, multi-MB responses, 1 in 8
              connections over IPv6                      [--bulk-mb 256]
  keepalive   200 concurrent HTTP/1.1 keep-alive connections, many
              responses each: plain, chunked, gzip (real gzip bodies) and
              chunked+gzip                               [--keepalive-mb 200]
  short       tens of thousands of one-request connections of a few KB,
              32 open at a time                          [--short-conns 40000]
  concurrent  200 000 connections open at once: every handshake and first
              request first, then the rest interleaved   [--concurrent-conns 200000]

For each WORKLOAD.pcap the generator also writes
  WORKLOAD.flows   "md5 length name" of every flow direction (tcpflow's
                   default %A.%a-%B.%b names), the exact expected flow files
  WORKLOAD.bodies  "md5 length" of every HTTP response body after transfer
                   and content decoding (what an HTTP+gzip scanner extracts)

Everything is derived from --seed, so the same options give byte-identical
files on any machine.  Pure Python with struct; no scapy.
"""

import argparse
import gzip
import hashlib
import ipaddress
import os
import random
import struct
import sys
import time

P_REORDER = 1.0 / 50     # a data segment is swapped with a later one
P_DUP = 1.0 / 100        # a data segment is sent again a little later
MSS4 = 1448              # 1500 - 20 (IPv4) - 32 (TCP with timestamps)
MSS6 = 1428              # 1500 - 40 (IPv6) - 32
WIN = 502                # window field (scaled), constant

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

PCAP_GLOBAL = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1)
PCAP_REC = struct.Struct('<IIII')
# Ethernet+IPv4 prefix (16: eth + ver/ihl + tos), total length, IP id,
# IP rest + TCP ports (18), seq, ack, data offset, flags, window, cksum,
# urgent, NOP NOP TS 10, tsval, tsecr  -> 66 bytes
HDR4 = struct.Struct('!16sHH18sIIBBHHH4sII')
# Ethernet+IPv6 prefix (18: eth + ver/tc/flow), payload length,
# nh/hop/src/dst + TCP ports (38), TCP as above -> 86 bytes
HDR6 = struct.Struct('!18sH38sIIBBHHH4sII')
TSOPT = b'\x01\x01\x08\x0a'

ROUTER_MAC = bytes.fromhex('00005e0001fe')


# --------------------------------------------------------------------------
# content pools

class Pools:
    """Deterministic payload material: random bytes, HTML-ish text, gzip."""

    def __init__(self, rng, bin_mb=32, text_mb=8, n_gz=160):
        t0 = time.time()
        self.bin = rng.randbytes(bin_mb << 20)
        alphabet = 'etaoinshrdlcumwfgypbvkjxqz'
        weights = [12, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
        vocab = []
        for _ in range(3000):
            n = rng.randint(2, 11)
            vocab.append(''.join(rng.choices(alphabet, weights, k=n)))
        tags = ['<p>', '</p>\n', '<div class="c">', '</div>\n', '<li>', '</li>\n',
                '<a href="/x/y">', '</a>', '<span>', '</span>', '\n']
        vocab += tags * 40
        parts = []
        size = 0
        target = text_mb << 20
        while size < target:
            chunk = ' '.join(rng.choices(vocab, k=20000))
            parts.append(chunk)
            size += len(chunk)
        self.text = ('<!DOCTYPE html>\n<html><body>\n' + ' '.join(parts)).encode()[:target]
        # gzip bodies: real gzip of text slices (mtime 0 keeps them deterministic)
        self.gz = []
        for _ in range(n_gz):
            n = int(2 ** rng.uniform(9, 17.5))          # 512 B .. ~185 KB decoded
            raw = self.slice(rng, n, text=True)
            self.gz.append((raw, gzip.compress(raw, compresslevel=6, mtime=0)))
        self.build_seconds = time.time() - t0

    def slice(self, rng, n, text=False):
        pool = self.text if text else self.bin
        if n >= len(pool):
            reps = n // len(pool) + 1
            return (pool * reps)[:n]
        off = rng.randrange(len(pool) - n)
        return pool[off:off + n]


# --------------------------------------------------------------------------
# packets

class Dir:
    """One direction of a connection with its precomputed header parts."""

    __slots__ = ('v6', 'pre', 'mid', 'mss', 'isn', 'nxt', 'ipid', 'ts',
                 'sport', 'dport', 'src', 'dst', 'smac', 'dmac', 'md5', 'length', 'name')

    def __init__(self, rng, src, dst, sport, dport, smac, dmac):
        self.v6 = len(src) == 16
        self.src, self.dst, self.sport, self.dport = src, dst, sport, dport
        self.smac, self.dmac = smac, dmac
        ports = struct.pack('!HH', sport, dport)
        if self.v6:
            self.pre = dmac + smac + b'\x86\xdd' + b'\x60\x00\x00\x00'
            self.mid = b'\x06\x40' + src + dst + ports
            self.mss = MSS6
        else:
            self.pre = dmac + smac + b'\x08\x00' + b'\x45\x00'
            self.mid = b'\x40\x00\x40\x06\x00\x00' + src + dst + ports
            self.mss = MSS4
        self.isn = rng.getrandbits(32)
        self.nxt = (self.isn + 1) & 0xffffffff      # after the SYN
        self.ipid = rng.getrandbits(16)
        self.ts = rng.getrandbits(31)
        self.md5 = hashlib.md5()
        self.length = 0
        if self.v6:
            a = ipaddress.IPv6Address(src).compressed
            b = ipaddress.IPv6Address(dst).compressed
        else:
            a = '%03d.%03d.%03d.%03d' % tuple(src)
            b = '%03d.%03d.%03d.%03d' % tuple(dst)
        self.name = '%s.%05d-%s.%05d' % (a, sport, b, dport)

    def frame(self, seq, ack, flags, payload=b''):
        self.ts += 1
        if self.v6:
            return HDR6.pack(self.pre, 32 + len(payload), self.mid, seq, ack, 0x80, flags,
                             WIN, 0, 0, TSOPT, self.ts, 0) + payload
        self.ipid = (self.ipid + 1) & 0xffff
        return HDR4.pack(self.pre, 52 + len(payload), self.ipid, self.mid, seq, ack, 0x80,
                         flags, WIN, 0, 0, TSOPT, self.ts, 0) + payload

    def syn(self, flags, ack):
        """SYN or SYN/ACK: MSS, SACK permitted, timestamps, window scale."""
        opts = struct.pack('!BBH', 2, 4, self.mss + 12) + b'\x04\x02' + \
            struct.pack('!BBII', 8, 10, self.ts, 0) + b'\x01\x03\x03\x07'
        tcp = struct.pack('!HHIIBBHHH', self.sport, self.dport, self.isn, ack,
                          (20 + len(opts)) << 2, flags, 64240, 0, 0) + opts
        if self.v6:
            ip = b'\x60\x00\x00\x00' + struct.pack('!HBB', len(tcp), 6, 64) + self.src + self.dst
            eth = self.dmac + self.smac + b'\x86\xdd'
        else:
            self.ipid = (self.ipid + 1) & 0xffff
            ip = struct.pack('!BBHHHBBH', 0x45, 0, 20 + len(tcp), self.ipid, 0x4000, 64, 6, 0) + \
                self.src + self.dst
            eth = self.dmac + self.smac + b'\x08\x00'
        return eth + ip + tcp


class Writer:
    """pcap writer with a packet clock (about 1 Gbit/s plus a small gap)."""

    def __init__(self, path):
        self.f = open(path, 'wb', buffering=8 << 20)
        self.f.write(PCAP_GLOBAL)
        self.t = 1_700_000_000 * 1_000_000
        self.packets = 0
        self.bytes = len(PCAP_GLOBAL)

    def emit(self, frames):
        w = self.f.write
        t = self.t
        nb = 0
        for fr in frames:
            n = len(fr)
            t += 2 + (n >> 7)
            w(PCAP_REC.pack(t // 1_000_000, t % 1_000_000, n, n))
            w(fr)
            nb += n
        self.t = t
        self.packets += len(frames)
        self.bytes += nb + 16 * len(frames)

    def close(self):
        self.f.close()


def send(rng, tx, rx, data):
    """Yield bursts of frames carrying one message from tx to rx.

    Segments are reordered and duplicated inside the message; rx ACKs every
    second data frame.  Updates tx.nxt, the expected-stream hash and length.
    """
    tx.md5.update(data)
    n = len(data)
    tx.length += n
    mss = tx.mss
    mv = memoryview(data)
    base = tx.nxt
    ack = rx.nxt
    nseg = (n + mss - 1) // mss
    order = list(range(nseg))
    rnd = rng.random
    if nseg > 1:
        for i in range(nseg - 1):
            if rnd() < P_REORDER:
                j = i + rng.randint(1, min(3, nseg - 1 - i))
                order[i], order[j] = order[j], order[i]
    out = []
    pend = []
    for p, idx in enumerate(order):
        out.append(idx)
        if rnd() < P_DUP:
            pend.append((p + rng.randint(1, 4), idx))
            pend.sort()
        while pend and pend[0][0] <= p:
            out.append(pend.pop(0)[1])
    out.extend(i for _, i in pend)
    last = nseg - 1
    hi = base
    burst = []
    dups = None
    if len(out) > nseg:             # segments sent twice: build each frame once
        dups = {}
        seen = set()
        for i in out:
            if i in seen:
                dups[i] = None
            seen.add(i)
    for k, idx in enumerate(out):
        off = idx * mss
        if dups is not None and idx in dups:
            fr = dups[idx]
            if fr is None:      # first copy; the retransmission repeats it exactly
                seq = (base + off) & 0xffffffff
                fr = dups[idx] = tx.frame(seq, ack, ACK | PSH if idx == last else ACK,
                                          mv[off:off + mss])
            burst.append(fr)
        else:
            seq = (base + off) & 0xffffffff
            burst.append(tx.frame(seq, ack, ACK | PSH if idx == last else ACK,
                                  mv[off:off + mss]))
        end = (base + min(off + mss, n)) & 0xffffffff
        if ((end - hi) & 0xffffffff) < 0x80000000:
            hi = end
        if k & 1:
            burst.append(rx.frame(ack, hi, ACK))
            yield burst
            burst = []
    if burst:
        burst.append(rx.frame(ack, hi, ACK))
        yield burst
    tx.nxt = (base + n) & 0xffffffff


class Ctx:
    def __init__(self, rng, pools):
        self.rng = rng
        self.pools = pools
        self.flows = []     # (md5, length, name)
        self.bodies = []    # (md5, length)

    def body(self, data):
        self.bodies.append((hashlib.md5(data).hexdigest(), len(data)))


def conn(ctx, c, s, txns):
    """A whole connection: handshake, (request, response) pairs, FIN.

    The first burst holds the handshake and the first request."""
    rng = ctx.rng
    hs = [c.syn(SYN, 0), s.syn(SYN | ACK, c.nxt), c.frame(c.nxt, s.nxt, ACK)]
    for req, resp in txns:
        for b in send(rng, c, s, req):
            if hs:
                b = hs + b
                hs = None
            yield b
        yield from send(rng, s, c, resp)
    # server closes, client closes, server acks
    fin = [s.frame(s.nxt, c.nxt, FIN | ACK)]
    s.nxt = (s.nxt + 1) & 0xffffffff
    fin.append(c.frame(c.nxt, s.nxt, FIN | ACK))
    c.nxt = (c.nxt + 1) & 0xffffffff
    fin.append(s.frame(s.nxt, c.nxt, ACK))
    yield fin
    for d in (c, s):
        ctx.flows.append((d.md5.hexdigest(), d.length, d.name))


def schedule(rng, w, conns, concurrency, prime=False):
    """Interleave connection generators, `concurrency` open at a time.

    prime: emit each connection's first burst (handshake + first request)
    when it is opened, so that with concurrency == all every connection is
    open before any response is sent."""
    active = []
    more = True
    emit = w.emit
    rr = rng.randrange
    while True:
        while more and len(active) < concurrency:
            g = next(conns, None)
            if g is None:
                more = False
                break
            if prime:
                emit(next(g))
            active.append(g)
        if not active:
            break
        i = rr(len(active))
        b = next(active[i], None)
        if b is None:
            active[i] = active[-1]
            active.pop()
        else:
            emit(b)


# --------------------------------------------------------------------------
# HTTP messages

AGENTS = [b'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
          b'curl/8.5.0',
          b'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
          b'Chrome/120.0.0.0 Safari/537.36']


def request(rng, host, i):
    path = b'/static/%d/%08x.html' % (i, rng.getrandbits(32))
    return (b'GET ' + path + b' HTTP/1.1\r\nHost: ' + host + b'\r\nUser-Agent: ' +
            rng.choice(AGENTS) + b'\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n'
            b'Connection: keep-alive\r\n\r\n')


def resp_head(ctype, extra, clen=None):
    h = (b'HTTP/1.1 200 OK\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\nServer: nginx/1.24.0\r\n'
         b'Content-Type: ' + ctype + b'\r\n' + extra)
    if clen is not None:
        h += b'Content-Length: %d\r\n' % clen
    return h + b'\r\n'


def chunked(rng, body):
    parts = []
    off = 0
    n = len(body)
    while off < n:
        k = min(n - off, rng.choice((1024, 4096, 8192, 16384)) + rng.randrange(512))
        parts.append(b'%x\r\n' % k)
        parts.append(body[off:off + k])
        parts.append(b'\r\n')
        off += k
    parts.append(b'0\r\n\r\n')
    return b''.join(parts)


def response(ctx, size, kind):
    """kind: plain | text | chunked | gzip | gzip-chunked"""
    rng, pools = ctx.rng, ctx.pools
    if kind.startswith('gzip'):
        raw, gz = rng.choice(pools.gz)
        ctx.body(raw)
        if kind == 'gzip':
            return resp_head(b'text/html; charset=utf-8', b'Content-Encoding: gzip\r\n', len(gz)) + gz
        return resp_head(b'text/html; charset=utf-8',
                         b'Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n') + chunked(rng, gz)
    text = kind != 'plain' or rng.random() < 0.25
    body = pools.slice(rng, size, text=text)
    ctx.body(body)
    ctype = b'text/html; charset=utf-8' if text else b'application/octet-stream'
    if kind == 'chunked':
        return resp_head(ctype, b'Transfer-Encoding: chunked\r\n') + chunked(rng, body)
    return resp_head(ctype, b'', len(body)) + body


# --------------------------------------------------------------------------
# addresses

def client_addr(idx, v6=False):
    """Unique (address, port) per connection index."""
    if v6:
        return (ipaddress.IPv6Address('2001:db8:1::').packed[:8] +
                struct.pack('!Q', 0x1000 + idx // 8), 1024 + (idx % 8) * 8000 + idx % 7919)
    host = 0x0a000001 + idx // 8
    port = 1024 + (idx % 8) * 8000 + (idx * 7919) % 8000
    return struct.pack('!I', host), port


def server_addr(rng, v6=False):
    k = rng.randrange(40)
    if v6:
        return ipaddress.IPv6Address('2001:db8:ffff::%x' % (0x100 + k)).packed
    return bytes((172, 16, 1 + k // 8, 10 + k))


def make_pair(rng, idx, v6=False):
    caddr, cport = client_addr(idx, v6)
    saddr = server_addr(rng, v6)
    cmac = b'\x02\x00' + struct.pack('!I', idx)
    c = Dir(rng, caddr, saddr, cport, 80, cmac, ROUTER_MAC)
    s = Dir(rng, saddr, caddr, 80, cport, ROUTER_MAC, cmac)
    host = (b'[%s]' % ipaddress.IPv6Address(saddr).compressed.encode()) if v6 else \
        ('%d.%d.%d.%d' % tuple(saddr)).encode()
    return c, s, host


# --------------------------------------------------------------------------
# workloads

def gen_bulk(ctx, w, target_mb):
    rng = ctx.rng
    target = target_mb << 20
    avg = max(256 << 10, target // 128)

    def conns():
        total = 0
        idx = 0
        while total < target:
            v6 = idx % 8 == 7
            c, s, host = make_pair(rng, idx, v6)
            size = min(int(avg * rng.uniform(0.5, 1.5)), target - total + 4096)
            total += size
            resp = response(ctx, size, 'plain')
            yield conn(ctx, c, s, [(request(rng, host, idx), resp)])
            idx += 1

    schedule(rng, w, conns(), 64)


def gen_keepalive(ctx, w, target_mb, nconn=200):
    rng = ctx.rng
    per_conn = (target_mb << 20) // nconn

    def txns(host, idx):
        total = 0
        i = 0
        while total < per_conn:
            r = rng.random()
            kind = 'gzip' if r < 0.2 else 'gzip-chunked' if r < 0.3 else \
                'chunked' if r < 0.55 else 'plain'
            size = int(2 ** rng.uniform(9, 17))         # 512 B .. 128 KB
            resp = response(ctx, size, kind)
            total += len(resp)
            yield request(rng, host, i), resp
            i += 1

    def conns():
        for idx in range(nconn):
            c, s, host = make_pair(rng, idx)
            yield conn(ctx, c, s, txns(host, idx))

    schedule(rng, w, conns(), nconn)


def gen_short(ctx, w, nconn):
    rng = ctx.rng

    def conns():
        for idx in range(nconn):
            c, s, host = make_pair(rng, idx)
            r = rng.random()
            kind = 'gzip' if r < 0.1 else 'chunked' if r < 0.2 else 'plain'
            resp = response(ctx, rng.randint(1024, 6144), kind)
            yield conn(ctx, c, s, [(request(rng, host, idx), resp)])

    schedule(rng, w, conns(), 32)


def gen_concurrent(ctx, w, nconn):
    rng = ctx.rng

    def conns():
        for idx in range(nconn):
            c, s, host = make_pair(rng, idx)
            resp = response(ctx, rng.randint(200, 2000), 'plain')
            yield conn(ctx, c, s, [(request(rng, host, idx), resp)])

    schedule(rng, w, conns(), nconn, prime=True)


WORKLOADS = ('bulk', 'keepalive', 'short', 'concurrent')


def generate(name, args, outdir):
    seed = args.seed * 1000 + WORKLOADS.index(name)
    rng = random.Random(seed)
    t0 = time.time()
    pools = Pools(rng)
    ctx = Ctx(rng, pools)
    path = os.path.join(outdir, name + '.pcap')
    tmp = path + '.tmp'
    w = Writer(tmp)
    if name == 'bulk':
        gen_bulk(ctx, w, int(args.bulk_mb * args.scale))
    elif name == 'keepalive':
        gen_keepalive(ctx, w, int(args.keepalive_mb * args.scale))
    elif name == 'short':
        gen_short(ctx, w, int(args.short_conns * args.scale))
    else:
        gen_concurrent(ctx, w, int(args.concurrent_conns * args.scale))
    w.close()
    with open(os.path.join(outdir, name + '.flows'), 'w') as f:
        for md5, n, fname in sorted(ctx.flows, key=lambda x: x[2]):
            f.write('%s %d %s\n' % (md5, n, fname))
    with open(os.path.join(outdir, name + '.bodies'), 'w') as f:
        for md5, n in sorted(ctx.bodies):
            f.write('%s %d\n' % (md5, n))
    os.replace(tmp, path)
    dt = time.time() - t0
    print('%-10s %8.1f MB %9d packets %7d connections %7d bodies  %6.1f s  %s' %
          (name, w.bytes / 1e6, w.packets, len(ctx.flows) // 2, len(ctx.bodies), dt, path),
          flush=True)
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('workloads', nargs='*', default=list(WORKLOADS),
                    help='which workloads (default: all): ' + ' '.join(WORKLOADS))
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('-o', '--outdir', default=os.path.join(here, 'work'),
                    help='output directory (default: bench/work)')
    ap.add_argument('--seed', type=int, default=1, help='random seed (default 1)')
    ap.add_argument('--scale', type=float, default=1.0,
                    help='multiply every size below (e.g. 0.1 for a quick smoke test)')
    ap.add_argument('--bulk-mb', type=float, default=256, help='bulk payload MB (default 256)')
    ap.add_argument('--keepalive-mb', type=float, default=200,
                    help='keepalive payload MB (default 200)')
    ap.add_argument('--short-conns', type=float, default=40000,
                    help='short: connections (default 40000)')
    ap.add_argument('--concurrent-conns', type=float, default=200000,
                    help='concurrent: connections (default 200000)')
    ap.add_argument('-f', '--force', action='store_true',
                    help='regenerate even if the pcap exists')
    args = ap.parse_args()
    for name in args.workloads:
        if name not in WORKLOADS:
            ap.error('unknown workload %r' % name)
    os.makedirs(args.outdir, exist_ok=True)
    for name in args.workloads:
        path = os.path.join(args.outdir, name + '.pcap')
        if os.path.exists(path) and os.path.exists(os.path.join(args.outdir, name + '.flows')) \
                and not args.force:
            print('%-10s exists: %s (use -f to regenerate)' % (name, path))
            continue
        generate(name, args, args.outdir)


if __name__ == '__main__':
    sys.exit(main())
