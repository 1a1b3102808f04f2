#!/usr/bin/env python3
"""Write the seed inputs of the scanner fuzz targets (deterministic; run it
again after changing an input format, then commit the files):

    python3 tests/fuzz/make_seeds.py        # rewrites tests/fuzz/http/ and tests/fuzz/gzip/

http/*: the format of fuzz_http.c: an options byte, the request direction's
length (2 bytes, big-endian), the request direction, the response
direction. The streams are hand-written HTTP exercising keep-alive,
pipelining, chunked bodies, HEAD, 1xx, upgrades, gzip, and damage.
gzip/*: the format of fuzz_gzip.c: a coding byte, a caps byte, the body.
"""

import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def chunked(data, size):
    out = b""
    for i in range(0, len(data), size):
        out += b"%x\r\n" % len(data[i:i + size]) + data[i:i + size] + b"\r\n"
    return out + b"0\r\n\r\n"


def http_seed(opt, req, resp):
    return bytes([opt]) + struct.pack(">H", len(req)) + req + resp


def main():
    text = b"".join(b"line %d of a text body that compresses well\n" % i for i in range(200))
    gz = gzip.compress(text, mtime=0)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = co.compress(text) + co.flush()
    get = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
    seeds = {
        "keepalive": http_seed(0, get + b"HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n" + get,
                               b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                               b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
                               b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                               chunked(text[:300], 77)),
        "gzip16": http_seed(1, get + get,
                            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                            b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(gz) + gz +
                            b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n" + chunked(raw, 100)),
        "upload": http_seed(4, b"POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                            b"Content-Length: 300\r\n\r\n" + text[:300] +
                            b"PUT /v HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                            chunked(text[:500], 128),
                            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                            b"Content-Length: 0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"),
        "upgrade": http_seed(0, b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\n\r\n\x81\x05hello",
                             b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\n\r\n\x81\x02hi"),
        "refused": http_seed(0, b"GET /x HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n" +
                             get, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"
                             b"Content-Length: 3\r\n\r\nyes"),
        "connect": http_seed(0, b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n\x16\x03\x01",
                             b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03"),
        "damaged": http_seed(2, b"GET /1 HTTP/1.1\r\nHost h\r\n\r\n" + get + b"GET /cut HTTP/1.1\r\nHo",
                             b"\x16\x03\x01junk\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                             b"\r\nzz\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"10000000000000000\r\nHTTP/1.0 200 OK\r\n\r\nuntil the end"),
    }
    os.makedirs(os.path.join(HERE, "http"), exist_ok=True)
    for name, blob in seeds.items():
        with open(os.path.join(HERE, "http", name), "wb") as f:
            f.write(blob)
    zl = zlib.compress(text, 9)
    two = gzip.compress(text[:100], mtime=0) + gzip.compress(text[100:], mtime=0)
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = bomb.compress(bytes(1 << 20)) + bomb.flush()
    gseeds = {
        "gzip": bytes([0, 0]) + gz,
        "zlib": bytes([2, 0]) + zl,
        "raw": bytes([2, 0x0a]) + raw,
        "members": bytes([1, 0x05]) + two + b"trailing",
        "double": bytes([3, 0]) + gzip.compress(gz, mtime=0),
        "truncated": bytes([0, 0x0f]) + gz[: len(gz) // 2],
        "bomb": bytes([0, 0x09]) + bomb,
    }
    os.makedirs(os.path.join(HERE, "gzip"), exist_ok=True)
    for name, blob in gseeds.items():
        with open(os.path.join(HERE, "gzip", name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
