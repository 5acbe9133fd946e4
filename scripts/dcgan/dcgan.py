#!/usr/bin/env python3
"""dcgan.py: a DCGAN (Radford et al., 2015) for 64x64 images in PyTorch, data-parallel.

The command line, checkpoint layout and log lines are those of the seed's
run_gaudi_dcgan.py, which mlsh's `train attach/status/plot/samples` read:

  [2022-01-24 10:00:00] [3/16][450/7463] Loss_D: 0.4100 Loss_G: 2.9000 D(x): 0.8000 D(G(z)): 0.1000 / 0.2000
  [2022-01-24 10:40:00] epoch 3/16 done: 477632 images in 2400.1 s, 199.0 images/s
  [2022-01-24 10:40:01] samples: /efs/trained_model/msls/samples_4.png
  [2022-01-24 10:40:02] checkpoint: /efs/trained_model/msls/checkpoint_4.pt

Epochs and steps count from 0 ([E/N][I/S]: epoch E of N, step I of S steps
per epoch); "epoch E/N done" uses the same 0-based E. After epoch E the files
are numbered E+1 (the number of epochs done): checkpoint_<E+1>.pt holds the
generator, discriminator, both Adam states, epochs done, the global step, the
RNG states and the arguments; samples_<E+1>.png is an 8x8 grid of the
generator's images for one fixed noise batch. `--s_epoch N` loads
checkpoint_N.pt and continues with epoch index N.

Data: every image file under --dataroot, recursively, in sorted path order
(.png .jpg .jpeg .bmp .ppm .pgm .tif .tiff .webp), so both torchvision's
ImageFolder layout (<dataroot>/<class>/*.png, the class is ignored) and a
plain directory of images work. Images are resized and centre-cropped to
--image_size, RGB, scaled to [-1, 1].

Device by what is present: Habana Gaudi (habana_frameworks importable:
device "hpu", lazy mode with mark_step, backend hccl), else CUDA (nccl),
else CPU (gloo). With WORLD_SIZE > 1 in the environment it runs data-parallel
(torch.distributed, env:// -- MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK,
LOCAL_RANK, as torchrun or mlsh's per-node launch set them): a
DistributedSampler shards every epoch, DDP averages the gradients of G and D,
rank 0 logs and writes the files, the other ranks print only errors.

Determinism: batches come from a sampler seeded with --seed and the epoch,
noise from a generator seeded with (seed, epoch, rank); so the same seed and
data give the same losses (CPU, --workers 0 or more: no random transforms),
and a run resumed from checkpoint_N equals the straight run.

Commands (one process per accelerator; torchrun sets the env:// variables):

  # lab or any CPU machine, one process
  python3 dcgan.py --dataroot /efs/images --seed 215 --name msls --s_epoch 0 --n_epoch 16

  # dl1.24xlarge (Habana DLAMI, 8 Gaudi cards), in the pytorch environment
  torchrun --nproc_per_node 8 dcgan.py --dataroot /efs/images/ --seed 215 \\
      --name msls_2022_01_24_001 --s_epoch 0 --n_epoch 16 --batch_size 128 --workers 8

  # p3.8xlarge (Deep Learning AMI, 4 V100s), in the pytorch environment
  torchrun --nproc_per_node 4 dcgan.py --dataroot /efs/images/ --seed 215 \\
      --name msls_p3 --s_epoch 0 --n_epoch 16 --batch_size 128 --workers 8

  # two nodes: on each, torchrun --nnodes 2 --node_rank R --master_addr IP0
  #   --master_port 29500 --nproc_per_node 8 dcgan.py ...
  # (or one process per node: MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK,
  #  LOCAL_RANK=0 set by hand or by `train run --nodes`).

--batch_size is per process. Exit status: 0 done, 2 bad input (one line on
stderr), 1 a failure while training (one line; a rank whose peer died fails
within --dist_timeout seconds). DCGAN_DEBUG_HASH=DIR makes every rank write
DIR/rank<R>.sha256 with hashes of its G and D parameters at the end (tests).
"""
import argparse
import copy
import datetime
import hashlib
import os
import random
import re
import sys
import time

PROG = "dcgan.py"
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


class Usage(Exception):
    """Bad input: one line on stderr, exit 2."""


class ArgParser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def parse_args(argv):
    p = ArgParser(prog=PROG, description="DCGAN training, data-parallel with torch.distributed",
                  formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataroot", required=True, help="directory of images (searched recursively)")
    p.add_argument("--seed", type=int, default=215)
    p.add_argument("--name", required=True, help="run name: checkpoints go to OUTDIR/NAME/")
    p.add_argument("--s_epoch", type=int, default=0, help="epochs already done (resume from checkpoint_N.pt)")
    p.add_argument("--n_epoch", type=int, default=16, help="total epochs")
    p.add_argument("--batch_size", type=int, default=128, help="images per step per process")
    p.add_argument("--workers", type=int, default=2, help="data loader processes per training process")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--image_size", type=int, default=64)
    p.add_argument("--nz", type=int, default=100, help="size of the noise vector")
    p.add_argument("--ngf", type=int, default=64, help="generator feature maps")
    p.add_argument("--ndf", type=int, default=64, help="discriminator feature maps")
    p.add_argument("--outdir", default="/efs/trained_model")
    p.add_argument("--log_every", type=int, default=50, help="steps between progress lines")
    p.add_argument("--device", default="auto", choices=["auto", "hpu", "cuda", "cpu"])
    p.add_argument("--dist_timeout", type=float, default=1800,
                   help="seconds a rank waits for its peers before failing")
    a = p.parse_args(argv)
    for name, lo in (("seed", 0), ("s_epoch", 0), ("n_epoch", 1), ("batch_size", 1), ("workers", 0),
                     ("nz", 1), ("ngf", 1), ("ndf", 1), ("log_every", 1)):
        if getattr(a, name) < lo:
            raise Usage("--%s must be at least %d, not %d" % (name, lo, getattr(a, name)))
    if a.s_epoch >= a.n_epoch:
        raise Usage("--s_epoch %d leaves nothing to do: it must be below --n_epoch %d" % (a.s_epoch, a.n_epoch))
    if not a.lr > 0 or a.lr > 1:
        raise Usage("--lr must be in (0, 1], not %g" % a.lr)
    if not 0 <= a.beta1 < 1:
        raise Usage("--beta1 must be in [0, 1), not %g" % a.beta1)
    if not a.dist_timeout > 0:
        raise Usage("--dist_timeout must be positive, not %g" % a.dist_timeout)
    if a.image_size not in (16, 32, 64, 128, 256):
        raise Usage("--image_size must be 16, 32, 64, 128 or 256, not %d" % a.image_size)
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", a.name):
        raise Usage("--name '%s' must be letters, digits, '.', '_' or '-' (it names a directory)" % a.name)
    if not os.path.isdir(a.dataroot):
        raise Usage("--dataroot '%s' is not a directory" % a.dataroot)
    return a


# ---- the environment ---------------------------------------------------------

def env_int(name, default):
    v = os.environ.get(name, "")
    if v == "":
        if default is None:
            raise Usage("%s is not set (WORLD_SIZE > 1 needs MASTER_ADDR, MASTER_PORT, RANK)" % name)
        return default
    if not re.fullmatch(r"[0-9]+", v):
        raise Usage("%s must be a number, not '%s'" % (name, v))
    return int(v)


def dist_env():
    """(world, rank, local_rank) from the env:// launch contract."""
    world = env_int("WORLD_SIZE", 1)
    if world < 1:
        raise Usage("WORLD_SIZE must be at least 1, not %d" % world)
    if world == 1:
        return 1, 0, env_int("LOCAL_RANK", 0)
    rank = env_int("RANK", None)
    local = env_int("LOCAL_RANK", 0)
    if rank >= world:
        raise Usage("RANK %d is not below WORLD_SIZE %d" % (rank, world))
    if not os.environ.get("MASTER_ADDR"):
        raise Usage("MASTER_ADDR is not set (WORLD_SIZE > 1 needs MASTER_ADDR, MASTER_PORT, RANK)")
    env_int("MASTER_PORT", None)
    return world, rank, local


def pick_device(torch, want, local_rank):
    """(device, backend, mark_step): Habana HPU, CUDA or CPU. On HPU (lazy
    mode) mark_step runs the graph so far: after each backward and each
    optimizer step, as Habana's porting guide does."""
    if want in ("auto", "hpu"):
        try:
            import habana_frameworks.torch.core as htcore
            return torch.device("hpu"), "hccl", htcore.mark_step
        except ImportError:
            if want == "hpu":
                raise Usage("--device hpu: habana_frameworks is not installed")
    if want in ("auto", "cuda") and torch.cuda.is_available():
        if local_rank >= torch.cuda.device_count():
            raise Usage("LOCAL_RANK %d but %d CUDA devices" % (local_rank, torch.cuda.device_count()))
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank), "nccl", lambda: None
    if want == "cuda":
        raise Usage("--device cuda: no CUDA device")
    return torch.device("cpu"), "gloo", lambda: None


# ---- data and models ---------------------------------------------------------

def image_paths(root):
    out = []
    for d, dirs, files in os.walk(root, followlinks=True):
        dirs.sort()
        out.extend(os.path.join(d, f) for f in sorted(files)
                   if f.lower().endswith(IMAGE_EXT) and not f.startswith("."))
    return out


def make_dataset(torch, paths, size):
    from PIL import Image
    import torchvision.transforms as T

    tf = T.Compose([T.Resize(size), T.CenterCrop(size), T.ToTensor(),
                    T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return len(paths)

        def __getitem__(self, i):
            try:
                with Image.open(paths[i]) as im:
                    return tf(im.convert("RGB"))
            except (OSError, ValueError) as e:
                raise RuntimeError("cannot read image '%s': %s" % (paths[i], e)) from None

    return Images()


def build_models(nn, args):
    """The DCGAN generator and discriminator for args.image_size (64: the
    paper's 4x4 -> 64x64 stack; other powers of two add or drop a stage)."""
    stages = args.image_size.bit_length() - 1 - 3  # stride-2 stages between 4x4 and the output

    g = [nn.ConvTranspose2d(args.nz, args.ngf * 2 ** stages, 4, 1, 0, bias=False),
         nn.BatchNorm2d(args.ngf * 2 ** stages), nn.ReLU(True)]
    for s in range(stages, 0, -1):
        g += [nn.ConvTranspose2d(args.ngf * 2 ** s, args.ngf * 2 ** (s - 1), 4, 2, 1, bias=False),
              nn.BatchNorm2d(args.ngf * 2 ** (s - 1)), nn.ReLU(True)]
    g += [nn.ConvTranspose2d(args.ngf, 3, 4, 2, 1, bias=False), nn.Tanh()]

    d = [nn.Conv2d(3, args.ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    for s in range(stages):
        d += [nn.Conv2d(args.ndf * 2 ** s, args.ndf * 2 ** (s + 1), 4, 2, 1, bias=False),
              nn.BatchNorm2d(args.ndf * 2 ** (s + 1)), nn.LeakyReLU(0.2, inplace=True)]
    d += [nn.Conv2d(args.ndf * 2 ** stages, 1, 4, 1, 0, bias=False), nn.Sigmoid()]

    def init(m):
        # The paper: every weight from N(0, 0.02); BatchNorm scales N(1, 0.02).
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    G, D = nn.Sequential(*g), nn.Sequential(*d)
    G.apply(init)
    D.apply(init)
    return G, D


def noise_seed(seed, epoch, rank):
    """The seed of one rank's noise in one epoch: a resumed run draws what
    the straight run drew, and ranks draw different noise."""
    h = hashlib.sha256(("dcgan/%d/%d/%d" % (seed, epoch, rank)).encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


# ---- files -------------------------------------------------------------------

def to_cpu(torch, obj):
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(torch, v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(torch, v) for v in obj)
    return obj


def rng_state(torch):
    import numpy as np
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_rng_state(torch, st):
    import numpy as np
    torch.set_rng_state(st["torch"])
    np.random.set_state(st["numpy"])
    random.setstate(st["python"])


def atomic_save(torch, obj, path):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_checkpoint(torch, args, rundir):
    path = os.path.join(rundir, "checkpoint_%d.pt" % args.s_epoch)
    try:
        # our own file, with numpy/python RNG states in it: torch >= 2.6
        # would refuse those by default (weights_only)
        ck = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a torn or foreign file: say which
        raise Usage("cannot load '%s': %s" % (path, str(e).splitlines()[0] if str(e) else type(e).__name__))
    if not isinstance(ck, dict) or ck.get("epoch") != args.s_epoch:
        raise Usage("'%s' is not the checkpoint of epoch %d" % (path, args.s_epoch))
    for k in ("nz", "ngf", "ndf", "image_size"):
        was = ck.get("args", {}).get(k)
        if was != getattr(args, k):
            raise Usage("'%s' was trained with --%s %s, not %s" % (path, k, was, getattr(args, k)))
    return path, ck


def param_hash(torch, module):
    h = hashlib.sha256()
    for p in module.parameters():
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


# ---- training ----------------------------------------------------------------

def log(msg):
    ts = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    print("[%s] %s" % (ts, msg), flush=True)


def preflight(args, world):
    """Bad input found before torch loads (seconds on a busy machine)."""
    paths = image_paths(args.dataroot)
    if not paths:
        raise Usage("no images under '%s' (looked for %s)" % (args.dataroot, " ".join(IMAGE_EXT)))
    if len(paths) // world < args.batch_size:
        raise Usage("%d images under '%s' make no full batch of %d per process (%d processes)"
                    % (len(paths), args.dataroot, args.batch_size, world))
    ck = os.path.join(args.outdir, args.name, "checkpoint_%d.pt" % args.s_epoch)
    if args.s_epoch > 0 and not os.path.isfile(ck):
        raise Usage("--s_epoch %d: no checkpoint '%s'" % (args.s_epoch, ck))
    return paths


def train(args, world, rank, local_rank):
    paths = preflight(args, world)
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    import torchvision.utils as vutils

    device, backend, mark_step = pick_device(torch, args.device, local_rank)
    rundir = os.path.join(args.outdir, args.name)
    ck_path, ck = load_checkpoint(torch, args, rundir) if args.s_epoch > 0 else (None, None)
    if rank == 0:
        try:
            os.makedirs(rundir, exist_ok=True)
        except OSError as e:
            raise Usage("cannot create '%s': %s" % (rundir, e.strerror))

    if world > 1:
        if backend == "hccl":
            # registers the backend; reads the launcher's env (Habana docs,
            # "Distributed Backend Initialization":
            # https://docs.habana.ai/en/latest/PyTorch/PyTorch_Scaling_Guide/Distributed_Backend_Initialization.html)
            import habana_frameworks.torch.distributed.hccl  # noqa: F401
        dist.init_process_group(backend, init_method="env://", world_size=world, rank=rank,
                                timeout=datetime.timedelta(seconds=args.dist_timeout))

    random.seed(args.seed)
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    G, D = build_models(nn, args)
    G, D = G.to(device), D.to(device)
    optG = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    global_step = 0
    if ck is not None:
        G.load_state_dict(ck["netG"])
        D.load_state_dict(ck["netD"])
        optG.load_state_dict(ck["optG"])
        optD.load_state_dict(ck["optD"])
        global_step = ck["global_step"]
        set_rng_state(torch, ck["rng"])
    fixed = torch.randn(64, args.nz, 1, 1, generator=torch.Generator().manual_seed(args.seed)).to(device)

    netG, netD = G, D
    if world > 1:
        ddp = {"hpu": dict(broadcast_buffers=False, gradient_as_bucket_view=True),
               "cuda": dict(device_ids=[local_rank]), "cpu": {}}[device.type]
        netG = nn.parallel.DistributedDataParallel(G, **ddp)
        netD = nn.parallel.DistributedDataParallel(D, **ddp)

    data = make_dataset(torch, paths, args.image_size)
    # A DistributedSampler also for one process: its shuffle is seeded with
    # seed + epoch, which is what makes a resumed run equal the straight one.
    sampler = torch.utils.data.distributed.DistributedSampler(
        data, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, sampler=sampler,
                                         num_workers=args.workers, drop_last=True,
                                         pin_memory=device.type == "cuda")
    steps = len(loader)
    crit = nn.BCELoss()
    if rank == 0:
        if ck_path:
            log("resumed from %s: epoch %d, step %d" % (ck_path, args.s_epoch, global_step))
        log("dcgan: %d images, %d steps per epoch, batch %d x %d processes, device %s%s, epochs %d..%d, run dir %s"
            % (len(paths), steps, args.batch_size, world, device.type,
               ", backend " + backend if world > 1 else "", args.s_epoch, args.n_epoch - 1, rundir))

    for epoch in range(args.s_epoch, args.n_epoch):
        sampler.set_epoch(epoch)
        gen = torch.Generator().manual_seed(noise_seed(args.seed, epoch, rank))
        t0 = time.time()
        for i, real in enumerate(loader):
            real = real.to(device, non_blocking=True)
            b = real.size(0)
            ones = torch.ones(b, device=device)
            zeros = torch.zeros(b, device=device)
            z = torch.randn(b, args.nz, 1, 1, generator=gen).to(device)

            # D: maximise log D(x) + log(1 - D(G(z)))
            netD.zero_grad(set_to_none=True)
            out = netD(real).view(-1)
            errD_real = crit(out, ones)
            errD_real.backward()
            mark_step()
            d_x = out.mean()
            fake = netG(z)
            out = netD(fake.detach()).view(-1)
            errD_fake = crit(out, zeros)
            errD_fake.backward()
            mark_step()
            d_gz1 = out.mean()
            optD.step()
            mark_step()

            # G: maximise log D(G(z)) (the non-saturating loss)
            netG.zero_grad(set_to_none=True)
            out = netD(fake).view(-1)
            errG = crit(out, ones)
            errG.backward()
            mark_step()
            d_gz2 = out.mean()
            optG.step()
            mark_step()
            global_step += 1

            if rank == 0 and (i % args.log_every == 0 or i == steps - 1):
                # .item() waits for the device: only on lines printed
                vals = [(errD_real + errD_fake).item(), errG.item(), d_x.item(), d_gz1.item(), d_gz2.item()]
                if not all(v == v and abs(v) != float("inf") for v in vals):
                    raise RuntimeError("loss is not finite at epoch %d step %d: %s" % (epoch, i, vals))
                log("[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f"
                    % ((epoch, args.n_epoch, i, steps) + tuple(vals)))
        secs = time.time() - t0
        if rank != 0:
            continue
        images = steps * args.batch_size * world
        log("epoch %d/%d done: %d images in %.1f s, %.1f images/s"
            % (epoch, args.n_epoch, images, secs, images / max(secs, 1e-9)))
        with torch.no_grad():
            # a copy in training mode (as the DCGAN paper samples): the
            # model's BatchNorm statistics stay as training left them
            grid = copy.deepcopy(G).train()(fixed).detach().cpu()
        png = os.path.join(rundir, "samples_%d.png" % (epoch + 1))
        vutils.save_image(grid, png + ".tmp.png", nrow=8, normalize=True, value_range=(-1, 1))
        os.replace(png + ".tmp.png", png)
        log("samples: %s" % png)
        path = os.path.join(rundir, "checkpoint_%d.pt" % (epoch + 1))
        atomic_save(torch, to_cpu(torch, {
            "epoch": epoch + 1, "global_step": global_step,
            "netG": G.state_dict(), "netD": D.state_dict(),
            "optG": optG.state_dict(), "optD": optD.state_dict(),
            "rng": rng_state(torch), "args": vars(args)}), path)
        log("checkpoint: %s" % path)

    hashdir = os.environ.get("DCGAN_DEBUG_HASH")
    if hashdir:
        with open(os.path.join(hashdir, "rank%d.sha256" % rank), "w") as f:
            f.write("G %s\nD %s\n" % (param_hash(torch, G), param_hash(torch, D)))
    if world > 1:
        dist.destroy_process_group()


def one_line(e):
    s = str(e).strip().splitlines()
    return s[0] if s else type(e).__name__


def main(argv):
    world, rank = 1, 0
    try:
        world, rank, local = dist_env()
        args = parse_args(argv)
        train(args, world, rank, local)
        return 0
    except Usage as e:
        code, msg = 2, one_line(e)
    except KeyboardInterrupt:
        code, msg = 130, "interrupted"
    except Exception as e:  # a failure while training: one line, not a traceback
        code, msg = 1, "%s: %s" % (type(e).__name__, one_line(e))
    who = "rank %d: " % rank if world > 1 else ""
    print("%s: %serror: %s" % (PROG, who, msg), file=sys.stderr, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
