#!/usr/bin/env python3
"""Checks for tests/e2e/http.sh: the objects of the http and gzip scanners.

Every check prints one line, "ok: WHAT" or "FAIL: WHAT|EXPECTED|GOT", which
http.sh turns into its ok/fail records. Only the standard library is used.

    httpcheck.py objects EXPECT OUTDIR MODE
        MODE default: the `http` objects (and `gzip` ones when the run had
        -S gzip: MODE gzip) exist with their MD5 and size, the `httpmeta`,
        `httpgap` and `httperrors` lines hold in OUTDIR/report.xml, and the
        output directory has nothing else but the flows (EXPECT's `flow`
        lines) and report.xml.
        MODE 16: the `http16` bodies exist and are the only files besides the
        flows. MODE 16Z (-Z): the same names, holding the bodies as sent
        (the `http` body of the same message).
    httpcheck.py report OUTDIR
        Every derived object of the report: its <hashdigest type='MD5'> is
        md5sum of its file; its <byte_runs> give bytes equal to the parent
        flow file's at file_offset; its <gaps> are zeros; runs and gaps
        together cover every byte of it (when it has runs).
    httpcheck.py tshark CAPTURE OUTDIR [HOLES]
        Every non-empty object tshark exports (--export-objects http, bodies
        decoded as Wireshark does) is found by MD5 among OUTDIR's body files
        (X-HTTPBODY*, decoded ones included). Objects tshark decoded from a
        coding tcpflow passes through (br) are listed, not failed. When the
        capture lost segments (HOLES > 0), tshark exports the pieces of a
        body cut by a hole as objects of their own: such a piece passes when
        its bytes are part of one of tcpflow's bodies, or of a flow file when
        the hole took its message's header block (tcpflow then skips to the
        next message it can find: the bytes are in the flow file only).
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

FAILS = 0


def ok(what):
    print("ok: " + what)


def fail(what, expected, got):
    global FAILS
    FAILS += 1
    print("FAIL: %s|%s|%s" % (what, expected, got))


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def local(tag):
    return tag.rsplit("}", 1)[-1]


def children(e, name):
    return [c for c in e if local(c.tag) == name]


def read_expect(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            recs.append(line.split(" "))
    return recs


def fileobjects(report):
    """name (basename) -> fileobject element, for every fileobject with a filename."""
    out = {}
    root = ET.parse(report).getroot()
    for fo in root.iter():
        if local(fo.tag) != "fileobject":
            continue
        fn = children(fo, "filename")
        if fn and fn[0].text:
            out[os.path.basename(fn[0].text)] = fo
    return root, out


def meta_of(fo):
    d = {}
    for der in children(fo, "derived"):
        for m in children(der, "meta"):
            d[m.get("name")] = m.get("value")
    return d


def cmd_objects(expect, outdir, mode):
    recs = read_expect(expect)
    case = os.path.basename(expect)[:-len(".expect")]
    flows = {r[1] for r in recs if r[0] == "flow"}
    kinds = {"default": ("http",), "gzip": ("http", "gzip"), "16": ("http16",),
             "16Z": ("http16",)}[mode]
    want = {r[1]: (r[2], int(r[3])) for r in recs if r[0] in kinds}
    if mode == "16Z":
        # -Z: 1.6 names, the bodies as sent (the default name of message n)
        sent = {r[1]: (r[2], int(r[3])) for r in recs if r[0] == "http"}
        for name in list(want):
            m = re.match(r"(.*)-HTTPBODY-(\d{3,})(\.[A-Za-z0-9]+)?$", name)
            n = int(m.group(2))
            default = m.group(1) + ("-HTTPBODY" if n == 1 else "-HTTPBODY-%03d" % n)
            if default in sent:
                want[name] = sent[default]
    bad = 0
    for name, (md5, size) in sorted(want.items()):
        path = os.path.join(outdir, name)
        if not os.path.isfile(path):
            fail("%s %s: %s exists" % (case, mode, name), "%d bytes, md5 %s" % (size, md5), "missing")
            bad += 1
            continue
        got, gotsize = md5_file(path), os.path.getsize(path)
        if got != md5 or gotsize != size:
            fail("%s %s: content of %s" % (case, mode, name), "%d bytes, md5 %s" % (size, md5),
                 "%d bytes, md5 %s" % (gotsize, got))
            bad += 1
    extra = sorted(set(os.listdir(outdir)) - set(want) - flows - {"report.xml"})
    if extra:
        fail("%s %s: no other files" % (case, mode), "%d objects and %d flows" % (len(want), len(flows)),
             "also " + " ".join(extra[:6]))
        bad += 1
    if not bad:
        ok("%s %s: all %d objects with the original bytes, nothing else" % (case, mode, len(want)))
    if mode not in ("default", "gzip"):
        return
    report = os.path.join(outdir, "report.xml")
    _, fos = fileobjects(report)
    for r in recs:
        if r[0] == "httpmeta":
            name, key, value = r[1], r[2], " ".join(r[3:])
            got = meta_of(fos[name]).get(key) if name in fos else None
            if got == value:
                ok("%s: %s has %s=%s" % (case, name, key, value))
            else:
                fail("%s: metadata %s of %s" % (case, key, name), value, repr(got))
        elif r[0] == "httpgap":
            name, off, ln = r[1], r[2], r[3]
            gaps = []
            if name in fos:
                for g in children(fos[name], "gaps"):
                    gaps += [(x.get("offset"), x.get("len")) for x in children(g, "gap")]
            if (off, ln) in gaps:
                ok("%s: %s records the missing bytes %s+%s" % (case, name, off, ln))
            else:
                fail("%s: gap of %s" % (case, name), "<gap offset='%s' len='%s'/>" % (off, ln),
                     repr(gaps))
        elif r[0] == "httperrors":
            name, least = r[1], int(r[2])
            got = None
            if name in fos:
                h = children(fos[name], "http")
                got = int(h[0].get("errors", "0")) if h else None
            if got is not None and got >= least:
                ok("%s: %s reports %d errors (at least %d)" % (case, name, got, least))
            else:
                fail("%s: errors reported for %s" % (case, name), ">= %d" % least, repr(got))


def cmd_report(outdir):
    report = os.path.join(outdir, "report.xml")
    root, fos = fileobjects(report)
    n = bad = 0
    for name, fo in sorted(fos.items()):
        der = children(fo, "derived")
        if not der:
            continue
        n += 1
        path = os.path.join(outdir, name)
        if not os.path.isfile(path):
            fail("object %s: its file exists" % name, "a file", "missing")
            bad += 1
            continue
        data = open(path, "rb").read()
        size = int(children(fo, "filesize")[0].text)
        digests = [h.text for h in children(fo, "hashdigest") if h.get("type") == "MD5"]
        if size != len(data):
            fail("object %s: <filesize>" % name, str(len(data)), str(size))
            bad += 1
        if digests and digests[0] != hashlib.md5(data).hexdigest():
            fail("object %s: MD5 in the report" % name, hashlib.md5(data).hexdigest(), digests[0])
            bad += 1
        runs = [(int(r.get("offset")), int(r.get("file_offset")), int(r.get("len")))
                for br in children(fo, "byte_runs") for r in children(br, "byte_run")]
        gaps = [(int(g.get("offset")), int(g.get("len")))
                for gs in children(fo, "gaps") for g in children(gs, "gap")]
        parent = os.path.basename(der[0].get("parent", ""))
        if runs:
            ppath = os.path.join(outdir, parent)
            pdata = open(ppath, "rb").read() if os.path.isfile(ppath) else b""
            covered = 0
            for off, foff, ln in runs:
                if data[off:off + ln] != pdata[foff:foff + ln]:
                    fail("object %s: byte run %d+%d" % (name, off, ln),
                         "the bytes of %s at %d" % (parent, foff), "different bytes")
                    bad += 1
                    break
                covered += ln
            for off, ln in gaps:
                if data[off:off + ln] != bytes(ln):
                    fail("object %s: gap %d+%d" % (name, off, ln), "zeros", "other bytes")
                    bad += 1
                covered += ln
            if covered != len(data):
                fail("object %s: runs and gaps cover it" % name, str(len(data)), str(covered))
                bad += 1
    if n and not bad:
        ok("%s: %d derived objects: sizes, MD5s, byte runs and gaps agree with the files"
           % (os.path.basename(outdir), n))
    elif not n:
        fail("%s: derived objects in the report" % os.path.basename(outdir), "some", "none")


def cmd_tshark(capture, outdir, holes):
    if not shutil.which("tshark"):
        print("note: tshark not found: comparison skipped")
        return
    ours = set()
    bodies, flows = [], []
    for name in os.listdir(outdir):
        if "-HTTPBODY" in name:
            ours.add(md5_file(os.path.join(outdir, name)))
            if holes:
                bodies.append(open(os.path.join(outdir, name), "rb").read())
        elif holes and "-HTTP" not in name and name != "report.xml":
            flows.append(open(os.path.join(outdir, name), "rb").read())
    tmp = tempfile.mkdtemp()
    try:
        subprocess.run(["tshark", "-n", "-r", capture, "--export-objects", "http," + tmp, "-q"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Content-Encoding values tshark saw: br bodies are passed through by tcpflow
        enc = subprocess.run(["tshark", "-n", "-r", capture, "-Y", "http.content_encoding",
                              "-T", "fields", "-e", "http.content_encoding"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True).stdout.split()
        passthrough = sum(1 for v in enc if v.strip(",").lower() not in
                          ("gzip", "x-gzip", "deflate", "identity"))
        total = found = pieces = headless = 0
        missing = []
        for f in sorted(os.listdir(tmp)):
            data = open(os.path.join(tmp, f), "rb").read()
            if not data:
                continue
            total += 1
            if hashlib.md5(data).hexdigest() in ours:
                found += 1
            elif holes and any(data in b for b in bodies):
                pieces += 1
            elif holes and any(data in f for f in flows):
                headless += 1
            else:
                missing.append("%s (%d bytes)" % (f, len(data)))
        cap = os.path.basename(capture)
        if len(missing) <= passthrough:
            ok("%s: %d of %d objects tshark exports are among tcpflow's bodies, by MD5%s%s%s"
               % (cap, found, total,
                  " (%d pieces of bodies cut by holes are parts of tcpflow's)" % pieces
                  if pieces else "",
                  " (%d pieces of messages whose header block a hole took are in the flow "
                  "files)" % headless if headless else "",
                  " (%d in an encoding tcpflow keeps: %s)" % (len(missing), ", ".join(missing))
                  if missing else ""))
        else:
            fail("%s: tshark's objects among tcpflow's bodies" % cap, "%d of %d" % (total, total),
                 "%d; missing %s" % (found, ", ".join(missing[:5])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    cmd = sys.argv[1]
    if cmd == "objects":
        cmd_objects(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "report":
        cmd_report(sys.argv[2])
    elif cmd == "tshark":
        cmd_tshark(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        sys.exit("usage: httpcheck.py objects|report|tshark ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
