#!/usr/bin/python3
"""Generate the small test captures in tests/data/ and their expectations.

Run with Debian's python3 (python3-scapy):

    /usr/bin/python3 tests/gen_captures.py [OUTDIR]     # default: tests/data

Everything is deterministic (fixed timestamps, seeded random payloads, no
wall-clock or host data), so running it again gives byte-identical files.

For every case NAME it writes the capture (NAME.pcap, NAME.pcapng or
NAME.pcap.gz) and NAME.expect. The expectation is computed here, from the
application bytes the generator put into each direction, never from any
tcpflow output. Format of NAME.expect (one record per line, '#' comments):

    capture FILE...                   capture file name(s), relative to tests/data;
                                      several: give each with -r, in this order
    flow NAME MD5 LENGTH              a flow file NAME (SPEC section 4 default
                                      template) must exist with this MD5 and size
    gap NAME OFFSET LENGTH            a hole in flow NAME that is never filled
                                      (zeros in the file, a gap in the report)
    warn                              tcpflow must print a warning on stderr
                                      naming the capture (truncated input) and
                                      still exit 0
    mtime SECONDS                     every flow file's modification time, in
                                      whole seconds (the flow's first packet
                                      time; every case lasts less than 1 s)
    wifi-...                          what the wifi-stats scanner must report
                                      (case wifi_stats; tests/data/README.md)

The flows listed are all the flow files the capture can produce: a run must
create these and no others (apart from report.xml).

Scapy builds the IP/TCP headers (with checksums); the pcap and pcapng
containers and the link-layer headers are written here with struct.
"""

import gzip
import hashlib
import io
import ipaddress
import os
import random
import struct
import sys
import zlib

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

C, S = 0, 1           # client, server
BASE_TS = 1700000000  # 2023-11-14T22:13:20Z; every case starts here
MSS = 1460

# DLT / LINKTYPE numbers
DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_LINUX_SLL2 = 0, 1, 101, 113, 276


# --------------------------------------------------------------------------
# TCP connection model
# --------------------------------------------------------------------------

class Pkt:
    """One TCP segment, before link framing."""

    def __init__(self, conn, d, seq, ack, flags, payload=b"", ip_len_zero=False):
        self.conn, self.d, self.seq, self.ack = conn, d, seq, ack
        self.flags, self.payload = flags, payload
        self.ip_len_zero = ip_len_zero

    def ip_bytes(self, ipid):
        c = self.conn
        (sa, sp), (da, dp) = c.ep[self.d], c.ep[1 - self.d]
        opts = [("MSS", MSS)] if "S" in self.flags else []
        tcp = TCP(sport=sp, dport=dp, seq=self.seq % 2**32,
                  ack=(self.ack % 2**32) if "A" in self.flags else 0,
                  flags=self.flags, window=64240, options=opts)
        if self.payload:
            tcp = tcp / Raw(self.payload)
        if c.v6:
            ip = IPv6(src=sa, dst=da, hlim=64, fl=0) / tcp
        else:
            ip = IP(src=sa, dst=da, id=ipid, ttl=64, flags="DF") / tcp
        b = bytes(ip)
        if self.ip_len_zero:
            # as captured before segmentation offload: total length 0, header
            # checksum recomputed, TCP checksum correct for the whole segment
            hdr = bytearray(b[:20])
            hdr[2:4] = b"\x00\x00"
            hdr[10:12] = b"\x00\x00"
            hdr[10:12] = struct.pack(">H", inet_cksum(bytes(hdr)))
            b = bytes(hdr) + b[20:]
        return b


def inet_cksum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def fmt_addr(a):
    ip = ipaddress.ip_address(a)
    if ip.version == 4:
        return ".".join("%03d" % int(o) for o in a.split("."))
    return str(ip)


class Conn:
    """Both directions of one TCP connection; tracks sequence numbers."""

    def __init__(self, cli, sport, srv, dport, isn_c, isn_s, vlan=None, counter=0):
        self.v6 = ipaddress.ip_address(cli).version == 6
        self.ep = {C: (cli, sport), S: (srv, dport)}
        self.isn = {C: isn_c, S: isn_s}
        self.nxt = {C: isn_c, S: isn_s}
        self.vlan = vlan
        self.counter = counter
        self.data = {C: bytearray(), S: bytearray()}   # app bytes sent, in order

    def name(self, d):
        (sa, sp), (da, dp) = self.ep[d], self.ep[1 - d]
        n = "%s.%05d-%s.%05d" % (fmt_addr(sa), sp, fmt_addr(da), dp)
        if self.vlan is not None:
            n += "--%d" % self.vlan
        if self.counter:
            n += "c%04d" % self.counter
        return n

    def pkt(self, d, flags, payload=b"", seq=None, **kw):
        if seq is None:
            seq = self.nxt[d]
        return Pkt(self, d, seq, self.nxt[1 - d], flags, payload, **kw)

    def handshake(self):
        p1 = self.pkt(C, "S"); self.nxt[C] += 1
        p2 = self.pkt(S, "SA"); self.nxt[S] += 1
        p3 = self.pkt(C, "A")
        return [p1, p2, p3]

    def segments(self, d, data, rng, sizes=None):
        """Cut data into segments of varied sizes (not yet acked).
        Returns the list of data Pkts; advances the sequence number."""
        out = []
        pos = 0
        i = 0
        while pos < len(data):
            if sizes is not None and i < len(sizes):
                n = sizes[i]
            else:
                n = rng.choice([1, 3, 17, 100, 333, 536, 1000, 1200, 1448, MSS, MSS, MSS])
            n = min(n, len(data) - pos)
            chunk = bytes(data[pos:pos + n])
            out.append(self.pkt(d, "PA", chunk))
            self.nxt[d] += n
            self.data[d] += chunk
            pos += n
            i += 1
        return out

    def send(self, d, data, rng, sizes=None):
        """Segments of data, the receiver acking every second one."""
        out = []
        for k, p in enumerate(self.segments(d, data, rng, sizes)):
            out.append(p)
            if k % 2 == 1:
                # the receiver acks what it got so far
                out.append(Pkt(self, 1 - d, self.nxt[1 - d], p.seq + len(p.payload), "A"))
        out.append(self.ack(1 - d))
        return out

    def ack(self, d):
        return self.pkt(d, "A")

    def close(self, first=S):
        p1 = self.pkt(first, "FA"); self.nxt[first] += 1
        p2 = self.pkt(1 - first, "FA"); self.nxt[1 - first] += 1
        p3 = self.pkt(first, "A")
        return [p1, p2, p3]


# --------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------

def http_request(rng, host, path, extra=0):
    cookie = "".join(rng.choice("0123456789abcdef") for _ in range(extra))
    lines = [
        "GET %s HTTP/1.1" % path,
        "Host: %s" % host,
        "User-Agent: tcpflow-test/1.0",
        "Accept: */*",
        "Connection: keep-alive",
    ]
    if extra:
        lines.append("Cookie: session=%s" % cookie)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def http_response(rng, size, ctype="application/octet-stream"):
    body = bytes(rng.getrandbits(8) for _ in range(size))
    head = ("HTTP/1.1 200 OK\r\n"
            "Server: gen_captures\r\n"
            "Content-Type: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (ctype, size)).encode()
    return head + body


def http_exchange(c, rng, path, req_extra, resp_size):
    """Request then response on an open connection; returns packets."""
    host = c.ep[S][0]
    pk = c.send(C, http_request(rng, host, path, req_extra), rng)
    pk += c.send(S, http_response(rng, resp_size), rng)
    return pk


def simple_http_conn(rng, cli, sport, srv, dport, isn_c, isn_s, req_extra=1500,
                     resp_size=6000, vlan=None, sizes_c=None, sizes_s=None):
    c = Conn(cli, sport, srv, dport, isn_c, isn_s, vlan=vlan)
    pk = c.handshake()
    host = srv
    pk += c.send(C, http_request(rng, host, "/file.bin", req_extra), rng, sizes_c)
    pk += c.send(S, http_response(rng, resp_size), rng, sizes_s)
    pk += c.close()
    return c, pk


# --------------------------------------------------------------------------
# Link framing
# --------------------------------------------------------------------------

MAC = {C: bytes.fromhex("020000000001"), S: bytes.fromhex("020000000002")}


def ethertype(ipb):
    return 0x86DD if (ipb[0] >> 4) == 6 else 0x0800


def frame_ether(p, ipb, pad=False, tags=()):
    """Ethernet II; tags = [(tpid, tci), ...] outermost first."""
    dst, src = MAC[1 - p.d], MAC[p.d]
    hdr = dst + src
    for tpid, tci in tags:
        hdr += struct.pack(">HH", tpid, tci)
    hdr += struct.pack(">H", ethertype(ipb))
    f = hdr + ipb
    if pad and len(f) < 60:
        f += b"\x00" * (60 - len(f))
    return f


def frame_sll(p, ipb):
    # packet type: 0 = to us (server->client as seen on the client), 4 = outgoing
    ptype = 4 if p.d == C else 0
    return struct.pack(">HHH", ptype, 1, 6) + MAC[p.d] + b"\x00\x00" + \
        struct.pack(">H", ethertype(ipb)) + ipb


def frame_sll2(p, ipb):
    ptype = 4 if p.d == C else 0
    return struct.pack(">HHIHBB", ethertype(ipb), 0, 2, 1, ptype, 6) + \
        MAC[p.d] + b"\x00\x00" + ipb


def frame_null(p, ipb):
    af = 30 if (ipb[0] >> 4) == 6 else 2   # BSD AF_INET6 (macOS) / AF_INET
    return struct.pack("<I", af) + ipb


def frame_raw(p, ipb):
    return ipb


# --------------------------------------------------------------------------
# Capture containers
# --------------------------------------------------------------------------

def timestamps(n, step_us=700):
    """Deterministic, strictly increasing (sec, usec)."""
    out = []
    for i in range(n):
        t = i * step_us + (i * 37) % 250
        out.append((BASE_TS + t // 1000000, t % 1000000))
    assert not out or out[-1][0] == BASE_TS, "a case must last less than 1 s (mtime)"
    return out


def build_frames(pkts, framer):
    frames = []
    for i, p in enumerate(pkts):
        frames.append(framer(p, p.ip_bytes(0x1000 + i)))
    return frames


def pcap_bytes(frames, linktype, snaplen=262144):
    out = io.BytesIO()
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
    offsets = []
    for (sec, usec), f in zip(timestamps(len(frames)), frames):
        offsets.append(out.tell())
        out.write(struct.pack("<IIII", sec, usec, len(f), len(f)))
        out.write(f)
    return out.getvalue(), offsets


def _pad4(b):
    return b + b"\x00" * ((4 - len(b) % 4) % 4)


def _opt(code, val):
    return struct.pack("<HH", code, len(val)) + _pad4(val)


def _block(btype, body):
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def pcapng_bytes(frames_by_if, linktypes, comment=None):
    """frames_by_if: list of (ifindex, frame) in capture order."""
    opts = b""
    if comment:
        opts += _opt(1, comment.encode())
    opts += _opt(4, b"tests/gen_captures.py") + _opt(0, b"")  # shb_userappl, end
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opts
    out = _block(0x0A0D0D0A, shb)
    for i, lt in enumerate(linktypes):
        ifopts = _opt(2, ("if%d" % i).encode()) + _opt(9, b"\x06") + _opt(0, b"")
        out += _block(1, struct.pack("<HHI", lt, 0, 262144) + ifopts)
    for (sec, usec), (ifi, f) in zip(timestamps(len(frames_by_if)), frames_by_if):
        ts = sec * 1000000 + usec
        body = struct.pack("<IIIII", ifi, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f))
        out += _block(6, body + _pad4(f))
    return out


# --------------------------------------------------------------------------
# Expectations
# --------------------------------------------------------------------------

class Expect:
    def __init__(self, case, capture, comment):
        self.case, self.capture, self.comment = case, capture, comment
        self.flows = {}   # name -> bytes
        self.gaps = []    # (name, off, len)
        self.warn = False

    def flow(self, name, data):
        assert name not in self.flows, name
        self.flows[name] = bytes(data)

    def conn(self, c):
        """Both directions of c, as sent (only non-empty directions)."""
        for d in (C, S):
            if c.data[d]:
                self.flow(c.name(d), c.data[d])

    def text(self):
        lines = ["# tests/gen_captures.py case %s: %s" % (self.case, self.comment),
                 "# flow NAME MD5 LENGTH / gap NAME OFFSET LENGTH (see gen_captures.py)",
                 "capture %s" % self.capture]
        if self.warn:
            lines.append("warn")
        lines.append("mtime %d" % BASE_TS)
        for name in sorted(self.flows):
            d = self.flows[name]
            lines.append("flow %s %s %d" % (name, hashlib.md5(d).hexdigest(), len(d)))
        for name, off, ln in sorted(self.gaps):
            lines.append("gap %s %d %d" % (name, off, ln))
        return "\n".join(lines) + "\n"


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def write(outdir, name, blob, exp):
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(blob)
    with open(os.path.join(outdir, exp.case + ".expect"), "w") as f:
        f.write(exp.text())


# Addresses (documentation ranges)
V4C, V4S = "192.168.1.2", "10.0.0.1"
V6C, V6S = "2001:db8::1", "2001:db8::2"


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------

def ipv4_http_pcap(rng):
    # tiny segments first so that data frames, and all pure ACKs, are < 60 bytes
    c, pk = simple_http_conn(rng, V4C, 1234, V4S, 80, 1000000, 2000000,
                             req_extra=1800, resp_size=9000,
                             sizes_c=[1, 2, 3, 5, 600], sizes_s=[4, 1, 1448, 2, 3])
    frames = build_frames(pk, lambda p, b: frame_ether(p, b, pad=True))
    assert any(len(f) == 60 for f in frames)
    return c, pcap_bytes(frames, DLT_EN10MB)[0]


@case
def ipv4_http(outdir):
    rng = random.Random(1)
    c, blob = ipv4_http_pcap(rng)
    e = Expect("ipv4-http", "ipv4-http.pcap",
               "HTTP/1.1 download over IPv4 Ethernet, short frames padded to 60 bytes")
    e.conn(c)
    write(outdir, "ipv4-http.pcap", blob, e)


@case
def gz(outdir):
    rng = random.Random(1)
    c, blob = ipv4_http_pcap(rng)
    bio = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=bio, mtime=0, compresslevel=9) as g:
        g.write(blob)
    e = Expect("gz", "gz.pcap.gz", "ipv4-http gzip-compressed (.pcap.gz)")
    e.conn(c)
    write(outdir, "gz.pcap.gz", bio.getvalue(), e)


@case
def ipv6_http(outdir):
    rng = random.Random(2)
    c, pk = simple_http_conn(rng, V6C, 1234, V6S, 80, 3000000, 4000000,
                             req_extra=1700, resp_size=9000)
    e = Expect("ipv6-http", "ipv6-http.pcap", "HTTP/1.1 download over IPv6 Ethernet")
    e.conn(c)
    write(outdir, "ipv6-http.pcap",
          pcap_bytes(build_frames(pk, frame_ether), DLT_EN10MB)[0], e)


@case
def keepalive(outdir):
    rng = random.Random(3)
    c = Conn(V4C, 40000, V4S, 8080, 123456, 654321)
    pk = c.handshake()
    for i, size in enumerate([3000, 17, 5000, 1460, 2920, 0, 4000]):
        pk += http_exchange(c, rng, "/obj%d" % i, 200 + 100 * i, size)
    pk += c.close(first=C)
    e = Expect("keepalive", "keepalive.pcap",
               "7 HTTP/1.1 request/response pairs on one connection")
    e.conn(c)
    write(outdir, "keepalive.pcap",
          pcap_bytes(build_frames(pk, frame_ether), DLT_EN10MB)[0], e)


@case
def many_short(outdir):
    rng = random.Random(4)
    e = Expect("many-short", "many-short.pcap",
               "50 short HTTP connections from different client ports")
    pk = []
    for i in range(50):
        c = Conn("172.16.5.%d" % (10 + i % 3), 50000 + 7 * i, "172.16.0.1", 80,
                 rng.getrandbits(32), rng.getrandbits(32))
        pk += c.handshake()
        pk += c.send(C, ("GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i).encode(), rng)
        pk += c.send(S, http_response(rng, 20 + 13 * i), rng)
        pk += c.close()
        e.conn(c)
    write(outdir, "many-short.pcap",
          pcap_bytes(build_frames(pk, frame_ether), DLT_EN10MB)[0], e)


@case
def vlan(outdir):
    rng = random.Random(5)
    c, pk = simple_http_conn(rng, V4C, 2345, V4S, 80, 11111, 22222,
                             req_extra=1200, resp_size=5000, vlan=100)
    tci = (5 << 13) | 100       # priority 5, VID 100
    e = Expect("vlan", "vlan.pcap", "one 802.1Q tag, VID 100 with priority 5")
    e.conn(c)
    write(outdir, "vlan.pcap",
          pcap_bytes(build_frames(pk, lambda p, b: frame_ether(p, b, tags=[(0x8100, tci)])),
                     DLT_EN10MB)[0], e)


@case
def qinq(outdir):
    rng = random.Random(6)
    c, pk = simple_http_conn(rng, V4C, 3456, V4S, 80, 33333, 44444,
                             req_extra=1200, resp_size=5000, vlan=300)
    tags = [(0x88A8, (3 << 13) | 200), (0x8100, (1 << 13) | 300)]
    e = Expect("qinq", "qinq.pcap",
               "802.1ad outer tag VID 200 + 802.1Q inner tag VID 300 (name uses 300)")
    e.conn(c)
    write(outdir, "qinq.pcap",
          pcap_bytes(build_frames(pk, lambda p, b: frame_ether(p, b, tags=tags)),
                     DLT_EN10MB)[0], e)


def two_family_conns(rng, isn_base):
    c4, pk4 = simple_http_conn(rng, V4C, 4444, V4S, 80, isn_base, isn_base + 100000,
                               req_extra=900, resp_size=4000)
    c6, pk6 = simple_http_conn(rng, V6C, 6666, V6S, 443, isn_base + 200000,
                               isn_base + 300000, req_extra=700, resp_size=3500)
    return [c4, c6], pk4 + pk6


@case
def sll(outdir):
    rng = random.Random(7)
    c, pk = simple_http_conn(rng, V4C, 5555, V4S, 80, 5, 7, req_extra=1000, resp_size=6000)
    e = Expect("sll", "sll.pcap", "Linux cooked v1 (DLT 113), IPv4 HTTP")
    e.conn(c)
    write(outdir, "sll.pcap", pcap_bytes(build_frames(pk, frame_sll), DLT_LINUX_SLL)[0], e)


@case
def sll2(outdir):
    rng = random.Random(8)
    conns, pk = two_family_conns(rng, 70000)
    e = Expect("sll2", "sll2.pcap",
               "Linux cooked v2 (DLT 276), one IPv4 and one IPv6 HTTP connection")
    for c in conns:
        e.conn(c)
    write(outdir, "sll2.pcap", pcap_bytes(build_frames(pk, frame_sll2), DLT_LINUX_SLL2)[0], e)


@case
def rawip(outdir):
    rng = random.Random(9)
    conns, pk = two_family_conns(rng, 90000)
    e = Expect("rawip", "rawip.pcap", "raw IP (DLT 101), one IPv4 and one IPv6 connection")
    for c in conns:
        e.conn(c)
    write(outdir, "rawip.pcap", pcap_bytes(build_frames(pk, frame_raw), DLT_RAW)[0], e)


@case
def null(outdir):
    rng = random.Random(10)
    conns, pk = two_family_conns(rng, 110000)
    e = Expect("null", "null.pcap",
               "BSD loopback (DLT 0), little-endian AF 2 (IPv4) and AF 30 (IPv6)")
    for c in conns:
        e.conn(c)
    write(outdir, "null.pcap", pcap_bytes(build_frames(pk, frame_null), DLT_NULL)[0], e)


@case
def pcapng(outdir):
    rng = random.Random(11)
    c, pk = simple_http_conn(rng, V4C, 7777, V4S, 80, 77, 88, req_extra=1100, resp_size=7000)
    frames = build_frames(pk, frame_ether)
    e = Expect("pcapng", "pcapng.pcapng", "pcapng, one Ethernet interface")
    e.conn(c)
    write(outdir, "pcapng.pcapng",
          pcapng_bytes([(0, f) for f in frames], [DLT_EN10MB],
                       comment="tcpflow test capture"), e)


@case
def pcapng_multi(outdir):
    rng = random.Random(12)
    c1, pk1 = simple_http_conn(rng, V4C, 8888, V4S, 80, 1, 2, req_extra=900, resp_size=5000)
    c2, pk2 = simple_http_conn(rng, "10.9.9.9", 9999, "10.8.8.8", 80, 3, 4,
                               req_extra=800, resp_size=4500)
    f1 = [(0, f) for f in build_frames(pk1, frame_ether)]
    f2 = [(1, f) for f in build_frames(pk2, frame_raw)]
    # interleave the two connections
    merged = []
    for i in range(max(len(f1), len(f2))):
        if i < len(f1):
            merged.append(f1[i])
        if i < len(f2):
            merged.append(f2[i])
    e = Expect("pcapng-multi", "pcapng-multi.pcapng",
               "pcapng, interface 0 Ethernet + interface 1 raw IP (DLT 101), one connection each")
    e.conn(c1)
    e.conn(c2)
    write(outdir, "pcapng-multi.pcapng", pcapng_bytes(merged, [DLT_EN10MB, DLT_RAW]), e)


def ether_case(outdir, name, pk, e):
    write(outdir, name + ".pcap", pcap_bytes(build_frames(pk, frame_ether), DLT_EN10MB)[0], e)


@case
def reorder(outdir):
    rng = random.Random(13)
    c = Conn(V4C, 1111, V4S, 80, 500, 600)
    pk = c.handshake()
    req = c.segments(C, http_request(rng, V4S, "/reorder", 3000), rng,
                     sizes=[700, 500, 900, 300, 800, 100])
    # client: swap 2nd and 3rd, and deliver the 1st after all others
    req = req[2:3] + req[1:2] + req[3:] + req[0:1]
    pk += req + [c.ack(S)]
    resp = c.segments(S, http_response(rng, 12000), rng,
                      sizes=[1000, 1448, 200, 1460, 1460, 7, 1460, 900, 1460, 1460])
    # server: segment 1 arrives after five later ones; 6 and 7 swapped
    order = [0, 2, 3, 4, 5, 6, 1, 8, 7] + list(range(9, len(resp)))
    pk += [resp[i] for i in order] + [c.ack(C)]
    pk += c.close()
    e = Expect("reorder", "reorder.pcap",
               "segments out of order in both directions, one after five later ones")
    e.conn(c)
    ether_case(outdir, "reorder", pk, e)


@case
def dup(outdir):
    rng = random.Random(14)
    c = Conn(V4C, 2222, V4S, 80, 10, 20)
    pk = c.handshake()
    req = c.segments(C, http_request(rng, V4S, "/dup", 2500), rng, sizes=[600, 600, 600, 900])
    pk += [req[0], req[1], req[1], req[2], req[0], req[3], req[3]] + [c.ack(S)]
    resp = c.segments(S, http_response(rng, 9000), rng,
                      sizes=[1460, 1000, 1460, 500, 1460, 1460, 1460])
    # a repacketized retransmission covering segments 1..2 with identical bytes
    r12 = Pkt(c, S, resp[1].seq, resp[1].ack, "PA", resp[1].payload + resp[2].payload)
    pk += [resp[0], resp[1], resp[2], resp[1], resp[3], r12, resp[4], resp[2]] + resp[5:] + \
          [resp[5], resp[-1], c.ack(C)]
    pk += c.close()
    e = Expect("dup", "dup.pcap", "identical retransmissions (also repacketized)")
    e.conn(c)
    ether_case(outdir, "dup", pk, e)


def flip(b):
    return bytes(x ^ 0x5A for x in b)


@case
def overlap(outdir):
    rng = random.Random(15)
    c = Conn(V4C, 3333, V4S, 80, 4000, 9000)
    pk = c.handshake()
    req = c.segments(C, http_request(rng, V4S, "/overlap", 2000), rng, sizes=[1000, 1000])
    # second copy of the tail of segment 0 + head of segment 1, different bytes
    bogus = Pkt(c, C, req[0].seq + 500, req[0].ack, "PA", flip(req[0].payload[500:] +
                                                               req[1].payload[:300]))
    pk += [req[0], req[1], bogus] + req[2:] + [c.ack(S)]
    body = http_response(rng, 10000)
    resp = c.segments(S, body, rng, sizes=[1000, 1000, 1000, 1000, 1000, 1000])
    # (a) in-order data [0,1000), then a copy of [500,2500) whose bytes differ in
    #     [500,1000) and which is the first copy of [1000,2500) (true bytes there)
    a = Pkt(c, S, resp[0].seq + 500, resp[0].ack, "PA",
            flip(body[500:1000]) + body[1000:2500])
    # (b) out-of-order: [3000,4000) held, a different copy of it, then [2500,3000)
    b = Pkt(c, S, resp[3].seq, resp[3].ack, "PA", flip(resp[3].payload))
    tail_2500 = Pkt(c, S, resp[2].seq + 500, resp[2].ack, "PA", body[2500:3000])
    pk += [resp[0], a, resp[3], b, tail_2500, resp[2], resp[1]] + resp[4:] + [c.ack(C)]
    pk += c.close()
    e = Expect("overlap", "overlap.pcap",
               "retransmissions overlapping with different bytes: the first copy wins")
    e.conn(c)
    ether_case(outdir, "overlap", pk, e)


@case
def gap(outdir):
    rng = random.Random(16)
    c = Conn(V4C, 4321, V4S, 80, 7000, 8000)
    pk = c.handshake()
    pk += c.send(C, http_request(rng, V4S, "/gap", 1500), rng)
    resp = c.segments(S, http_response(rng, 9000), rng,
                      sizes=[1460, 1460, 1000, 1460, 1460, 1460])
    lost = resp[2]
    off = lost.seq - (c.isn[S] + 1)
    pk += [p for p in resp if p is not lost] + [c.ack(C)]
    pk += c.close()
    e = Expect("gap", "gap.pcap",
               "one server segment lost and never retransmitted (zeros + a gap record)")
    data = bytearray(c.data[S])
    data[off:off + len(lost.payload)] = b"\x00" * len(lost.payload)
    e.flow(c.name(C), c.data[C])
    e.flow(c.name(S), data)
    e.gaps.append((c.name(S), off, len(lost.payload)))
    ether_case(outdir, "gap", pk, e)


@case
def midstream(outdir):
    rng = random.Random(17)
    c = Conn(V4C, 5432, V4S, 80, 100000, 200000)
    c.handshake()                          # happened before the capture started
    c.send(C, http_request(rng, V4S, "/one", 300), rng)
    resp1 = c.segments(S, http_response(rng, 12000), rng,
                       sizes=[1460] * 3 + [1000, 700, 1460] + [1460] * 6)
    # capture starts at resp1[5]; resp1[3] and resp1[4] are retransmitted later
    first_seen = 3
    pk = resp1[5:8] + [c.ack(C)] + resp1[8:10] + [resp1[4], resp1[3]] + resp1[10:] + [c.ack(C)]
    c_before = len(c.data[C])
    pk += c.send(C, http_request(rng, V4S, "/two", 900), rng)
    pk += c.send(S, http_response(rng, 3000), rng)
    pk += c.close(first=C)
    s_start = resp1[first_seen].seq - (c.isn[S] + 1)
    e = Expect("midstream", "midstream.pcap",
               "no SYN; capture starts mid-response; earlier segments arrive later")
    e.flow(c.name(C), c.data[C][c_before:])
    e.flow(c.name(S), c.data[S][s_start:])
    ether_case(outdir, "midstream", pk, e)


@case
def reuse(outdir):
    rng = random.Random(18)
    e = Expect("reuse", "reuse.pcap",
               "two connections on one 4-tuple, one after the other (second SYN, new ISN)")
    c1, pk1 = simple_http_conn(rng, V4C, 6543, V4S, 80, 1000, 2000,
                               req_extra=600, resp_size=3000)
    c2, pk2 = simple_http_conn(rng, V4C, 6543, V4S, 80, 3000000000, 4000000000,
                               req_extra=800, resp_size=4000)
    c2.counter = 1
    e.conn(c1)
    e.conn(c2)
    ether_case(outdir, "reuse", pk1 + pk2, e)


@case
def reuse_open(outdir):
    rng = random.Random(19)
    e = Expect("reuse-open", "reuse-open.pcap",
               "a new SYN with a different ISN on a 4-tuple still open (no FIN/RST)")
    c1 = Conn(V4C, 7654, V4S, 80, 1000, 2000)
    pk = c1.handshake()
    pk += http_exchange(c1, rng, "/a", 400, 2500)
    c2, pk2 = simple_http_conn(rng, V4C, 7654, V4S, 80, 50000000, 60000000,
                               req_extra=500, resp_size=3500)
    c2.counter = 1
    e.conn(c1)
    e.conn(c2)
    ether_case(outdir, "reuse-open", pk + pk2, e)


@case
def wrap(outdir):
    rng = random.Random(20)
    # client: SYN takes the last sequence number, data starts at 0
    # server: wraps in the middle of the response
    c, pk = simple_http_conn(rng, V4C, 8765, V4S, 80, 2**32 - 1, 2**32 - 5000,
                             req_extra=2000, resp_size=11000)
    e = Expect("wrap", "wrap.pcap",
               "sequence numbers wrap around 2^32 (client at the SYN, server mid-data)")
    e.conn(c)
    ether_case(outdir, "wrap", pk, e)


@case
def tso(outdir):
    rng = random.Random(21)
    c = Conn(V4C, 9876, V4S, 80, 300, 400)
    pk = c.handshake()
    pk += c.send(C, http_request(rng, V4S, "/tso", 700), rng)
    resp = c.segments(S, http_response(rng, 30000), rng,
                      sizes=[1460, 8000, 1460, 9000, 5000, 1460])
    for p in resp:
        if len(p.payload) > MSS:
            p.ip_len_zero = True        # TSO/GSO: IPv4 total length 0
    pk += resp + [c.ack(C)]
    pk += c.close()
    e = Expect("tso", "tso.pcap",
               "IPv4 total length 0 on large (segmentation offload) packets")
    e.conn(c)
    ether_case(outdir, "tso", pk, e)


@case
def truncated(outdir):
    rng = random.Random(22)
    c = Conn(V4C, 1357, V4S, 80, 1, 2)
    pk = c.handshake()
    pk += c.send(C, http_request(rng, V4S, "/trunc", 1200), rng)
    pk += c.send(S, http_response(rng, 14000), rng, sizes=[1460] * 10)
    pk += c.close()
    frames = build_frames(pk, frame_ether)
    blob, offsets = pcap_bytes(frames, DLT_EN10MB)
    # cut in the middle of the 7th server data segment's record
    sdata = [i for i, p in enumerate(pk) if p.d == S and p.payload]
    cut_i = sdata[6]
    cut = offsets[cut_i] + 16 + 700
    blob = blob[:cut]
    e = Expect("truncated", "truncated.pcap",
               "valid capture cut in the middle of a record (7th server data segment)")
    e.warn = True
    got = {C: bytearray(), S: bytearray()}
    for p in pk[:cut_i]:
        if p.payload:
            off = (p.seq - c.isn[p.d] - 1) % 2**32
            assert off == len(got[p.d])        # in order: a prefix
            got[p.d] += p.payload
    for d in (C, S):
        e.flow(c.name(d), got[d])
    write(outdir, "truncated.pcap", blob, e)


@case
def split(outdir):
    rng = random.Random(23)
    c, pk = simple_http_conn(rng, V4C, 2468, V4S, 80, 424242, 242424,
                             req_extra=1500, resp_size=8000)
    frames = build_frames(pk, frame_ether)
    # cut in the middle of the response: one connection across two files
    cut = [i for i, p in enumerate(pk) if p.d == S and p.payload][3]
    hdr = 24
    blob, offsets = pcap_bytes(frames, DLT_EN10MB)
    part1 = blob[:offsets[cut]]
    part2 = blob[:hdr] + blob[offsets[cut]:]
    e = Expect("split", "split-1.pcap split-2.pcap",
               "one connection split across two files (-r twice, one flow table)")
    e.conn(c)
    with open(os.path.join(outdir, "split-1.pcap"), "wb") as f:
        f.write(part1)
    write(outdir, "split-2.pcap", part2, e)


# --------------------------------------------------------------------------
# Fragments, tunnels, PPP and 802.11 (decapsulation cases)
# --------------------------------------------------------------------------
# The TCP connection is built as everywhere else; only what carries each IP
# packet changes. Flow names come from the inner packet's addresses.

DLT_PPP, DLT_PPP_ETHER, DLT_IEEE802_11, DLT_PRISM, DLT_RADIOTAP = 9, 51, 105, 119, 127
OUT4 = ("203.0.113.1", "203.0.113.2")          # tunnel endpoints (documentation)
OUT6 = ("2001:db8:ffff::1", "2001:db8:ffff::2")


def ether_hdr(d, etype):
    return MAC[1 - d] + MAC[d] + struct.pack(">H", etype)


def ipv4_frag_frames(ipb, pieces, ident):
    """IPv4 fragments of the packet ipb (20-byte header): pieces is a list
    of (offset, length) of its payload, in the order to send."""
    hdr, pl = bytearray(ipb[:20]), ipb[20:]
    out = []
    for off, ln in pieces:
        assert off % 8 == 0
        more = off + ln < len(pl)
        h = bytearray(hdr)
        h[2:4] = struct.pack(">H", 20 + ln)
        h[4:6] = struct.pack(">H", ident)
        h[6:8] = struct.pack(">H", (off // 8) | (0x2000 if more else 0))
        h[10:12] = b"\x00\x00"
        h[10:12] = struct.pack(">H", inet_cksum(bytes(h)))
        out.append(bytes(h) + pl[off:off + ln])
    return out


def ipv6_frag_frames(ipb, pieces, ident, hbh=False):
    """IPv6 fragments of ipb (40-byte header, no extension headers): a
    Fragment header (after a hop-by-hop header when hbh) in each."""
    nh, pl = ipb[6], ipb[40:]
    out = []
    for off, ln in pieces:
        assert off % 8 == 0
        more = off + ln < len(pl)
        ext = b""
        first_nh = 44
        if hbh:
            ext = bytes([44, 0, 1, 4, 0, 0, 0, 0])   # hop-by-hop: PadN
            first_nh = 0
        ext += struct.pack(">BBHI", nh, 0, off | (1 if more else 0), ident)
        body = ext + pl[off:off + ln]
        h = bytearray(ipb[:40])
        h[4:6] = struct.pack(">H", len(body))
        h[6] = first_nh
        out.append(bytes(h) + body)
    return out


def cut_pieces(rng, total, tiny_first=False):
    """Split total payload bytes into pieces at multiples of 8."""
    pieces, off = [], 0
    sizes = [8, 16, 24, 64, 256, 512, 1000]
    while off < total:
        if off == 0 and tiny_first:
            n = rng.choice([8, 16])          # splits the 20-byte TCP header
        else:
            n = rng.choice(sizes)
        n = min(n, total - off)
        pieces.append((off, n))
        off += n
    return pieces


def frag_conn_frames(rng, pk, v6=False, framer=None):
    """Frames of pk where every packet with more than 100 payload bytes is
    fragmented, its fragments sent in a shuffled order (sometimes with one
    fragment twice). Returns the frames."""
    frames = []
    framer = framer or (lambda p, b: frame_ether(p, b))
    for i, p in enumerate(pk):
        ipb = p.ip_bytes(0x2000 + i)
        hl = 40 if v6 else 20
        if len(p.payload) <= 100:
            frames.append(framer(p, ipb))
            continue
        pieces = cut_pieces(rng, len(ipb) - hl, tiny_first=(i % 3 == 0))
        if len(pieces) > 1:
            rng.shuffle(pieces)
            if i % 4 == 1:                       # an identical duplicate, early
                pieces.insert(1, pieces[0])
        if v6:
            fr = ipv6_frag_frames(ipb, pieces, 0x10000 + i, hbh=(i % 2 == 1))
        else:
            fr = ipv4_frag_frames(ipb, pieces, 0x3000 + i)
        frames += [framer(p, b) for b in fr]
    return frames


@case
def ipfrag4(outdir):
    rng = random.Random(101)
    c, pk = simple_http_conn(rng, V4C, 4100, V4S, 80, 41000, 42000,
                             req_extra=1400, resp_size=7000)
    e = Expect("ipfrag4", "ipfrag4.pcap",
               "IPv4 fragments in shuffled order, tiny first fragments splitting the TCP "
               "header, duplicated fragments")
    e.conn(c)
    write(outdir, "ipfrag4.pcap", pcap_bytes(frag_conn_frames(rng, pk), DLT_EN10MB)[0], e)


@case
def ipfrag6(outdir):
    rng = random.Random(102)
    c, pk = simple_http_conn(rng, V6C, 4200, V6S, 80, 43000, 44000,
                             req_extra=1400, resp_size=7000)
    e = Expect("ipfrag6", "ipfrag6.pcap",
               "IPv6 fragments in shuffled order, some after a hop-by-hop header")
    e.conn(c)
    write(outdir, "ipfrag6.pcap",
          pcap_bytes(frag_conn_frames(rng, pk, v6=True), DLT_EN10MB)[0], e)


def mpls_labels(labels):
    out = b""
    for k, lab in enumerate(labels):
        out += struct.pack(">I", (lab << 12) | (0x100 if k == len(labels) - 1 else 0) | 64)
    return out


@case
def mpls(outdir):
    """MPLS over Ethernet: a two-label stack with IPv4 inside, and an
    Ethernet pseudowire (RFC 4448, control word) carrying IPv6."""
    rng = random.Random(103)
    conns, pk = two_family_conns(rng, 130000)

    def framer(p, ipb):
        if (ipb[0] >> 4) == 4:
            return ether_hdr(p.d, 0x8847) + mpls_labels([1000 + p.d, 16]) + ipb
        inner = bytes.fromhex("0050560000aa") + bytes.fromhex("0050560000bb") + \
            struct.pack(">H", 0x86DD)
        return ether_hdr(p.d, 0x8847) + mpls_labels([2000]) + b"\x00\x00\x00\x00" + \
            inner + ipb
    e = Expect("mpls", "mpls.pcap",
               "MPLS label stack (IPv4) and an Ethernet pseudowire with control word (IPv6)")
    for c in conns:
        e.conn(c)
    write(outdir, "mpls.pcap", pcap_bytes(build_frames(pk, framer), DLT_EN10MB)[0], e)


@case
def mpls_sll(outdir):
    rng = random.Random(104)
    c, pk = simple_http_conn(rng, V4C, 4400, V4S, 80, 45000, 46000,
                             req_extra=900, resp_size=5000)

    def framer(p, ipb):
        ptype = 4 if p.d == C else 0
        return struct.pack(">HHH", ptype, 1, 6) + MAC[p.d] + b"\x00\x00" + \
            struct.pack(">H", 0x8847) + mpls_labels([300, 301, 302]) + ipb
    e = Expect("mpls-sll", "mpls-sll.pcap", "Linux cooked v1 (DLT 113) with a 3-label MPLS stack")
    e.conn(c)
    write(outdir, "mpls-sll.pcap", pcap_bytes(build_frames(pk, framer), DLT_LINUX_SLL)[0], e)


def outer_ipv4(proto, payload, ident=0):
    return bytes(IP(src=OUT4[0], dst=OUT4[1], id=ident, ttl=255, proto=proto) / Raw(payload))


def outer_ipv6(nh, payload):
    return bytes(IPv6(src=OUT6[0], dst=OUT6[1], hlim=255, nh=nh, fl=0) / Raw(payload))


def gre_header(ptype, key=None, seq=None, csum=False, body=b""):
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | \
        (0x1000 if seq is not None else 0)
    h = struct.pack(">HH", flags, ptype)
    opt = b""
    if csum:
        opt += b"\x00\x00\x00\x00"
    if key is not None:
        opt += struct.pack(">I", key)
    if seq is not None:
        opt += struct.pack(">I", seq)
    g = bytearray(h + opt + body)
    if csum:
        g[4:6] = struct.pack(">H", inet_cksum(bytes(g)))
    return bytes(g)


@case
def gre(outdir):
    """GRE over IPv4 (key + sequence number) carrying IPv4, GRE with a
    checksum over IPv6 carrying IPv6, and ERSPAN type II (GRE with a
    sequence number, an ERSPAN header, then the mirrored Ethernet frame)."""
    rng = random.Random(105)
    conns, pk = two_family_conns(rng, 150000)
    c3, pk3 = simple_http_conn(rng, "192.168.77.7", 7070, "10.7.7.7", 80, 5, 6,
                               req_extra=800, resp_size=3000)
    conns.append(c3)
    erspan = set(id(p) for p in pk3)
    seqs = {}

    def framer(p, ipb):
        s = seqs.setdefault(id(p.conn), [0])
        s[0] += 1
        if id(p) in erspan:
            inner = ether_hdr(p.d, ethertype(ipb)) + ipb
            span = struct.pack(">HHI", 0x1000 | 12, 0x0000 | 0x55, 0)  # ver 1, VLAN 12
            g = gre_header(0x88BE, seq=s[0], body=span + inner)
            return ether_hdr(p.d, 0x0800) + outer_ipv4(47, g)
        if (ipb[0] >> 4) == 4:
            g = gre_header(0x0800, key=0xabcd0000 + p.d, seq=s[0], body=ipb)
            return ether_hdr(p.d, 0x0800) + outer_ipv4(47, g)
        g = gre_header(0x86DD, csum=True, body=ipb)
        return ether_hdr(p.d, 0x86DD) + outer_ipv6(47, g)
    e = Expect("gre", "gre.pcap",
               "GRE with key+sequence (IPv4 in IPv4), with checksum (IPv6 in IPv6), "
               "ERSPAN type II (Ethernet in GRE)")
    for c in conns:
        e.conn(c)
    write(outdir, "gre.pcap", pcap_bytes(build_frames(pk + pk3, framer), DLT_EN10MB)[0], e)


@case
def vxlan(outdir):
    """VXLAN (UDP 4789) over IPv4 and over IPv6, the inner Ethernet frame
    with its own VLAN tag for the IPv6 connection."""
    rng = random.Random(106)
    conns, pk = two_family_conns(rng, 160000)
    conns[1].vlan = 33

    def framer(p, ipb):
        inner_mac = bytes.fromhex("0a0000000001") if p.d == C else bytes.fromhex("0a0000000002")
        other = bytes.fromhex("0a0000000002") if p.d == C else bytes.fromhex("0a0000000001")
        if (ipb[0] >> 4) == 4:
            inner = other + inner_mac + struct.pack(">H", 0x0800) + ipb
            vx = struct.pack(">II", 0x08000000, 5001 << 8) + inner
            return ether_hdr(p.d, 0x0800) + bytes(
                IP(src=OUT4[p.d], dst=OUT4[1 - p.d], id=0, ttl=64) /
                UDP(sport=49152 + p.d, dport=4789) / Raw(vx))
        inner = other + inner_mac + struct.pack(">HHH", 0x8100, 33, 0x86DD) + ipb
        vx = struct.pack(">II", 0x08000000, 5002 << 8) + inner
        return ether_hdr(p.d, 0x86DD) + bytes(
            IPv6(src=OUT6[p.d], dst=OUT6[1 - p.d], hlim=64, fl=0) /
            UDP(sport=49152 + p.d, dport=4789) / Raw(vx))
    e = Expect("vxlan", "vxlan.pcap",
               "VXLAN over IPv4 (inner IPv4) and over IPv6 (inner 802.1Q VID 33, IPv6)")
    for c in conns:
        e.conn(c)
    write(outdir, "vxlan.pcap", pcap_bytes(build_frames(pk, framer), DLT_EN10MB)[0], e)


@case
def ipip(outdir):
    """IP-in-IP (RFC 2003) and 4in6 (RFC 2473)."""
    rng = random.Random(107)
    c1, pk1 = simple_http_conn(rng, V4C, 4700, V4S, 80, 47000, 48000,
                               req_extra=800, resp_size=4000)
    c2, pk2 = simple_http_conn(rng, "192.168.9.9", 4701, "10.9.9.1", 8080, 7, 8,
                               req_extra=700, resp_size=3000)
    second = set(id(p) for p in pk2)

    def framer(p, ipb):
        if id(p) in second:
            return ether_hdr(p.d, 0x86DD) + outer_ipv6(4, ipb)
        return ether_hdr(p.d, 0x0800) + outer_ipv4(4, ipb)
    e = Expect("ipip", "ipip.pcap", "IPv4 in IPv4 (RFC 2003) and IPv4 in IPv6 (RFC 2473)")
    e.conn(c1)
    e.conn(c2)
    write(outdir, "ipip.pcap", pcap_bytes(build_frames(pk1 + pk2, framer), DLT_EN10MB)[0], e)


@case
def six_in_four(outdir):
    """6in4 (RFC 4213, protocol 41) and IPv6 in IPv6 (RFC 2473)."""
    rng = random.Random(108)
    c1, pk1 = simple_http_conn(rng, V6C, 4800, V6S, 80, 49000, 50000,
                               req_extra=800, resp_size=4000)
    c2, pk2 = simple_http_conn(rng, "2001:db8:1::5", 4801, "2001:db8:2::6", 443, 9, 10,
                               req_extra=600, resp_size=3500)
    second = set(id(p) for p in pk2)

    def framer(p, ipb):
        if id(p) in second:
            return ether_hdr(p.d, 0x86DD) + outer_ipv6(41, ipb)
        return ether_hdr(p.d, 0x0800) + outer_ipv4(41, ipb)
    e = Expect("6in4", "6in4.pcap", "IPv6 in IPv4 (6in4, RFC 4213) and IPv6 in IPv6 (RFC 2473)")
    e.conn(c1)
    e.conn(c2)
    write(outdir, "6in4.pcap", pcap_bytes(build_frames(pk1 + pk2, framer), DLT_EN10MB)[0], e)


@case
def tunnel_frag(outdir):
    """Fragments of tunnelled packets: GRE packets whose outer IPv4 is
    fragmented (out of order), and inner IPv4 fragments each carried whole
    in GRE (out of order)."""
    rng = random.Random(109)
    c, pk = simple_http_conn(rng, V4C, 4900, V4S, 80, 51000, 52000,
                             req_extra=1400, resp_size=6000)
    frames = []
    for i, p in enumerate(pk):
        ipb = p.ip_bytes(0x4000 + i)
        if len(p.payload) <= 100:
            frames.append(ether_hdr(p.d, 0x0800) + outer_ipv4(47, gre_header(0x0800, body=ipb)))
            continue
        if i % 2:
            whole = outer_ipv4(47, gre_header(0x0800, key=7, body=ipb), ident=0x5000 + i)
            pieces = cut_pieces(rng, len(whole) - 20)
            rng.shuffle(pieces)
            frames += [ether_hdr(p.d, 0x0800) + f
                       for f in ipv4_frag_frames(whole, pieces, 0x5000 + i)]
        else:
            pieces = cut_pieces(rng, len(ipb) - 20, tiny_first=True)
            rng.shuffle(pieces)
            for f in ipv4_frag_frames(ipb, pieces, 0x6000 + i):
                frames.append(ether_hdr(p.d, 0x0800) +
                              outer_ipv4(47, gre_header(0x0800, body=f)))
    e = Expect("tunnel-frag", "tunnel-frag.pcap",
               "GRE with the outer IPv4 fragmented, and inner IPv4 fragments inside GRE")
    e.conn(c)
    write(outdir, "tunnel-frag.pcap", pcap_bytes(frames, DLT_EN10MB)[0], e)


def pppoe_session(ipb, pad=False):
    proto = 0x0057 if (ipb[0] >> 4) == 6 else 0x0021
    body = struct.pack(">H", proto) + ipb
    return struct.pack(">BBHH", 0x11, 0, 0x2a2a, len(body)) + body


@case
def pppoe(outdir):
    """PPPoE sessions (RFC 2516) on Ethernet, IPv4 and IPv6; short frames
    padded to 60 bytes (the padding must stay out of the stream)."""
    rng = random.Random(110)
    conns, pk = two_family_conns(rng, 170000)

    def framer(p, ipb):
        f = ether_hdr(p.d, 0x8864) + pppoe_session(ipb)
        return f + b"\x00" * max(0, 60 - len(f))
    e = Expect("pppoe", "pppoe.pcap", "PPPoE session over Ethernet, IPv4 and IPv6, padded")
    for c in conns:
        e.conn(c)
    write(outdir, "pppoe.pcap", pcap_bytes(build_frames(pk, framer), DLT_EN10MB)[0], e)


@case
def ppp(outdir):
    """LINKTYPE_PPP (9): HDLC-like framing for IPv4, no framing and a
    compressed protocol field for IPv6."""
    rng = random.Random(111)
    conns, pk = two_family_conns(rng, 180000)

    def framer(p, ipb):
        if (ipb[0] >> 4) == 6:
            return b"\x57" + ipb
        return b"\xff\x03\x00\x21" + ipb
    e = Expect("ppp", "ppp.pcap", "PPP (DLT 9), with and without address/control, PFC")
    for c in conns:
        e.conn(c)
    write(outdir, "ppp.pcap", pcap_bytes(build_frames(pk, framer), DLT_PPP)[0], e)


@case
def ppp_ether(outdir):
    rng = random.Random(112)
    conns, pk = two_family_conns(rng, 190000)
    e = Expect("ppp-ether", "ppp-ether.pcap", "PPP_ETHER (DLT 51): PPPoE session header, PPP")
    for c in conns:
        e.conn(c)
    write(outdir, "ppp-ether.pcap",
          pcap_bytes(build_frames(pk, lambda p, b: pppoe_session(b)), DLT_PPP_ETHER)[0], e)


BSSID = bytes.fromhex("02bbbbbbbbbb")
LLC_SNAP = bytes.fromhex("aaaa03000000")


def wlan_data(p, ipb, qos):
    """802.11 data frame: client -> AP To DS (QoS data when qos), AP ->
    client From DS; LLC/SNAP; the packet."""
    if p.d == C:
        fc = bytes([0x88 if qos else 0x08, 0x01])
        addrs = BSSID + MAC[C] + MAC[S]            # A1 BSSID, A2 SA, A3 DA
    else:
        fc = bytes([0x88 if qos else 0x08, 0x02])
        addrs = MAC[C] + BSSID + MAC[S]            # A1 DA, A2 BSSID, A3 SA
    seq = struct.pack("<H", (wlan_data.seq % 4096) << 4)
    wlan_data.seq += 1
    h = fc + struct.pack("<H", 44) + addrs + seq
    if qos:
        h += struct.pack("<H", 5)                  # TID 5
    return h + LLC_SNAP + struct.pack(">H", ethertype(ipb)) + ipb


wlan_data.seq = 0


def fcs(frame):
    return struct.pack("<I", zlib.crc32(frame) & 0xFFFFFFFF)


def radiotap(flags):
    # present: Flags (bit 1), Rate (bit 2), Channel (bit 3), antenna signal (bit 5)
    body = struct.pack("<BBHHb", flags, 0x0c, 2437, 0x00a0, -52)
    return struct.pack("<BBHI", 0, 0, 8 + len(body), 0x2e) + body


def wifi_extras():
    """Frames with no TCP in them that a 802.11 capture has: a beacon, a
    QoS Null, an encrypted (protected) data frame."""
    beacon = bytes([0x80, 0]) + b"\x00\x00" + b"\xff" * 6 + BSSID + BSSID + b"\x00\x00" + \
        b"\x00" * 8 + struct.pack("<HH", 100, 0x0401) + b"\x00\x04test"
    qnull = bytes([0xc8, 0x01]) + b"\x00\x00" + BSSID + MAC[C] + BSSID + b"\x10\x00\x00\x00"
    prot = bytes([0x88, 0x41]) + b"\x00\x00" + BSSID + MAC[C] + MAC[S] + b"\x20\x00\x00\x00" + \
        bytes(range(48))
    return [beacon, qnull, prot]


def wifi_frames(pk, wrap, with_fcs, qos_client=True):
    frames = []
    extras = wifi_extras()
    for i, p in enumerate(pk):
        if i % 5 == 2 and extras:
            x = extras.pop(0)
            frames.append(wrap(x + (fcs(x) if with_fcs else b"")))
        w = wlan_data(p, p.ip_bytes(0x7000 + i), qos=(qos_client and p.d == C))
        frames.append(wrap(w + (fcs(w) if with_fcs else b"")))
    return frames


@case
def radiotap_nofcs(outdir):
    rng = random.Random(113)
    wlan_data.seq = 0
    c, pk = simple_http_conn(rng, V4C, 5100, V4S, 80, 53000, 54000,
                             req_extra=1000, resp_size=6000)
    e = Expect("radiotap", "radiotap.pcap",
               "radiotap (DLT 127), Flags without FCS; QoS data to DS, data from DS; "
               "beacon, QoS Null and a protected frame skipped")
    e.conn(c)
    write(outdir, "radiotap.pcap",
          pcap_bytes(wifi_frames(pk, lambda w: radiotap(0x00) + w, False), DLT_RADIOTAP)[0], e)


@case
def radiotap_fcs(outdir):
    rng = random.Random(114)
    wlan_data.seq = 0
    c, pk = simple_http_conn(rng, V6C, 5200, V6S, 80, 55000, 56000,
                             req_extra=1000, resp_size=6000)
    e = Expect("radiotap-fcs", "radiotap-fcs.pcap",
               "radiotap (DLT 127), Flags with FCS and a valid FCS on every frame, IPv6")
    e.conn(c)
    write(outdir, "radiotap-fcs.pcap",
          pcap_bytes(wifi_frames(pk, lambda w: radiotap(0x10) + w, True), DLT_RADIOTAP)[0], e)


def prism_header(n):
    h = struct.pack("<II", 0x44, 144) + b"wlan0".ljust(16, b"\x00")
    vals = [0, 0, 6, 0, 0, 0, 0, 108, 0, n]        # ... channel 6, rate, frmlen
    for k, v in enumerate(vals):
        h += struct.pack("<IHHI", ((k + 1) << 12) | 0x44, 0, 4, v)
    return h


@case
def prism(outdir):
    rng = random.Random(115)
    wlan_data.seq = 0
    c, pk = simple_http_conn(rng, V4C, 5300, V4S, 80, 57000, 58000,
                             req_extra=1000, resp_size=5000)
    e = Expect("prism", "prism.pcap", "Prism/wlan-ng header (DLT 119) + 802.11 data, no FCS")
    e.conn(c)
    write(outdir, "prism.pcap",
          pcap_bytes(wifi_frames(pk, lambda w: prism_header(len(w)) + w, False, False),
                     DLT_PRISM)[0], e)


@case
def wlan(outdir):
    rng = random.Random(116)
    wlan_data.seq = 0
    c, pk = simple_http_conn(rng, V4C, 5400, V4S, 80, 59000, 60000,
                             req_extra=1000, resp_size=5000)
    e = Expect("wlan", "wlan.pcap",
               "plain 802.11 (DLT 105) without radio header or FCS; management, null and "
               "protected frames skipped")
    e.conn(c)
    write(outdir, "wlan.pcap", pcap_bytes(wifi_frames(pk, lambda w: w, False), DLT_IEEE802_11)[0], e)


# --------------------------------------------------------------------------
# 802.11 statistics (the wifi-stats scanner)
# --------------------------------------------------------------------------

class WifiExpect(Expect):
    """An Expect with the 802.11 facts the wifi-stats scanner must report
    (records documented in tests/data/README.md)."""

    def __init__(self, case, capture, comment):
        Expect.__init__(self, case, capture, comment)
        self.wifi = []

    def text(self):
        return Expect.text(self) + "\n".join(self.wifi) + "\n"


def rt_header(flags, freq, signal, variant):
    """Radiotap (radiotap.org) with Flags, Rate, Channel, dBm antenna
    signal, dBm antenna noise, Antenna; variant "tsft" adds TSFT (8-byte
    alignment), "ext" a second presence word in the radiotap namespace
    (bits 29 and 31) with a per-antenna signal that must not be taken."""
    chan_flags = 0x00a0 if freq < 3000 else 0x0140
    if variant == "tsft":
        present = [0x0000086F]
        body = struct.pack("<Q", 123456789) + struct.pack("<BBHHbbB", flags, 0x0c, freq,
                                                          chan_flags, signal, -95, 1)
        hlen = 8
    elif variant == "ext":
        present = [0xA000086E, 0x00000820]
        body = struct.pack("<BBHHbbB", flags, 0x0c, freq, chan_flags, signal, -95, 0) + \
            struct.pack("<bB", signal - 20, 1)
        hlen = 12
    else:
        present = [0x0000086E]
        body = struct.pack("<BBHHbbB", flags, 0x0c, freq, chan_flags, signal, -95, 0)
        hlen = 8
    words = b"".join(struct.pack("<I", p) for p in present)
    return struct.pack("<BBH", 0, 0, hlen + len(body)) + words + body


@case
def wifi_stats(outdir):
    """Beacons of four networks (open, WEP, WPA2, hidden WPA2 on 5 GHz),
    probes, an association, data from stations, control frames; a beacon
    with a bad FCS and one with an element longer than the frame. Every
    value the scanner must report is computed here from the schedule."""
    from scapy.layers.dot11 import (AKMSuite, Dot11, Dot11AssoReq, Dot11AssoResp,
                                    Dot11Beacon, Dot11Elt, Dot11EltRSN, Dot11ProbeReq,
                                    Dot11ProbeResp, Dot11QoS, RSNCipherSuite)
    from scapy.layers.l2 import LLC, SNAP

    nets = [  # bssid, ssid, channel, freq, encryption, base signal, beacons
        ("02:11:11:11:11:01", b"CoffeeShop", 1, 2412, "OPEN", -40, 10),
        ("02:22:22:22:22:02", b"HomeNet-WEP", 6, 2437, "WEP", -55, 6),
        ("02:33:33:33:33:03", b"Corp WPA2", 11, 2462, "WPA2", -70, 5),
        ("02:44:44:44:44:04", b"HiddenLab", 36, 5180, "WPA2", -80, 4),
    ]
    N1, N2, N3, N4 = [n[0] for n in nets]
    S1, S2, S3 = "02:aa:00:00:00:01", "02:aa:00:00:00:02", "02:aa:00:00:00:03"
    BCAST = "ff:ff:ff:ff:ff:ff"
    freq_of = {n[0]: n[3] for n in nets}

    def rsn():
        return Dot11EltRSN(group_cipher_suite=RSNCipherSuite(cipher=4),
                           pairwise_cipher_suites=[RSNCipherSuite(cipher=4)],
                           akm_suites=[AKMSuite(suite=2)])

    def body_elements(net, in_beacon):
        bssid, ssid, ch, freq, enc = net[:5]
        hidden = bssid == N4 and in_beacon
        els = Dot11Elt(ID=0, info=b"" if hidden else ssid) / \
            Dot11Elt(ID=1, info=bytes([0x82, 0x84, 0x8b, 0x96]))
        if freq < 3000:
            els = els / Dot11Elt(ID=3, info=bytes([ch]))           # DSSS Parameter Set
        else:   # HT Operation: primary channel, then 21 more octets
            els = els / Dot11Elt(ID=61, info=bytes([ch]) + bytes(21))
        if enc == "WPA2":
            els = els / rsn()
        return els

    def cap(enc):
        return "ESS+privacy" if enc != "OPEN" else "ESS"

    # The schedule: (802.11 frame, signal or None, radiotap variant,
    # fcs: None / "good" / "bad", facts). facts say what the frame counts for.
    sched = []
    seq = [0]

    def add(frame, signal, facts, variant="basic", fcs=None):
        sched.append((bytes(frame), signal, variant, fcs, facts))

    def beacon(i, net, **kw):
        bssid = net[0]
        f = Dot11(type=0, subtype=8, addr1=BCAST, addr2=bssid, addr3=bssid, SC=(i % 4096) << 4) / \
            Dot11Beacon(timestamp=1000 * i, beacon_interval=100, cap=cap(net[4])) / \
            body_elements(net, True)
        return f

    def udp(src, dst, sport, dport, n):
        return LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) / \
            IP(src=src, dst=dst, id=0x4000 + n, ttl=64) / UDP(sport=sport, dport=dport) / \
            Raw(bytes((n + k) % 256 for k in range(40 + n)))

    # beacons, interleaved: every network once per round while it has some left
    left = {n[0]: n[6] for n in nets}
    rnd = 0
    while any(left.values()):
        for k, net in enumerate(nets):
            if not left[net[0]]:
                continue
            left[net[0]] -= 1
            sig = net[5] - (rnd % 3)
            variant = ("tsft" if rnd % 2 else "basic") if net[0] != N3 else "basic"
            add(beacon(rnd, net), sig, {"beacon": net[0], "tx": net[0]}, variant,
                "good" if net[0] == N3 else None)
        if rnd == 2:    # a beacon of N2 whose FCS is wrong: skipped whole
            add(beacon(99, nets[1]), -50, {"bad_fcs": True}, "basic", "bad")
        rnd += 1

    # S3 probes: wildcard, then CoffeeShop, then HiddenLab; N1 and N4 answer
    for i, ssid in enumerate([b"", b"CoffeeShop", b"HiddenLab"]):
        f = Dot11(type=0, subtype=4, addr1=BCAST, addr2=S3, addr3=BCAST, SC=(200 + i) << 4) / \
            Dot11ProbeReq() / Dot11Elt(ID=0, info=ssid) / \
            Dot11Elt(ID=1, info=bytes([0x82, 0x84, 0x8b, 0x96]))
        add(f, -58 - i, {"tx": S3, "sent": S3, "probe": (S3, ssid)})
    for net, sig in ((nets[0], -41), (nets[3], -81)):
        f = Dot11(type=0, subtype=5, addr1=S3, addr2=net[0], addr3=net[0], SC=300 << 4) / \
            Dot11ProbeResp(timestamp=5, beacon_interval=100, cap=cap(net[4])) / \
            body_elements(net, False)
        add(f, sig, {"tx": net[0], "probe_resp": net[0], "received": S3})

    # S1 associates with N1
    f = Dot11(type=0, subtype=0, addr1=N1, addr2=S1, addr3=N1, SC=400 << 4) / \
        Dot11AssoReq(cap="ESS", listen_interval=10) / Dot11Elt(ID=0, info=b"CoffeeShop") / \
        Dot11Elt(ID=1, info=bytes([0x82, 0x84, 0x8b, 0x96]))
    add(f, -50, {"tx": S1, "sent": S1, "link": (S1, N1)})
    f = Dot11(type=0, subtype=1, addr1=S1, addr2=N1, addr3=N1, SC=401 << 4) / \
        Dot11AssoResp(cap="ESS", status=0, AID=1) / \
        Dot11Elt(ID=1, info=bytes([0x82, 0x84, 0x8b, 0x96]))
    add(f, -42, {"tx": N1, "received": S1, "link": (S1, N1)})
    add(Dot11(type=1, subtype=13, addr1=N1), -45, {})                       # Ack

    # S1 <-> N1: data to the DS and from it, RTS and Acks
    for i in range(5):
        f = Dot11(type=2, subtype=0, FCfield="to-DS", addr1=N1, addr2=S1,
                  addr3="02:00:5e:00:00:01", SC=(500 + i) << 4) / \
            udp("192.168.7.10", "192.0.2.53", 40000 + i, 53, i)
        add(f, -50 - (i % 4), {"tx": S1, "sent": S1, "data": N1, "link": (S1, N1)})
        if i == 2:
            add(Dot11(type=1, subtype=11, addr1=N1, addr2=S1, ID=44), -51, {"tx": S1})   # RTS
        if i % 2 == 0:
            add(Dot11(type=1, subtype=13, addr1=S1), -45, {})               # Ack
    for i in range(3):
        f = Dot11(type=2, subtype=0, FCfield="from-DS", addr1=S1, addr2=N1,
                  addr3="02:00:5e:00:00:01", SC=(600 + i) << 4) / \
            udp("192.0.2.53", "192.168.7.10", 53, 40000 + i, 10 + i)
        add(f, -43 - i, {"tx": N1, "received": S1, "data": N1, "link": (S1, N1)})
    add(Dot11(type=1, subtype=13, addr1=N1), -45, {})                       # Ack

    # S2 on N3: protected QoS data (the ext radiotap layout), then a Null
    for i in range(4):
        f = Dot11(type=2, subtype=8, FCfield="to-DS+protected", addr1=N3, addr2=S2,
                  addr3="02:00:5e:00:00:02", SC=(700 + i) << 4) / Dot11QoS(TID=5) / \
            Raw(bytes(range(i, i + 60)))
        add(f, -65 - i, {"tx": S2, "sent": S2, "data": N3, "link": (S2, N3)}, "ext")
    f = Dot11(type=2, subtype=4, FCfield="to-DS", addr1=N3, addr2=S2, addr3=N3, SC=710 << 4)
    add(f, -66, {"tx": S2, "sent": S2, "link": (S2, N3)})

    # last, a beacon of N1 with an element claiming more than the frame holds
    f = beacon(50, nets[0]) / Dot11Elt(ID=221, len=50, info=b"\x00\x50\xf2")
    add(f, -40, {"beacon": N1, "tx": N1, "malformed_element": True})

    # ---- the capture
    frames = []
    for frame, sig, variant, fcs_mode, facts in sched:
        flags = 0x10 if fcs_mode else 0x00
        tx = facts.get("tx")
        freq = freq_of.get(tx, 2412)
        if tx in (S2,):
            freq = 2462
        trailer = b""
        if fcs_mode == "good":
            trailer = fcs(frame)
        elif fcs_mode == "bad":
            trailer = struct.pack("<I", (zlib.crc32(frame) ^ 0xDEADBEEF) & 0xFFFFFFFF)
        frames.append(rt_header(flags, freq, sig, variant) + frame + trailer)

    # ---- what wifi-stats must say
    e = WifiExpect("wifi-stats", "wifi-stats.pcap",
                   "802.11 statistics: 4 networks (open, WEP, WPA2, hidden WPA2 on 5 GHz), "
                   "3 stations, probes, association, data and control frames, radiotap "
                   "with dBm signal (3 layouts), a bad-FCS beacon, a malformed element")
    counted = [s for s in sched if not s[4].get("bad_fcs")]

    def fc(frame):
        return (frame[0] >> 2) & 3, (frame[0] >> 4) & 15

    by_type = [0, 0, 0, 0]
    by_sub = {}
    for frame, sig, variant, fcs_mode, facts in counted:
        t, st = fc(frame)
        by_type[t] += 1
        by_sub[(t, st)] = by_sub.get((t, st), 0) + 1

    def stats(sigs):
        if not sigs:
            return "- - -"
        return "%d %.1f %d" % (min(sigs), sum(sigs) / len(sigs), max(sigs))

    e.wifi.append("# wifi-frames TOTAL MANAGEMENT CONTROL DATA EXTENSION")
    e.wifi.append("wifi-frames %d %d %d %d %d" % (len(counted), *by_type))
    e.wifi.append("# wifi-bad-fcs N (with check_fcs=NO: 0, and the frame counts)")
    e.wifi.append("wifi-bad-fcs %d" % sum(1 for s in sched if s[4].get("bad_fcs")))
    e.wifi.append("wifi-malformed-elements %d" %
                  sum(1 for s in counted if s[4].get("malformed_element")))
    e.wifi.append("# wifi-signal MIN MEAN MAX (dBm, every frame counted)")
    e.wifi.append("wifi-signal %s" % stats([s[1] for s in counted]))
    e.wifi.append("# wifi-frame TYPE SUBTYPE COUNT")
    names = {0: "management", 1: "control", 2: "data", 3: "extension"}
    for (t, st), n in sorted(by_sub.items()):
        e.wifi.append("wifi-frame %s %d %d" % (names[t], st, n))
    links = {}
    for s in counted:
        if "link" in s[4]:
            links[s[4]["link"][0]] = s[4]["link"][1]
    e.wifi.append("# wifi-network BSSID CHANNEL ENCRYPTION BEACONS PROBE_RESPONSES "
                  "DATA_FRAMES STATIONS SIG_MIN SIG_MEAN SIG_MAX SSID (the rest of the line)")
    for bssid, ssid, ch, freq, enc, base, nb in nets:
        fs = [s[4] for s in counted]
        e.wifi.append("wifi-network %s %d %s %d %d %d %d %s %s" % (
            bssid, ch, enc, sum(1 for f in fs if f.get("beacon") == bssid),
            sum(1 for f in fs if f.get("probe_resp") == bssid),
            sum(1 for f in fs if f.get("data") == bssid),
            sum(1 for v in links.values() if v == bssid),
            stats([s[1] for s in counted if s[4].get("tx") == bssid]), ssid.decode()))
    e.wifi.append("# wifi-station MAC BSSID|- SENT RECEIVED PROBE_REQUESTS SIG_MIN SIG_MEAN "
                  "SIG_MAX PROBED_SSIDS (the rest, comma-separated)")
    for sta in (S1, S2, S3):
        fs = [s[4] for s in counted]
        probed = []
        for f in fs:
            p = f.get("probe")
            if p and p[0] == sta and p[1] and p[1].decode() not in probed:
                probed.append(p[1].decode())
        e.wifi.append("wifi-station %s %s %d %d %d %s %s" % (
            sta, links.get(sta, "-"), sum(1 for f in fs if f.get("sent") == sta),
            sum(1 for f in fs if f.get("received") == sta),
            sum(1 for f in fs if f.get("probe", (None,))[0] == sta),
            stats([s[1] for s in counted if s[4].get("tx") == sta]), ",".join(probed)))
    write(outdir, "wifi-stats.pcap", pcap_bytes(frames, DLT_RADIOTAP)[0], e)


# --------------------------------------------------------------------------
# HTTP objects (the http and gzip scanners)
#
# Besides flows, these cases record the objects the scanners must extract,
# computed from the bytes the generator put into each message (extra lines
# in NAME.expect, documented in tests/data/README.md):
#   http NAME MD5 LENGTH        with -S http: a header block (X-HTTP[-00n])
#                               or a body after transfer decoding
#                               (X-HTTPBODY[-00n]); with the flows, all the
#                               files such a run writes
#   gzip NAME MD5 LENGTH        with -S gzip too: a decoded body (...-GZIP),
#                               the original file's bytes
#   http16 NAME MD5 LENGTH      with -S http_names=1.6: a body as tcpflow 1.6
#                               names it, decoded in place (all the body files)
#   httpmeta NAME KEY VALUE     the object's metadata has KEY = VALUE (the
#                               rest of the line)
#   httpgap NAME OFFSET LENGTH  the object has a gap there (zeros in it)
#   httperrors FLOW MIN         the flow's <http> reports at least MIN errors
# --------------------------------------------------------------------------

WORDS = ("the quick brown fox jumps over lazy dog tcpflow reassembles every "
         "connection and writes each direction to its own file while scanners "
         "look inside http bodies gzip deflate chunked keep alive pipelining").split()


def http_text(rng, size):
    """Compressible text (words and newlines) of exactly size bytes."""
    out = []
    n = 0
    while n < size:
        w = rng.choice(WORDS) + ("\n" if rng.random() < 0.1 else " ")
        out.append(w)
        n += len(w)
    return "".join(out).encode()[:size]


def http_head(first, headers):
    return (first + "\r\n" + "".join("%s: %s\r\n" % kv for kv in headers) + "\r\n").encode()


def http_chunked(data, sizes, ext=False, trailer=False):
    """RFC 9112 7.1 chunked coding of data, chunk sizes cycling through sizes."""
    out = bytearray()
    pos = i = 0
    while pos < len(data):
        n = min(sizes[i % len(sizes)], len(data) - pos)
        out += b"%x" % n + (b";note=first" if ext and i == 0 else b"") + b"\r\n"
        out += data[pos:pos + n] + b"\r\n"
        pos += n
        i += 1
    out += b"0\r\n" + (b"X-Checksum: none\r\n" if trailer else b"") + b"\r\n"
    return bytes(out)


def gzip_bytes(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def raw_deflate(data):
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


class HttpExpect(Expect):
    """An Expect with the objects the http and gzip scanners must find."""

    def __init__(self, case, capture, comment):
        super().__init__(case, capture, comment)
        self.objs = []      # (kind, name, bytes)
        self.meta = []      # (name, key, value)
        self.ogaps = []     # (name, off, len)
        self.errors = []    # (flow name, minimum)

    def text(self):
        lines = [super().text().rstrip("\n")]
        for kind, name, data in self.objs:
            lines.append("%s %s %s %d" % (kind, name, hashlib.md5(data).hexdigest(), len(data)))
        for name, key, value in self.meta:
            lines.append("httpmeta %s %s %s" % (name, key, value))
        for name, off, ln in self.ogaps:
            lines.append("httpgap %s %d %d" % (name, off, ln))
        for name, n in self.errors:
            lines.append("httperrors %s %d" % (name, n))
        return "\n".join(lines) + "\n"


class HttpModel:
    """Numbers the messages of each direction of c as the http scanner does
    (from 1, every message whose header block ends) and records their
    objects in e."""

    def __init__(self, c, e):
        self.c, self.e = c, e
        self.n = {C: 0, S: 0}

    def names(self, d, k):
        base = self.c.name(d)
        sfx = "" if k == 1 else "-%03d" % k
        return base + "-HTTP" + sfx, base + "-HTTPBODY" + sfx, base + "-HTTPBODY-%03d" % k

    def message(self, d, head, wire=b"", body=b"", decoded=None, ext=None, meta=None,
                body_meta=None):
        """head: the header block; wire: what follows it on the wire; body:
        the object after transfer decoding (b"" = no body file); decoded:
        after content decoding (None = not encoded). Returns head + wire."""
        self.n[d] += 1
        hname, bname, name16 = self.names(d, self.n[d])
        self.e.objs.append(("http", hname, head))
        if body:
            self.e.objs.append(("http", bname, body))
            if decoded is not None:
                self.e.objs.append(("gzip", bname + "-GZIP", decoded))
            self.e.objs.append(("http16", name16 + ("." + ext if ext else ""),
                                decoded if decoded is not None else body))
        for k, v in (meta or {}).items():
            self.e.meta.append((hname, k, v))
            if body:
                self.e.meta.append((bname, k, v))
        for k, v in (body_meta or {}).items():
            self.e.meta.append((bname, k, v))
        return head + wire


def http_case_write(outdir, name, pk, e, framer=frame_ether):
    write(outdir, name + ".pcap", pcap_bytes(build_frames(pk, framer), DLT_EN10MB)[0], e)


@case
def http_objects(outdir):
    """Eleven exchanges on one keep-alive connection: Content-Length, chunked
    (extension, trailer), gzip, gzip + chunked, deflate with and without the
    zlib header, HEAD, 204, 304, an upload with Expect: 100-continue, and a
    last response that runs to the end of the connection."""
    rng = random.Random(301)
    c = Conn(V4C, 41000, V4S, 80, 3100000, 3200000)
    e = HttpExpect("http-objects", "http-objects.pcap",
                   "HTTP objects on one keep-alive connection: every framing and coding")
    h = HttpModel(c, e)
    pk = c.handshake()
    host = "www.example.com"

    def get(path, method="GET", extra=()):
        return h.message(C, http_head("%s %s HTTP/1.1" % (method, path),
                                      [("Host", host), ("User-Agent", "gen/1.0")] + list(extra)),
                         meta={"method": method, "url": path})

    def respond(status, reason, headers, wire=b"", body=b"", decoded=None, ext=None, url=None,
                version="1.1"):
        meta = {"status": str(status)}
        if url:
            meta["url"] = url
        return h.message(S, http_head("HTTP/%s %d %s" % (version, status, reason), headers),
                         wire, body, decoded, ext, meta=meta)

    # 1. Content-Length
    page = http_text(rng, 3000)
    pk += c.send(C, get("/index.html"), rng)
    pk += c.send(S, respond(200, "OK", [("Content-Type", "text/html; charset=utf-8"),
                                        ("Content-Length", str(len(page)))],
                            page, page, ext="html", url="/index.html"), rng)
    # 2. chunked, with a chunk extension and a trailer
    blob = bytes(rng.getrandbits(8) for _ in range(5000))
    pk += c.send(C, get("/data.bin"), rng)
    pk += c.send(S, respond(200, "OK", [("Content-Type", "application/octet-stream"),
                                        ("Transfer-Encoding", "chunked")],
                            http_chunked(blob, [1000, 17, 2048, 1], ext=True, trailer=True),
                            blob, url="/data.bin"), rng)
    # 3. gzip, Content-Length
    text3 = http_text(rng, 20000)
    gz3 = gzip_bytes(text3)
    pk += c.send(C, get("/page.html", extra=[("Accept-Encoding", "gzip, deflate")]), rng)
    pk += c.send(S, respond(200, "OK", [("Content-Type", "text/html"),
                                        ("Content-Encoding", "gzip"),
                                        ("Content-Length", str(len(gz3)))],
                            gz3, gz3, text3, ext="html", url="/page.html"), rng)
    # 4. gzip inside chunked
    text4 = http_text(rng, 9000)
    gz4 = gzip_bytes(text4)
    pk += c.send(C, get("/style.css", extra=[("Accept-Encoding", "gzip")]), rng)
    pk += c.send(S, respond(200, "OK", [("Content-Type", "text/css"),
                                        ("Content-Encoding", "gzip"),
                                        ("Transfer-Encoding", "chunked")],
                            http_chunked(gz4, [700, 1300]), gz4, text4, ext="css"), rng)
    # 5. deflate with the zlib header (RFC 9110 8.4.1.2)
    text5 = http_text(rng, 6000)
    z5 = zlib.compress(text5, 9)
    pk += c.send(C, get("/zlib.txt"), rng)
    pk += c.send(S, respond(200, "OK", [("Content-Type", "text/plain"),
                                        ("Content-Encoding", "deflate"),
                                        ("Content-Length", str(len(z5)))],
                            z5, z5, text5, ext="txt"), rng)
    # 6. deflate without it (raw), as many servers send
    text6 = http_text(rng, 5000)
    r6 = raw_deflate(text6)
    pk += c.send(C, get("/raw.txt"), rng)
    pk += c.send(S, respond(200, "OK", [("Content-Type", "text/plain"),
                                        ("Content-Encoding", "deflate"),
                                        ("Content-Length", str(len(r6)))],
                            r6, r6, text6, ext="txt"), rng)
    # 7. HEAD: Content-Length but no body (RFC 9112 6.3 item 1)
    pk += c.send(C, get("/index.html", method="HEAD"), rng)
    pk += c.send(S, respond(200, "OK", [("Content-Type", "text/html"),
                                        ("Content-Length", str(len(page)))],
                            url="/index.html"), rng)
    # 8. 204 and 9. 304: no body either
    pk += c.send(C, get("/empty"), rng)
    pk += c.send(S, respond(204, "No Content", [("Server", "gen")]), rng)
    pk += c.send(C, get("/index.html", extra=[("If-None-Match", '"abc"')]), rng)
    pk += c.send(S, respond(304, "Not Modified", [("ETag", '"abc"'),
                                                  ("Content-Length", str(len(page)))]), rng)
    # 10. an upload: the header block, 100 Continue, then the body
    up = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"up.bin\"\r\n" \
         b"Content-Type: application/octet-stream\r\n\r\n" + \
         bytes(rng.getrandbits(8) for _ in range(4000)) + b"\r\n--XyZ--\r\n"
    h.n[C] += 1
    qh, qb, q16 = h.names(C, h.n[C])
    post_head = http_head("POST /upload HTTP/1.1", [
        ("Host", host), ("Content-Type", "multipart/form-data; boundary=XyZ"),
        ("Content-Length", str(len(up))), ("Expect", "100-continue")])
    e.objs += [("http", qh, post_head), ("http", qb, up), ("http16", q16, up)]
    e.meta += [(qb, "method", "POST"), (qb, "url", "/upload"), (qb, "direction", "request")]
    pk += c.send(C, post_head, rng)
    pk += c.send(S, respond(100, "Continue", []), rng)
    pk += c.send(C, up, rng, sizes=[1460, 1000, 1460])
    done = b'{"stored": "up.bin"}'
    pk += c.send(S, respond(201, "Created", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(done)))],
                            done, done, ext="json", url="/upload"), rng)
    # 11. HTTP/1.0 without a length: the body ends with the connection
    last = http_text(rng, 2500)
    h.n[C] += 1
    lh, _, _ = h.names(C, h.n[C])
    last_req = http_head("GET /last.txt HTTP/1.0", [("Host", host)])
    e.objs.append(("http", lh, last_req))
    pk += c.send(C, last_req, rng)
    pk += c.send(S, respond(200, "OK", [("Content-Type", "text/plain"), ("Connection", "close")],
                            last, last, ext="txt", url="/last.txt", version="1.0"), rng)
    pk += c.close(first=S)
    e.conn(c)
    http_case_write(outdir, "http-objects", pk, e)


@case
def http_pipeline(outdir):
    """IPv6: four requests pipelined in one burst (GET, HEAD, GET, a chunked
    PUT upload), then the four responses back to back, cut across message
    boundaries: responses pair with requests in order, and the HEAD response
    has no body whatever its Content-Length says."""
    rng = random.Random(302)
    c = Conn(V6C, 42000, V6S, 8080, 4100000, 4200000)
    e = HttpExpect("http-pipeline", "http-pipeline.pcap",
                   "IPv6, pipelined requests (GET, HEAD, GET, chunked PUT) and responses")
    h = HttpModel(c, e)
    pk = c.handshake()
    host = "[2001:db8::2]:8080"
    up = bytes(rng.getrandbits(8) for _ in range(3000))
    reqs = b""
    for method, path in (("GET", "/a.txt"), ("HEAD", "/b.html"), ("GET", "/c.png")):
        reqs += h.message(C, http_head("%s %s HTTP/1.1" % (method, path), [("Host", host)]),
                          meta={"method": method, "url": path})
    reqs += h.message(C, http_head("PUT /up.bin HTTP/1.1", [
        ("Host", host), ("Content-Type", "application/octet-stream"),
        ("Transfer-Encoding", "chunked")]), http_chunked(up, [1024, 999]), up,
        meta={"method": "PUT", "url": "/up.bin"})
    pk += c.send(C, reqs, rng, sizes=[len(reqs)])
    a = http_text(rng, 1500)
    png = b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(1992))
    resps = h.message(S, http_head("HTTP/1.1 200 OK", [("Content-Type", "text/plain"),
                                                       ("Content-Length", str(len(a)))]),
                      a, a, ext="txt", meta={"url": "/a.txt", "method": "GET", "status": "200"})
    resps += h.message(S, http_head("HTTP/1.1 200 OK", [("Content-Type", "text/html"),
                                                        ("Content-Length", "99999")]),
                       meta={"url": "/b.html", "method": "HEAD"})
    resps += h.message(S, http_head("HTTP/1.1 200 OK", [("Content-Type", "image/png"),
                                                        ("Transfer-Encoding", "chunked")]),
                       http_chunked(png, [500]), png, ext="png",
                       meta={"url": "/c.png", "method": "GET"})
    resps += h.message(S, http_head("HTTP/1.1 201 Created", [("Content-Length", "0")]),
                       meta={"url": "/up.bin", "method": "PUT", "status": "201"})
    pk += c.send(S, resps, rng, sizes=[1000, 1448, 1460, 1460, 77, 1460, 1460])
    pk += c.close(first=C)
    e.conn(c)
    http_case_write(outdir, "http-pipeline", pk, e)


@case
def http_reorder(outdir):
    """A gzip + chunked response whose segments arrive out of order (one
    after six later ones, two swapped) and one of them twice."""
    rng = random.Random(303)
    c = Conn(V4C, 43000, V4S, 80, 5100000, 5200000)
    e = HttpExpect("http-reorder", "http-reorder.pcap",
                   "a gzip + chunked response with segments out of order and retransmitted")
    h = HttpModel(c, e)
    pk = c.handshake()
    pk += c.send(C, h.message(C, http_head("GET /report.csv HTTP/1.1", [("Host", "example.org")]),
                              meta={"url": "/report.csv"}), rng)
    text = "".join("%d,%d,%s\n" % (i, rng.getrandbits(24), rng.choice(WORDS))
                   for i in range(1500)).encode()
    gz = gzip_bytes(text)
    body = h.message(S, http_head("HTTP/1.1 200 OK", [("Content-Type", "text/csv"),
                                                      ("Content-Encoding", "gzip"),
                                                      ("Transfer-Encoding", "chunked")]),
                     http_chunked(gz, [1200, 800, 4000]), gz, text, ext="csv",
                     meta={"url": "/report.csv"})
    segs = c.segments(S, body, rng, sizes=[900] + [1000] * 60)
    assert len(segs) > 12
    order = [0, 2, 3, 4, 5, 6, 7, 1, 9, 8] + list(range(10, len(segs)))
    pk += [segs[i] for i in order[:6]] + [segs[4]] + [segs[i] for i in order[6:]] + [c.ack(C)]
    pk += c.close()
    e.conn(c)
    http_case_write(outdir, "http-reorder", pk, e)


def cut_sizes(total, cuts):
    """Segment sizes so that segment boundaries fall at the given offsets."""
    sizes, last = [], 0
    for cut in sorted(cuts) + [total]:
        while cut - last > MSS:
            sizes.append(MSS)
            last += MSS
        if cut > last:
            sizes.append(cut - last)
            last = cut
    return sizes


@case
def http_lost(outdir):
    """Two server segments lost for good: one inside a Content-Length body
    (the body is written with zeros there and a gap), one that hides a chunk
    boundary (the chunked body ends there, incomplete; parsing finds the
    next response)."""
    rng = random.Random(304)
    c = Conn(V4C, 44000, V4S, 80, 6100000, 6200000)
    e = HttpExpect("http-lost", "http-lost.pcap",
                   "lost segments inside a Content-Length body and across a chunk boundary")
    h = HttpModel(c, e)
    pk = c.handshake()
    reqs = b"".join(h.message(C, http_head("GET /%d HTTP/1.1" % i, [("Host", "example.net")]))
                    for i in (1, 2, 3))
    pk += c.send(C, reqs, rng, sizes=[len(reqs)])
    b1 = bytes(rng.getrandbits(8) for _ in range(6000))
    b2 = bytes(rng.getrandbits(8) for _ in range(5000))
    b3 = http_text(rng, 800)
    head1 = http_head("HTTP/1.1 200 OK", [("Content-Type", "application/octet-stream"),
                                          ("Content-Length", str(len(b1)))])
    head2 = http_head("HTTP/1.1 200 OK", [("Content-Type", "application/octet-stream"),
                                          ("Transfer-Encoding", "chunked")])
    wire2 = http_chunked(b2, [2000])
    head3 = http_head("HTTP/1.1 200 OK", [("Content-Type", "text/plain"),
                                          ("Content-Length", str(len(b3)))])
    stream = head1 + b1 + head2 + wire2 + head3 + b3
    # hole 1: [h1 + 2000, h1 + 3000) inside body 1
    hole1 = (len(head1) + 2000, 1000)
    # hole 2: from 500 bytes before the end of chunk 1's data (body offset
    # 1500) to 300 bytes into chunk 2's data: hides "\r\n7d0\r\n"
    r2 = len(head1) + len(b1) + len(head2)
    c1 = len(b"7d0\r\n")
    hole2_start = r2 + c1 + 1500
    hole2_end = r2 + c1 + 2000 + len(b"\r\n7d0\r\n") + 300
    hole2 = (hole2_start, hole2_end - hole2_start)
    segs = c.segments(S, stream, rng, sizes=cut_sizes(len(stream), [
        hole1[0], hole1[0] + hole1[1], hole2[0], hole2[0] + hole2[1]]))
    base = c.isn[S] + 1
    lost = [p for p in segs if (p.seq - base) in (hole1[0], hole2[0])]
    assert len(lost) == 2 and [len(p.payload) for p in lost] == [hole1[1], hole2[1]]
    pk += [p for p in segs if p not in lost] + [c.ack(C)]
    pk += c.close(first=C)
    # expected objects: body 1 with zeros in the hole; body 2 up to the end
    # of chunk 1 (its last 500 bytes zeros), incomplete; response 3 whole
    z1 = bytearray(b1)
    z1[2000:3000] = bytes(1000)
    z2 = bytearray(b2[:2000])
    z2[1500:2000] = bytes(500)
    h.message(S, head1, b"", bytes(z1), ext=None)
    h.message(S, head2, b"", bytes(z2))
    h.message(S, head3, b"", b3, ext="txt", meta={"url": "/3"})
    # 1.6 names: the same bodies
    _, bn1, _ = h.names(S, 1)
    _, bn2, _ = h.names(S, 2)
    e.ogaps += [(bn1, 2000, 1000), (bn2, 1500, 500)]
    e.flow(c.name(C), c.data[C])
    data = bytearray(c.data[S])
    for off, ln in (hole1, hole2):
        data[off:off + ln] = bytes(ln)
        e.gaps.append((c.name(S), off, ln))
    e.flow(c.name(S), data)
    http_case_write(outdir, "http-lost", pk, e)


@case
def http_malformed(outdir):
    """Damaged HTTP, both directions: garbage before the first response, a
    bad chunk size, a chunk size that overflows 64 bits; a request with an
    invalid header line, and a request cut off inside its header block by
    the end of the connection. Parsing resumes at the next message each
    time."""
    rng = random.Random(305)
    c = Conn(V4C, 45000, V4S, 80, 7100000, 7200000)
    e = HttpExpect("http-malformed", "http-malformed.pcap",
                   "garbage, bad and overflowing chunk sizes, bad and truncated headers")
    h = HttpModel(c, e)
    pk = c.handshake()
    q1 = h.message(C, http_head("GET /one HTTP/1.1", [("Host", "h")]), meta={"url": "/one"})
    bad_req = b"GET /two HTTP/1.1\r\nHost h\r\nX: y\r\n\r\n"       # no colon
    q3 = h.message(C, http_head("GET /three HTTP/1.1", [("Host", "h")]), meta={"url": "/three"})
    cut = b"GET /four HTTP/1.1\r\nHost: h\r\nUser-Ag"
    pk += c.send(C, q1 + bad_req + q3 + cut, rng)
    garbage = b"\x16\x03\x01\x02\x00\x01\x00\xfc\x03\x03junk\r\nnot http\r\n"
    r1b = http_text(rng, 500)
    r1 = h.message(S, http_head("HTTP/1.1 200 OK", [("Content-Type", "text/plain"),
                                                    ("Content-Length", str(len(r1b)))]),
                   r1b, r1b, ext="txt")
    r2 = h.message(S, http_head("HTTP/1.1 200 OK", [("Transfer-Encoding", "chunked")]),
                   b"zz\r\nhello\r\n0\r\n\r\n")
    r3b = http_text(rng, 300)
    r3 = h.message(S, http_head("HTTP/1.1 200 OK", [("Content-Type", "text/plain"),
                                                    ("Content-Length", str(len(r3b)))]),
                   r3b, r3b, ext="txt")
    r4 = h.message(S, http_head("HTTP/1.1 200 OK", [("Transfer-Encoding", "chunked")]),
                   b"10000000000000000\r\nhello\r\n0\r\n\r\n")
    r5b = http_text(rng, 200)
    r5 = h.message(S, http_head("HTTP/1.1 200 OK", [("Content-Type", "text/plain"),
                                                    ("Content-Length", str(len(r5b)))]),
                   r5b, r5b, ext="txt")
    pk += c.send(S, garbage + r1 + r2 + r3 + r4 + r5, rng)
    pk += c.close(first=C)
    e.errors += [(c.name(S), 3), (c.name(C), 2)]
    e.conn(c)
    http_case_write(outdir, "http-malformed", pk, e)


@case
def http_upgrade(outdir):
    """Three connections: a WebSocket upgrade (101; what follows, HTTP-like
    text included, is not HTTP), an h2c upgrade the server refuses (200:
    HTTP goes on, the next request is parsed), a CONNECT tunnel (2xx; the
    tunnelled bytes are not HTTP)."""
    rng = random.Random(306)
    e = HttpExpect("http-upgrade", "http-upgrade.pcap",
                   "WebSocket upgrade, refused h2c upgrade, CONNECT tunnel")
    pk = []
    fake = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    fake_req = b"GET /inside HTTP/1.1\r\nHost: x\r\n\r\n"
    # 1. WebSocket: 101, then frames that carry HTTP-looking text
    c = Conn(V4C, 46001, V4S, 80, 8100000, 8200000)
    h = HttpModel(c, e)
    pk += c.handshake()
    pk += c.send(C, h.message(C, http_head("GET /chat HTTP/1.1", [
        ("Host", "example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]),
        meta={"url": "/chat"}), rng)
    pk += c.send(S, h.message(S, http_head("HTTP/1.1 101 Switching Protocols", [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]),
        meta={"status": "101", "url": "/chat"}), rng)
    pk += c.send(C, b"\x81\x9c" + fake_req[:28], rng)
    pk += c.send(S, b"\x81" + bytes([len(fake)]) + fake, rng)
    pk += c.close()
    e.conn(c)
    # 2. h2c asked for, refused: the server answers HTTP/1.1, the client goes on
    c = Conn(V4C, 46002, V4S, 80, 8300000, 8400000)
    h = HttpModel(c, e)
    pk += c.handshake()
    pk += c.send(C, h.message(C, http_head("GET /one HTTP/1.1", [
        ("Host", "example.com"), ("Upgrade", "h2c"), ("Connection", "Upgrade, HTTP2-Settings"),
        ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")]), meta={"url": "/one"}), rng)
    one = http_text(rng, 700)
    pk += c.send(S, h.message(S, http_head("HTTP/1.1 200 OK", [
        ("Content-Type", "text/plain"), ("Content-Length", str(len(one)))]), one, one, ext="txt",
        meta={"url": "/one"}), rng)
    pk += c.send(C, h.message(C, http_head("GET /two HTTP/1.1", [("Host", "example.com")]),
                              meta={"url": "/two"}), rng)
    two = http_text(rng, 400)
    pk += c.send(S, h.message(S, http_head("HTTP/1.1 200 OK", [
        ("Content-Type", "text/plain"), ("Content-Length", str(len(two)))]), two, two, ext="txt",
        meta={"url": "/two"}), rng)
    pk += c.close(first=C)
    e.conn(c)
    # 3. CONNECT: 200, then a tunnel whose bytes look like HTTP
    c = Conn(V4C, 46003, V4S, 3128, 8500000, 8600000)
    h = HttpModel(c, e)
    pk += c.handshake()
    pk += c.send(C, h.message(C, http_head("CONNECT example.com:443 HTTP/1.1", [
        ("Host", "example.com:443")]), meta={"method": "CONNECT"}), rng)
    pk += c.send(S, h.message(S, http_head("HTTP/1.1 200 Connection established", []),
                              meta={"method": "CONNECT"}), rng)
    pk += c.send(C, b"\x16\x03\x01\x00\x05hello" + fake_req, rng)
    pk += c.send(S, b"\x16\x03\x03\x00\x02hi" + fake, rng)
    pk += c.close()
    e.conn(c)
    http_case_write(outdir, "http-upgrade", pk, e)


def linktype_user0(outdir):
    """Not a case (no .expect): DLT 147 (USER0), a link type tcpflow does
    not decode; each frame is a 4-byte header then an IPv4/TCP packet."""
    rng = random.Random(24)
    c, pk = simple_http_conn(rng, V4C, 1122, V4S, 80, 1, 2, req_extra=100, resp_size=500)
    blob = pcap_bytes(build_frames(pk, lambda p, b: b"\xde\xad\xbe\xef" + b), 147)[0]
    with open(os.path.join(outdir, "unknown-linktype.pcap"), "wb") as f:
        f.write(blob)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    os.makedirs(outdir, exist_ok=True)
    for fn in CASES:
        fn(outdir)
    linktype_user0(outdir)
    total = 0
    for f in sorted(os.listdir(outdir)):
        p = os.path.join(outdir, f)
        sz = os.path.getsize(p)
        total += sz
        if not f.endswith(".expect") and f != "README.md":
            assert sz < 100 * 1024, (f, sz)
    assert total < 1024 * 1024, total
    print("wrote %d cases to %s (%d bytes)" % (len(CASES), outdir, total))


if __name__ == "__main__":
    main()
