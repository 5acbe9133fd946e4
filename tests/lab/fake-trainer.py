# A stand-in for scripts/dcgan/dcgan.py: the log contract's lines with fixed
# times (so rates and costs are known) and a PNG sample grid per epoch.
import math, os, struct, sys, zlib

out = os.path.abspath(sys.argv[1])
epochs, steps = 2, 50
os.makedirs(out, exist_ok=True)

def png(path, w, h, seed):
    rows = b"".join(b"\0" + bytes((x * seed + y) % 256 for x in range(w * 3)) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)

def ts(s):
    return "[2026-12-01 %02d:%02d:%02d]" % (10 + s // 3600, s // 60 % 60, s % 60)

print("Starting Training Loop...")
for e in range(epochs):
    for i in list(range(0, steps, 5)) + [steps - 1]:
        t = e * 3600 + i * 72
        d = 1.2 / (1 + e * steps + i) + 0.3
        g = 2 + math.sin((e * steps + i) / 7.0)
        print("%s [%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): 0.8000 D(G(z)): 0.1000 / 0.2000"
              % (ts(t), e, epochs, i, steps, d, g))
    print("%s epoch %d/%d done: 12800 images in 3600.00 s, 3.5556 images/s" % (ts(e * 3600 + 3600), e, epochs))
    p = os.path.join(out, "samples_%d.png" % (e + 1))
    png(p, 64 + e, 32, e + 3)
    print("%s samples: %s" % (ts(e * 3600 + 3600), p))
    print("%s checkpoint: %s" % (ts(e * 3600 + 3600), os.path.join(out, "checkpoint_%d.pt" % (e + 1))))
