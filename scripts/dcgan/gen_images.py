#!/usr/bin/env python3
"""gen_images.py: a synthetic image set for dcgan.py (and the demo).

Writes --count RGB PNG images of --size x --size pixels (default 64) into
<dataroot>/shapes/NNNNNN.png: torchvision's ImageFolder layout (one class
directory), which dcgan.py also reads as a plain tree of images. Each image
is a soft coloured background with one to three filled discs, squares or
triangles; the same --seed gives the same files byte for byte. Needs numpy
and PIL only.

  gen_images.py --dataroot /efs/images --count 2048 --seed 215
"""
import argparse
import os
import sys

PROG = "gen_images.py"


class ArgParser(argparse.ArgumentParser):
    def error(self, message):
        print("%s: error: %s" % (PROG, message), file=sys.stderr)
        sys.exit(2)


def image(rng, size):
    import numpy as np

    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    top, bottom = rng.uniform(0.0, 0.4, 3), rng.uniform(0.0, 0.4, 3)
    t = (yy / size)[..., None]
    img = (1 - t) * top + t * bottom
    for _ in range(rng.integers(1, 4)):
        cy, cx = rng.uniform(0.2, 0.8, 2) * size
        r = rng.uniform(0.08, 0.25) * size
        kind = rng.integers(0, 3)
        if kind == 0:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        elif kind == 1:
            mask = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        else:  # a triangle pointing up
            mask = (yy >= cy - r) & (yy <= cy + r) & (abs(xx - cx) <= (yy - (cy - r)) / 2)
        img[mask] = rng.uniform(0.5, 1.0, 3)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def main(argv):
    p = ArgParser(prog=PROG, description="write a synthetic RGB image set for dcgan.py")
    p.add_argument("--dataroot", required=True, help="directory to write into (created)")
    p.add_argument("--count", type=int, default=1024)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--seed", type=int, default=215)
    a = p.parse_args(argv)
    if not 1 <= a.count <= 10_000_000:
        p.error("--count must be from 1 to 10000000, not %d" % a.count)
    if not 8 <= a.size <= 1024:
        p.error("--size must be from 8 to 1024, not %d" % a.size)
    if a.seed < 0:
        p.error("--seed must be at least 0, not %d" % a.seed)
    import numpy as np
    from PIL import Image

    out = os.path.join(a.dataroot, "shapes")
    try:
        os.makedirs(out, exist_ok=True)
        rng = np.random.default_rng(a.seed)
        for i in range(a.count):
            path = os.path.join(out, "%06d.png" % i)
            Image.fromarray(image(rng, a.size), "RGB").save(path + ".tmp", format="PNG")
            os.replace(path + ".tmp", path)
    except OSError as e:
        print("%s: error: cannot write under '%s': %s" % (PROG, out, e.strerror or e), file=sys.stderr)
        return 1
    print("wrote %d images of %dx%d to %s" % (a.count, a.size, a.size, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
