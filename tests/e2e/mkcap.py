#!/usr/bin/env python3
"""Captures for the end-to-end tests, made at run time (standard library only).

Deterministic: the same arguments give the same bytes. Ethernet + IPv4 + TCP
(checksums left 0: tcpflow does not check them, tshark does not by default).

    mkcap.py concurrent N OUT.pcap OUT.expect
        N connections open at once: every SYN first, then rounds of data in
        both directions interleaved across all connections, then every FIN.
        OUT.expect gets "flow NAME MD5 LENGTH" lines (tests/data/README.md).
    mkcap.py mixed OUT.pcap
        one TCP connection with ARP, UDP and ICMP packets in between; prints
        the number of packets that are not TCP.
    mkcap.py idle OUT.pcap OUT.expect GAP
        one connection that sends a request, stays silent GAP seconds, then
        sends another request and closes (for -S tcp_timeout).
    mkcap.py oneway OUT.pcap OUT.expect
        an upload: the client sends data, the server only acknowledges.
    mkcap.py big OUT.pcap MEGABYTES
        one long download of at least MEGABYTES * 10^6 bytes of capture.
    mkcap.py download OUT.pcap CONNS SEGMENTS [drop K | late K | http]
        CONNS downloads at once of SEGMENTS full segments each, taking turns
        segment by segment, every segment with its own bytes; segment K
        (from 0) of the first one left out, or sent after all the others;
        with http, each response starts with an HTTP header (no length).
    mkcap.py gzipped OUT.pcap KIB
        one HTTP exchange whose response body is KIB KiB of text, gzip'd
        (a few KB on the wire); prints the MD5 of the decoded body.
"""
import gzip
import hashlib
import struct
import sys

T0 = 1700000000
CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")
SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10


class Pcap:
    def __init__(self, path, linktype=1):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        self.usec = 0

    def frame(self, data, usec_step=100):
        self.usec += usec_step
        sec, usec = divmod(self.usec, 1000000)
        self.f.write(struct.pack("<IIII", T0 + sec, usec, len(data), len(data)))
        self.f.write(data)

    def close(self):
        self.f.close()


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def eth(src, dst, ethertype, payload):
    return dst + src + struct.pack(">H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=0):
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000,
                      64, proto, 0, ip4(src), ip4(dst))
    return hdr + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    hdr = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65535, 0, 0)
    return hdr + payload


class Conn:
    """One TCP connection; pkt() returns whole Ethernet frames."""

    def __init__(self, cip, cport, sip, sport, cisn, sisn):
        self.cip, self.cport, self.sip, self.sport = cip, cport, sip, sport
        self.cseq, self.sseq = cisn, sisn
        self.sent = [bytearray(), bytearray()]

    def pkt(self, from_client, flags, payload=b""):
        if from_client:
            seg = tcp(self.cport, self.sport, self.cseq, self.sseq, flags, payload)
            frame = eth(CLIENT_MAC, SERVER_MAC, 0x0800, ipv4(self.cip, self.sip, 6, seg))
            self.cseq += len(payload) + (1 if flags & (SYN | FIN) else 0)
            self.sent[0] += payload
        else:
            seg = tcp(self.sport, self.cport, self.sseq, self.cseq, flags, payload)
            frame = eth(SERVER_MAC, CLIENT_MAC, 0x0800, ipv4(self.sip, self.cip, 6, seg))
            self.sseq += len(payload) + (1 if flags & (SYN | FIN) else 0)
            self.sent[1] += payload
        return frame

    def handshake(self, cap):
        cap.frame(self.pkt(True, SYN))
        cap.frame(self.pkt(False, SYN | ACK))
        cap.frame(self.pkt(True, ACK))

    def client_close(self, cap):
        cap.frame(self.pkt(True, FIN | ACK))
        cap.frame(self.pkt(False, FIN | ACK))
        cap.frame(self.pkt(True, ACK))

    def names(self):
        def a(ip):
            return ".".join("%03d" % int(o) for o in ip.split("."))
        c = "%s.%05d" % (a(self.cip), self.cport)
        s = "%s.%05d" % (a(self.sip), self.sport)
        return c + "-" + s, s + "-" + c


def payload(seed, n):
    """n deterministic bytes (all values 0..255)."""
    out = bytearray()
    block = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d:%d" % (seed, block)).digest()
        block += 1
    return bytes(out[:n])


def write_expect(path, conns, extra=""):
    with open(path, "w") as f:
        f.write("# made by tests/e2e/mkcap.py\n" + extra)
        for c in conns:
            for name, data in zip(c.names(), c.sent):
                if data:
                    f.write("flow %s %s %d\n" % (name, hashlib.md5(data).hexdigest(), len(data)))


def concurrent(n, out, exp):
    cap = Pcap(out)
    conns = []
    for i in range(n):
        cip = "10.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250, 1 + i % 250)
        conns.append(Conn(cip, 20000 + i % 40000, "192.168.7.1", 80, 1000 + 7 * i, 500000 + 11 * i))
    for c in conns:
        cap.frame(c.pkt(True, SYN), 7)
    for c in conns:
        cap.frame(c.pkt(False, SYN | ACK), 7)
    for c in conns:
        cap.frame(c.pkt(True, ACK), 7)
    # three rounds: a request piece from each client, a response piece from each server
    for rnd in range(3):
        for i, c in enumerate(conns):
            cap.frame(c.pkt(True, PSH | ACK, payload(i * 10 + rnd, 40 + (i * 13 + rnd) % 300)), 7)
        for i, c in enumerate(conns):
            cap.frame(c.pkt(False, PSH | ACK, payload(10**7 + i * 10 + rnd, 200 + (i * 31 + rnd) % 1200)), 7)
    for c in conns:
        cap.frame(c.pkt(True, FIN | ACK), 7)
        cap.frame(c.pkt(False, FIN | ACK), 7)
        cap.frame(c.pkt(True, ACK), 7)
    cap.close()
    write_expect(exp, conns)


def mixed(out):
    cap = Pcap(out)
    c = Conn("192.168.1.2", 4321, "10.0.0.1", 80, 100, 9000)
    other = 0

    def udp(n):
        body = payload(n, 30)
        seg = struct.pack(">HHHH", 5353, 53, 8 + len(body), 0) + body
        return eth(CLIENT_MAC, SERVER_MAC, 0x0800, ipv4("192.168.1.2", "10.0.0.53", 17, seg))

    def arp():
        body = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, CLIENT_MAC, ip4("192.168.1.2"),
                           b"\0" * 6, ip4("10.0.0.1"))
        return eth(CLIENT_MAC, b"\xff" * 6, 0x0806, body)

    def icmp():
        body = struct.pack(">BBHHH", 8, 0, 0, 1, 1) + b"ping" * 8
        return eth(CLIENT_MAC, SERVER_MAC, 0x0800, ipv4("192.168.1.2", "10.0.0.1", 1, body))

    cap.frame(arp()); other += 1
    cap.frame(c.pkt(True, SYN))
    cap.frame(c.pkt(False, SYN | ACK))
    cap.frame(udp(1)); other += 1
    cap.frame(c.pkt(True, ACK))
    cap.frame(c.pkt(True, PSH | ACK, b"GET / HTTP/1.0\r\n\r\n"))
    cap.frame(icmp()); other += 1
    cap.frame(c.pkt(False, PSH | ACK, b"HTTP/1.0 200 OK\r\n\r\nhello"))
    cap.frame(udp(2)); other += 1
    cap.frame(c.pkt(False, FIN | ACK))
    cap.frame(c.pkt(True, FIN | ACK))
    cap.frame(c.pkt(False, ACK))
    cap.close()
    print(other)


def idle(out, exp, gap):
    cap = Pcap(out)
    c = Conn("192.168.1.2", 5000, "10.0.0.1", 80, 100, 9000)
    c.handshake(cap)
    cap.frame(c.pkt(True, PSH | ACK, b"first request\n"))
    cap.frame(c.pkt(False, PSH | ACK, b"first answer\n"))
    first = [bytes(c.sent[0]), bytes(c.sent[1])]
    cap.frame(c.pkt(True, PSH | ACK, b"second request\n"), int(gap) * 1000000)
    cap.frame(c.pkt(False, PSH | ACK, b"second answer\n"))
    c.client_close(cap)
    cap.close()
    names = c.names()
    with open(exp, "w") as f:
        f.write("# made by tests/e2e/mkcap.py idle: with tcp_timeout < GAP the connection\n"
                "# is closed in the silence; the rest is a new flow (counter c0001)\n")
        for name, a, b in zip(names, first, c.sent):
            f.write("flow %s %s %d\n" % (name, hashlib.md5(a).hexdigest(), len(a)))
            rest = b[len(a):]
            f.write("flow %sc0001 %s %d\n" % (name, hashlib.md5(rest).hexdigest(), len(rest)))


def oneway(out, exp):
    cap = Pcap(out)
    c = Conn("192.168.1.2", 7000, "10.0.0.1", 21, 100, 9000)
    c.handshake(cap)
    for i in range(5):
        cap.frame(c.pkt(True, PSH | ACK, payload(i, 700)))
        cap.frame(c.pkt(False, ACK))
    c.client_close(cap)
    cap.close()
    write_expect(exp, [c])


def big(out, megabytes):
    cap = Pcap(out)
    c = Conn("192.168.1.2", 6000, "10.0.0.1", 80, 100, 9000)
    c.handshake(cap)
    cap.frame(c.pkt(True, PSH | ACK, b"GET /big HTTP/1.0\r\n\r\n"))
    chunk = payload(42, 1460)
    target = int(float(megabytes) * 1000000)
    written = 24
    while written < target:
        frame = c.pkt(False, ACK, chunk)
        cap.frame(frame, 10)
        written += 16 + len(frame)
    cap.frame(c.pkt(False, FIN | ACK))
    cap.frame(c.pkt(True, FIN | ACK))
    cap.close()


def download(out, nconns, segments, edit=None, k=-1):
    cap = Pcap(out)
    conns = [Conn("192.168.1.%d" % (3 + j), 6001 + j, "10.0.0.1", 80, 100 + j, 9000 + j)
             for j in range(nconns)]
    for c in conns:
        cap.frame(c.pkt(True, SYN))
        cap.frame(c.pkt(False, SYN | ACK))
        cap.frame(c.pkt(True, ACK))
        cap.frame(c.pkt(True, PSH | ACK, b"GET /download HTTP/1.0\r\n\r\n"))
    held = None
    for i in range(segments):
        for j, c in enumerate(conns):
            data = payload(1000 * j + i, 1460)
            if i == 0 and edit == "http":
                # a response without a length: its body runs to the close
                head = b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n"
                data = head + data[len(head):]
            frame = c.pkt(False, ACK, data)
            if j == 0 and i == k and edit in ("drop", "late"):
                held = frame if edit == "late" else None
                continue
            cap.frame(frame, 10)
    if held:
        cap.frame(held, 10)
    for c in conns:
        cap.frame(c.pkt(False, FIN | ACK))
        cap.frame(c.pkt(True, FIN | ACK))
    cap.close()


def gzipped(out, kib):
    text = b"".join(b"line %d of a text that compresses well\n" % i for i in range(kib * 30))
    text = text[:kib * 1024]
    body = gzip.compress(text, mtime=0)
    cap = Pcap(out)
    c = Conn("192.168.1.2", 7100, "10.0.0.1", 80, 100, 9000)
    c.handshake(cap)
    cap.frame(c.pkt(True, PSH | ACK, b"GET /t HTTP/1.1\r\nHost: x\r\n\r\n"))
    resp = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body
    for i in range(0, len(resp), 1448):
        cap.frame(c.pkt(False, PSH | ACK, resp[i:i + 1448]))
    c.client_close(cap)
    cap.close()
    print(hashlib.md5(text).hexdigest())


def main(argv):
    if len(argv) >= 5 and argv[1] == "concurrent":
        concurrent(int(argv[2]), argv[3], argv[4])
    elif len(argv) >= 3 and argv[1] == "mixed":
        mixed(argv[2])
    elif len(argv) >= 5 and argv[1] == "idle":
        idle(argv[2], argv[3], argv[4])
    elif len(argv) >= 4 and argv[1] == "oneway":
        oneway(argv[2], argv[3])
    elif len(argv) >= 4 and argv[1] == "gzipped":
        gzipped(argv[2], int(argv[3]))
    elif len(argv) >= 4 and argv[1] == "big":
        big(argv[2], argv[3])
    elif len(argv) in (5, 6, 7) and argv[1] == "download":
        download(argv[2], int(argv[3]), int(argv[4]),
                 *(argv[5], int(argv[6])) if len(argv) == 7 else argv[5:6])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
