#!/usr/bin/env python3
"""tiny_gan.py: a small, real GAN in numpy for the mlsh demo.

Trains a multilayer-perceptron GAN (generator and discriminator, Adam, the
non-saturating loss of the DCGAN paper) on small grayscale images of
Gaussian blobs, prints progress in the log format of the PyTorch DCGAN
example that mlsh's `train attach` reads:

  [2022-01-24 10:00:00] [3/16][45/64] Loss_D: 0.4100 Loss_G: 2.9000 D(x): 0.8000 D(G(z)): 0.1000 / 0.2000

and writes checkpoint_<epoch>.npz under <outdir>/<name>/ after every epoch.
Needs only numpy (Debian: python3-numpy).

  tiny_gan.py gen --dataroot /efs/images --count 4096      # the image set (PGM)
  tiny_gan.py --dataroot /efs/images --name demo --n_epoch 8 --seed 215
"""
import argparse
import datetime
import os
import sys
import time

import numpy as np


# ---- the image set -----------------------------------------------------------

def blob_image(rng, size):
    """One image: one to three Gaussian blobs, 8-bit."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    img = np.zeros((size, size))
    for _ in range(rng.integers(1, 4)):
        cy, cx = rng.uniform(1, size - 2, 2)
        s = rng.uniform(size / 10, size / 5)
        img += rng.uniform(0.5, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    img /= max(img.max(), 1e-6)
    return (img * 255).astype(np.uint8)


def write_pgm(path, img):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (img.shape[1], img.shape[0]))
        f.write(img.tobytes())
    os.replace(tmp, path)


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    # Header: magic, width, height, maxval as whitespace-separated words,
    # then exactly one whitespace byte before the pixels.
    fields, pos = [], 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        if end == pos:
            raise ValueError("%s: not a binary PGM" % path)
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P5":
        raise ValueError("%s: not a binary PGM" % path)
    w, h, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    pix = np.frombuffer(data[pos + 1:pos + 1 + w * h], dtype=np.uint8)
    if pix.size != w * h or maxval != 255:
        raise ValueError("%s: truncated or not 8-bit" % path)
    return pix.reshape(h, w)


def generate(args):
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.dataroot, exist_ok=True)
    for i in range(args.count):
        write_pgm(os.path.join(args.dataroot, "blob_%05d.pgm" % i), blob_image(rng, args.image_size))
    print("wrote %d images of %dx%d to %s" % (args.count, args.image_size, args.image_size, args.dataroot))
    return 0


def load(dataroot):
    names = sorted(n for n in os.listdir(dataroot) if n.endswith(".pgm"))
    if not names:
        raise SystemExit("tiny_gan: no .pgm images in %s (tiny_gan.py gen --dataroot %s)" % (dataroot, dataroot))
    imgs = [read_pgm(os.path.join(dataroot, n)) for n in names]
    shape = imgs[0].shape
    if any(i.shape != shape for i in imgs):
        raise SystemExit("tiny_gan: images in %s differ in size" % dataroot)
    x = np.stack(imgs).reshape(len(imgs), -1).astype(np.float64)
    return x / 127.5 - 1.0, shape


# ---- the networks ------------------------------------------------------------

def init_layer(rng, n_in, n_out):
    return {"W": rng.normal(0, np.sqrt(2.0 / n_in), (n_in, n_out)), "b": np.zeros(n_out)}


class Adam:
    def __init__(self, params, lr=2e-4, b1=0.5, b2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps, self.t = params, lr, b1, b2, eps, 0
        self.m = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]
        self.v = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]

    def step(self, grads):
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            for k in p:
                m[k] = self.b1 * m[k] + (1 - self.b1) * g[k]
                v[k] = self.b2 * v[k] + (1 - self.b2) * g[k] ** 2
                p[k] -= self.lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + self.eps)


def lrelu(x):
    return np.where(x > 0, x, 0.2 * x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def g_forward(G, z):
    h1 = z @ G[0]["W"] + G[0]["b"]
    a1 = np.maximum(h1, 0)
    h2 = a1 @ G[1]["W"] + G[1]["b"]
    a2 = np.maximum(h2, 0)
    out = np.tanh(a2 @ G[2]["W"] + G[2]["b"])
    return out, (z, h1, a1, h2, a2, out)


def g_backward(G, cache, dout):
    z, h1, a1, h2, a2, out = cache
    d3 = dout * (1 - out ** 2)
    g3 = {"W": a2.T @ d3, "b": d3.sum(0)}
    d2 = (d3 @ G[2]["W"].T) * (h2 > 0)
    g2 = {"W": a1.T @ d2, "b": d2.sum(0)}
    d1 = (d2 @ G[1]["W"].T) * (h1 > 0)
    g1 = {"W": z.T @ d1, "b": d1.sum(0)}
    return [g1, g2, g3]


def d_forward(D, x):
    h1 = x @ D[0]["W"] + D[0]["b"]
    a1 = lrelu(h1)
    h2 = a1 @ D[1]["W"] + D[1]["b"]
    a2 = lrelu(h2)
    logit = (a2 @ D[2]["W"] + D[2]["b"])[:, 0]
    return logit, (x, h1, a1, h2, a2)


def d_backward(D, cache, dlogit):
    """Gradients of the parameters and of the input."""
    x, h1, a1, h2, a2 = cache
    d3 = dlogit[:, None]
    g3 = {"W": a2.T @ d3, "b": d3.sum(0)}
    d2 = (d3 @ D[2]["W"].T) * np.where(h2 > 0, 1, 0.2)
    g2 = {"W": a1.T @ d2, "b": d2.sum(0)}
    d1 = (d2 @ D[1]["W"].T) * np.where(h1 > 0, 1, 0.2)
    g1 = {"W": x.T @ d1, "b": d1.sum(0)}
    return [g1, g2, g3], d1 @ D[0]["W"].T


def bce_logits(logit, target):
    """Mean binary cross-entropy on logits and its gradient."""
    p = sigmoid(logit)
    loss = np.mean(np.logaddexp(0, logit) - target * logit)
    return loss, (p - target) / logit.shape[0]


def save_checkpoint(path, G, D, epoch, shape, nz):
    arrays = {"epoch": np.array(epoch), "image_shape": np.array(shape), "nz": np.array(nz)}
    for name, net in (("G", G), ("D", D)):
        for i, layer in enumerate(net):
            for k, v in layer.items():
                arrays["%s%d_%s" % (name, i, k)] = v
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def train(args):
    rng = np.random.default_rng(args.seed)
    x, shape = load(args.dataroot)
    n, dim = x.shape
    steps = n // args.batch_size
    if steps == 0:
        raise SystemExit("tiny_gan: %d images, fewer than one batch of %d" % (n, args.batch_size))
    G = [init_layer(rng, args.nz, args.hidden), init_layer(rng, args.hidden, args.hidden),
         init_layer(rng, args.hidden, dim)]
    D = [init_layer(rng, dim, args.hidden), init_layer(rng, args.hidden, args.hidden // 2),
         init_layer(rng, args.hidden // 2, 1)]
    opt_g, opt_d = Adam(G, lr=args.lr), Adam(D, lr=args.lr)
    outdir = os.path.join(args.outdir, args.name)
    os.makedirs(outdir, exist_ok=True)
    print("Starting Training Loop... %d images of %dx%d, %d steps per epoch, %d epochs, checkpoints in %s"
          % (n, shape[0], shape[1], steps, args.n_epoch, outdir), flush=True)
    t0 = time.time()
    for epoch in range(args.s_epoch, args.n_epoch):
        order = rng.permutation(n)
        for i in range(steps):
            real = x[order[i * args.batch_size:(i + 1) * args.batch_size]]
            b = real.shape[0]
            # Discriminator: real -> 1, fake -> 0.
            z = rng.normal(0, 1, (b, args.nz))
            fake, g_cache = g_forward(G, z)
            lr_, c_r = d_forward(D, real)
            lf_, c_f = d_forward(D, fake)
            loss_r, dr = bce_logits(lr_, np.full(b, 0.9))   # one-sided label smoothing
            loss_f, df = bce_logits(lf_, np.zeros(b))
            gr, _ = d_backward(D, c_r, dr)
            gf, _ = d_backward(D, c_f, df)
            opt_d.step([{k: a[k] + c[k] for k in a} for a, c in zip(gr, gf)])
            d_x, d_gz1 = float(sigmoid(lr_).mean()), float(sigmoid(lf_).mean())
            # Generator: make D say 1 on fakes (non-saturating loss).
            z = rng.normal(0, 1, (b, args.nz))
            fake, g_cache = g_forward(G, z)
            lf2, c_f2 = d_forward(D, fake)
            loss_g, dg = bce_logits(lf2, np.ones(b))
            _, dx = d_backward(D, c_f2, dg)
            opt_g.step(g_backward(G, g_cache, dx))
            d_gz2 = float(sigmoid(lf2).mean())
            if i % args.log_every == 0 or i == steps - 1:
                ts = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
                print("[%s] [%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f"
                      % (ts, epoch, args.n_epoch, i, steps, loss_r + loss_f, loss_g, d_x, d_gz1, d_gz2),
                      flush=True)
        path = os.path.join(outdir, "checkpoint_%d.npz" % epoch)
        save_checkpoint(path, G, D, epoch, shape, args.nz)
        print("saved %s" % path, flush=True)
    print("done: %d epochs in %.1f s" % (args.n_epoch - args.s_epoch, time.time() - t0), flush=True)
    return 0


def main(argv):
    gen = len(argv) > 0 and argv[0] == "gen"
    if gen:
        argv = argv[1:]
    p = argparse.ArgumentParser(prog="tiny_gan.py" + (" gen" if gen else ""),
                                description="a tiny numpy GAN (or, with 'gen', its image set)")
    p.add_argument("--dataroot", required=True, help="directory of .pgm images")
    p.add_argument("--seed", type=int, default=215)
    p.add_argument("--image_size", type=int, default=16, help="gen: image side in pixels")
    if gen:
        p.add_argument("--count", type=int, default=4096, help="number of images")
    else:
        p.add_argument("--name", default="tiny_gan", help="checkpoints go to OUTDIR/NAME/")
        p.add_argument("--outdir", default="/efs/trained_model")
        p.add_argument("--n_epoch", type=int, default=8)
        p.add_argument("--s_epoch", type=int, default=0, help="first epoch (resume numbering)")
        p.add_argument("--batch_size", type=int, default=64)
        p.add_argument("--hidden", type=int, default=256)
        p.add_argument("--nz", type=int, default=32, help="latent size")
        p.add_argument("--lr", type=float, default=2e-4)
        p.add_argument("--log_every", type=int, default=10, help="log every N steps")
    args = p.parse_args(argv)
    return generate(args) if gen else train(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
