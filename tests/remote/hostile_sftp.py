#!/usr/bin/env python3
"""hostile_sftp.py: an SFTP version 3 server that lies, for tests/remote/hostile.t.

Speaks the protocol (draft-ietf-secsh-filexfer-02) on stdin/stdout, so sshd
runs it as "Subsystem sftp /usr/bin/python3 hostile_sftp.py LOG". Serves an
in-memory tree at /srv/tree whose listing holds names a client must refuse
("../evil", "a/b", "..", names with ESC, newline, NUL, an empty name, an
absolute path), files and a directory with set-id and sticky bits, and a
symbolic link to a "secret" outside the tree. Every path a client asks for is
appended to LOG, one repr() a line, so a test can see what the client tried.
Read-only; stdlib only; never touches the file system except LOG.
"""
import os
import posixpath
import struct
import sys

S_IFREG, S_IFDIR, S_IFLNK = 0o100000, 0o040000, 0o120000

# name -> (mode, content or None for a directory, link target for a link)
TREE = "/srv/tree"
ENTRIES = [
    ("../evil", S_IFREG | 0o644, b"os.execute('touch PWNED-dotdot')\n"),
    ("good.txt", S_IFREG | 0o644, b"good\n"),
    ("suid", S_IFREG | 0o4755, b"#!/bin/sh\necho set-uid\n"),
    ("sgid-sticky", S_IFREG | 0o3644, b"sgid and sticky\n"),
    ("sub", S_IFDIR | 0o1777, None),
    ("../../evil2", S_IFREG | 0o644, b"PWNED-dotdot2\n"),
    ("a/b", S_IFREG | 0o644, b"PWNED-slash\n"),
    ("/tmp/abs-evil", S_IFREG | 0o644, b"PWNED-absolute\n"),
    ("..", S_IFREG | 0o644, b"PWNED-dotdot-file\n"),
    (".", S_IFDIR | 0o755, None),
    ("esc\x1b[31mred", S_IFREG | 0o644, b"PWNED-escape\n"),
    ("new\nline", S_IFREG | 0o644, b"PWNED-newline\n"),
    ("nul\x00cut", S_IFREG | 0o644, b"PWNED-nul\n"),
    ("", S_IFREG | 0o644, b"PWNED-empty\n"),
    ("../evildir", S_IFDIR | 0o755, None),
    ("link", S_IFLNK | 0o777, "/srv/secret"),
]
SUB = [
    ("inner.txt", S_IFREG | 0o600, b"inner\n"),
    ("../../sub-evil", S_IFREG | 0o644, b"PWNED-sub\n"),
]
SECRET = b"secret outside the tree\n"

# Path -> (mode, content); what a client may open or stat by path.
FILES = {TREE: (S_IFDIR | 0o755, None), TREE + "/sub": (S_IFDIR | 0o1777, None),
         "/srv": (S_IFDIR | 0o755, None), "/srv/secret": (S_IFREG | 0o600, SECRET)}
for name, mode, content in ENTRIES:
    if "/" not in name and "\x00" not in name and name not in ("", ".", ".."):
        FILES[TREE + "/" + name] = (mode, content)
for name, mode, content in SUB:
    if "/" not in name:
        FILES[TREE + "/sub/" + name] = (mode, content)
# Asked for by a client that joined a bad name: answer with the evil bytes,
# so a client that follows them really writes something.
for d, ents in ((TREE, ENTRIES), (TREE + "/sub", SUB)):
    for name, mode, content in ents:
        if isinstance(content, bytes) and "\x00" not in name:
            FILES.setdefault(posixpath.normpath(d + "/" + name), (mode, content))
LISTINGS = {TREE: ENTRIES, TREE + "/sub": SUB}

log = open(sys.argv[1], "a", buffering=1) if len(sys.argv) > 1 else None
# OpenSSH's clients stop at a name with a NUL ("parse filenames: invalid
# format", fatal): LOG.openssh existing leaves that one out, so the rest of
# the listing can be compared.
if len(sys.argv) > 1 and os.path.exists(sys.argv[1] + ".openssh"):
    ENTRIES = [e for e in ENTRIES if "\x00" not in e[0]]
    LISTINGS[TREE] = ENTRIES
inp, out = sys.stdin.buffer, sys.stdout.buffer
handles = {}
next_handle = 0


def readn(n):
    b = b""
    while len(b) < n:
        c = inp.read(n - len(b))
        if not c:
            sys.exit(0)
        b += c
    return b


class Msg:
    def __init__(self, data):
        self.d, self.o = data, 0

    def u8(self):
        self.o += 1
        return self.d[self.o - 1]

    def u32(self):
        self.o += 4
        return struct.unpack(">I", self.d[self.o - 4:self.o])[0]

    def u64(self):
        self.o += 8
        return struct.unpack(">Q", self.d[self.o - 8:self.o])[0]

    def string(self):
        n = self.u32()
        self.o += n
        return self.d[self.o - n:self.o]


def s(b):
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogateescape")
    return struct.pack(">I", len(b)) + b


def attrs(mode, size):
    return struct.pack(">IQIIIII", 1 | 2 | 4 | 8, size, 0, 0, mode, 1600000000, 1600000000)


def send(t, payload):
    out.write(struct.pack(">IB", len(payload) + 1, t) + payload)
    out.flush()


def status(rid, code, msg=""):
    send(101, struct.pack(">II", rid, code) + s(msg) + s(""))


def note(what, path):
    if log:
        log.write("%s %r\n" % (what, path))


def lookup(path, follow=False):
    f = FILES.get(posixpath.normpath(path) if path.startswith("/") else
                  posixpath.normpath("/srv/" + path))
    if follow and f is not None and isinstance(f[1], str):  # a link
        f = FILES.get(f[1])
    return f


def main():
    global next_handle
    while True:
        n = struct.unpack(">I", readn(4))[0]
        m = Msg(readn(n))
        t = m.u8()
        if t == 1:  # INIT
            send(2, struct.pack(">I", 3))
            continue
        rid = m.u32()
        if t in (3, 11, 7, 17, 16, 13, 14, 15, 19, 9):  # path requests
            path = m.string().decode("utf-8", "surrogateescape")
            note({3: "open", 11: "opendir", 7: "lstat", 17: "stat", 16: "realpath",
                  13: "remove", 14: "mkdir", 15: "rmdir", 19: "readlink",
                  9: "setstat"}[t], path)
        if t == 3:  # OPEN
            pflags = m.u32()
            f = lookup(path, True)
            if pflags & 0x2:  # write: a read-only server
                status(rid, 3, "read-only")
            elif f is None or f[1] is None:
                status(rid, 2, "no such file")
            else:
                h = str(next_handle).encode()
                next_handle += 1
                handles[h] = ("file", f[1], f[0])
                send(102, struct.pack(">I", rid) + s(h))
        elif t == 11:  # OPENDIR
            key = posixpath.normpath(path if path.startswith("/") else "/srv/" + path)
            if key not in LISTINGS:
                status(rid, 2, "no such directory")
            else:
                h = str(next_handle).encode()
                next_handle += 1
                handles[h] = ("dir", LISTINGS[key], False)
                send(102, struct.pack(">I", rid) + s(h))
        elif t == 12:  # READDIR: everything at once, then EOF
            h = m.string()
            kind, ents, done = handles.get(h, (None, None, None))
            if kind != "dir":
                status(rid, 4, "bad handle")
            elif done:
                status(rid, 1, "eof")
            else:
                handles[h] = (kind, ents, True)
                body = struct.pack(">II", rid, len(ents))
                for name, mode, content in ents:
                    size = len(content) if isinstance(content, bytes) else 0
                    body += s(name) + s("-rw-r--r-- 1 root root %d Jan 1 2020 %s" % (size, name)) + attrs(mode, size)
                send(104, body)
        elif t == 5:  # READ
            h = m.string()
            off, ln = m.u64(), m.u32()
            kind, data, _ = handles.get(h, (None, None, None))
            if kind != "file":
                status(rid, 4, "bad handle")
            elif off >= len(data):
                status(rid, 1, "eof")
            else:
                send(103, struct.pack(">I", rid) + s(data[off:off + ln]))
        elif t == 4:  # CLOSE
            handles.pop(m.string(), None)
            status(rid, 0)
        elif t == 8:  # FSTAT
            kind, data, mode = handles.get(m.string(), (None, None, None))
            if kind != "file":
                status(rid, 4, "bad handle")
            else:
                send(105, struct.pack(">I", rid) + attrs(mode, len(data)))
        elif t in (7, 17):  # LSTAT, STAT
            f = lookup(path, t == 17)
            if f is None:
                status(rid, 2, "no such file")
            else:
                size = len(f[1]) if isinstance(f[1], bytes) else 0
                send(105, struct.pack(">I", rid) + attrs(f[0], size))
        elif t == 16:  # REALPATH
            p = posixpath.normpath(path if path.startswith("/") else "/srv/" + path)
            send(104, struct.pack(">II", rid, 1) + s(p) + s(p) + struct.pack(">I", 0))
        else:
            status(rid, 8, "unsupported")


main()
