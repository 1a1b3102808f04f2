#!/usr/bin/env python3
"""Generate the two large HTTP captures of tests/e2e/http.sh at test time
(too big to keep in tests/data), with their expectations.

    gen_http_big.py OUTDIR

writes into OUTDIR (standard library only, deterministic):

  big.pcap, big.expect    one HTTP/1.1 exchange whose response body is a
                          10 MiB gzip stream (of 10 MiB of seeded random
                          bytes) sent chunked: the http scanner must write
                          the gzip stream, the gzip scanner the original
  bomb.pcap, bomb.expect  a response whose gzip body (about 250 KiB) expands
                          to 256 MiB of zeros: decoding must stop early

The .expect files use the format of tests/data/README.md (flow, http, gzip
lines; see tests/gen_captures.py).
"""

import gzip
import hashlib
import os
import random
import struct
import sys
import zlib

BASE_TS = 1700000000
MSS = 1460
CLI, SRV = bytes([192, 168, 1, 2]), bytes([10, 0, 0, 1])
CPORT, SPORT = 47000, 80


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Capture:
    def __init__(self):
        self.frames = []

    def packet(self, src, dst, sp, dp, seq, ack, flags, data=b""):
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          0x50, flags, 65535, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(data))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + data)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(data),
                         len(self.frames) & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        mac_c, mac_s = b"\x02\0\0\0\0\x01", b"\x02\0\0\0\0\x02"
        eth = (mac_s + mac_c if src == CLI else mac_c + mac_s) + b"\x08\x00"
        t = len(self.frames) * 20   # microseconds
        self.frames.append(struct.pack("<IIII", BASE_TS + t // 1000000, t % 1000000,
                                       14 + len(ip) + len(tcp) + len(data),
                                       14 + len(ip) + len(tcp) + len(data)))
        self.frames.append(eth + ip + tcp + data)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            f.writelines(self.frames)


def exchange(request, response):
    """A whole connection: handshake, request, response, FIN both ways."""
    cap = Capture()
    cs, ss = 1000, 50000
    cap.packet(CLI, SRV, CPORT, SPORT, cs, 0, 0x02)
    cap.packet(SRV, CLI, SPORT, CPORT, ss, cs + 1, 0x12)
    cs += 1
    ss += 1
    cap.packet(CLI, SRV, CPORT, SPORT, cs, ss, 0x10)
    cap.packet(CLI, SRV, CPORT, SPORT, cs, ss, 0x18, request)
    cs += len(request)
    for off in range(0, len(response), MSS):
        cap.packet(SRV, CLI, SPORT, CPORT, ss + off, cs, 0x18, response[off:off + MSS])
        if (off // MSS) % 8 == 7:
            cap.packet(CLI, SRV, CPORT, SPORT, cs, ss + off + MSS, 0x10)
    ss += len(response)
    cap.packet(SRV, CLI, SPORT, CPORT, ss, cs, 0x11)
    cap.packet(CLI, SRV, CPORT, SPORT, cs, ss + 1, 0x11)
    cap.packet(SRV, CLI, SPORT, CPORT, ss + 1, cs + 1, 0x10)
    return cap


def name(src, sport, dst, dport):
    return "%s.%05d-%s.%05d" % (".".join("%03d" % b for b in src), sport,
                                ".".join("%03d" % b for b in dst), dport)


def line(kind, nm, data):
    return "%s %s %s %d\n" % (kind, nm, hashlib.md5(data).hexdigest(), len(data))


def chunked(data, size):
    out = [b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
           for i in range(0, len(data), size)]
    return b"".join(out) + b"0\r\n\r\n"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cname = name(CLI, CPORT, SRV, SPORT)
    sname = name(SRV, SPORT, CLI, CPORT)

    # 10 MiB of random bytes, gzip-encoded (about 10 MiB), sent chunked
    original = random.Random(7).randbytes(10 << 20)
    body = gzip.compress(original, compresslevel=1, mtime=0)
    req = b"GET /big.bin HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip\r\n\r\n"
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
    resp = head + chunked(body, 32768)
    exchange(req, resp).write(os.path.join(out, "big.pcap"))
    with open(os.path.join(out, "big.expect"), "w") as f:
        f.write("# tests/gen_http_big.py: a 10 MiB gzip body, chunked\ncapture big.pcap\n")
        f.write(line("flow", cname, req) + line("flow", sname, resp))
        f.write(line("http", cname + "-HTTP", req))
        f.write(line("http", sname + "-HTTP", head))
        f.write(line("http", sname + "-HTTPBODY", body))
        f.write(line("gzip", sname + "-HTTPBODY-GZIP", original))

    # a decompression bomb: 256 MiB of zeros in about 250 KiB
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    bomb = b"".join(co.compress(zeros) for _ in range(256)) + co.flush()
    req = b"GET /bomb HTTP/1.1\r\nHost: example.com\r\n\r\n"
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb))
    exchange(req, head + bomb).write(os.path.join(out, "bomb.pcap"))
    with open(os.path.join(out, "bomb.expect"), "w") as f:
        f.write("# tests/gen_http_big.py: a gzip body expanding to 256 MiB of zeros\n")
        f.write("capture bomb.pcap\n")
        f.write(line("http", sname + "-HTTPBODY", bomb))
        f.write("bomb %s-HTTPBODY-GZIP %d\n" % (sname, 256 << 20))


if __name__ == "__main__":
    main()
