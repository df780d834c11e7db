"""torch_bench.py — the benchmark's PyTorch side: the same nets and the same
NAG update as the generated programs, timed in PyTorch on the CPU, out of the
box and at the best configuration found on this machine.

    python3 bench/torch_bench.py SPEC_FILE OUT_CSV THREADS REPS TARGET_S

SPEC_FILE has one line per workload and precision, written by bench/run.sh
from `mdlc --dump-model` and the program's header:

    NAME PRECISION BATCH CASES NETWORK UNITS LOSS EPSILON
    curves float32 200 5000 784-400-...-784 sigmoid,...,linear,...,sigmoid cross_entropy 0.005

UNITS names the units of every layer above the input. For each workload the
update is the generated program's:

  * a minibatch of BATCH cases gathered from a CASES x n_in data set in a
    fresh random order each epoch (the data are uniform in [0, 1): for timing
    the content barely matters);
  * the forward pass through nn.Linear layers with sigmoid or linear units;
  * the loss on the output's total input z: logistic cross-entropy
    (binary_cross_entropy_with_logits, summed over units, averaged over the
    cases) or half the squared error, as the generated program minimizes;
  * autograd's backward pass (which, like the generated code, skips the
    deltas of the input layer);
  * NAG written by hand in the generated program's carried form (the
    parameters hold the look-ahead point phi = theta + mu v), three in-place
    passes per parameter block with the eq. 5 schedule of mu:
        phi -= mu_t v;  v = mu_t v - eps g;  phi += (1 + mu_{t+1}) v
    torch.optim.SGD(nesterov=True) would cost the same per update (also a
    few elementwise passes per block), but computes a different, constant-mu
    form of NAG.

Every configuration runs in a fresh process, since the thread settings of
OpenMP and OpenBLAS are read when the libraries load. First each
configuration is timed briefly on every workload (the exploration: at most
3 repetitions of about TARGET_S / 4 seconds); then the out-of-the-box
configuration and the fastest one of each workload are timed again with REPS
repetitions of about TARGET_S seconds of updates each, after a warm-up, so the
reported best is a fresh measurement, not the luckiest exploration run.

OUT_CSV gets rows in the benchmark's CSV format (see bench/README.md)."""

import csv
import json
import math
import os
import subprocess
import sys
import time

# The settings that decide how PyTorch and the BLAS under it use threads; the
# benchmark clears them so that "out of the box" means the library defaults.
THREAD_ENV = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OMP_PROC_BIND",
              "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "KMP_BLOCKTIME", "KMP_AFFINITY")


def configurations(threads):
    """The configurations explored: (name, environment, torch threads or None
    to leave torch's default, MKL-DNN enabled or None to leave it)."""
    t = str(threads)
    return [
        ("default", {}, None, None),
        (f"set_num_threads({t})", {}, threads, None),
        (f"set_num_threads({t}) + OMP_WAIT_POLICY=PASSIVE",
         {"OMP_WAIT_POLICY": "PASSIVE"}, threads, None),
        (f"OMP_NUM_THREADS={t}", {"OMP_NUM_THREADS": t}, None, None),
        (f"set_num_threads(1) + OPENBLAS_NUM_THREADS={t}",
         {"OPENBLAS_NUM_THREADS": t}, 1, None),
        (f"set_num_threads({t}) + OPENBLAS_NUM_THREADS=1",
         {"OPENBLAS_NUM_THREADS": "1"}, threads, None),
        (f"set_num_threads({t}) + OMP_WAIT_POLICY=PASSIVE + mkldnn off",
         {"OMP_WAIT_POLICY": "PASSIVE"}, threads, False),
    ]


def read_specs(path):
    specs = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, precision, batch, cases, network, units, loss, eps = \
                line.split()
            specs.append(dict(name=name, precision=precision,
                              batch=int(batch), cases=int(cases),
                              widths=[int(w) for w in network.split("-")],
                              units=units.split(","), loss=loss,
                              epsilon=float(eps)))
    return specs


def gemm_flops(spec):
    """2mnk per product and 2mn per bias sum, as bench/gemm_ceiling.c counts."""
    b, w = spec["batch"], spec["widths"]
    flops = 0
    for l in range(1, len(w)):
        flops += 2 * b * w[l - 1] * w[l] * (3 if l > 1 else 2) + 2 * b * w[l]
    return flops


# ---- One configuration, in its own process ----

def measure(specs, reps, target, torch_threads, mkldnn):
    import torch
    import torch.nn.functional as F

    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    if mkldnn is not None:
        torch.backends.mkldnn.enabled = mkldnn
    blas_threads = openblas_threads()

    rows = []
    for spec in specs:
        dtype = torch.float64 if spec["precision"] == "float64" else \
            torch.float32
        torch.manual_seed(1)
        w, units = spec["widths"], spec["units"]
        layers = []
        for l in range(1, len(w)):
            layer = torch.nn.Linear(w[l - 1], w[l]).to(dtype)
            sparse_init(layer, torch)
            layers.append(layer)
        params = [p for layer in layers for p in layer.parameters()]
        velocity = [torch.zeros_like(p) for p in params]
        data = torch.rand(spec["cases"], w[0], dtype=dtype)
        batch, eps = spec["batch"], spec["epsilon"]
        cross_entropy = spec["loss"] == "cross_entropy"
        state = {"t": 0, "perm": None, "next": spec["cases"]}

        def mu_at(t):  # eq. 5, mu_max = 0.999
            return min(1 - 2 ** (-1 - math.log2(math.floor(t / 250) + 1)),
                       0.999)

        def update():
            if state["next"] + batch > spec["cases"]:
                state["perm"], state["next"] = torch.randperm(spec["cases"]), 0
            cases = state["perm"][state["next"]:state["next"] + batch]
            state["next"] += batch
            x = data.index_select(0, cases)
            a = x
            for layer, unit in zip(layers, units):
                a = layer(a)
                if unit == "sigmoid":
                    a = torch.sigmoid(a)
                elif unit == "tanh":
                    a = torch.tanh(a)
            z = a  # the output layer's units are folded into the loss
            if cross_entropy:
                loss = F.binary_cross_entropy_with_logits(
                    z, x, reduction="sum") / batch
            else:
                loss = 0.5 * (z - x).pow(2).sum() / batch
            for p in params:
                p.grad = None
            loss.backward()
            t = state["t"]
            mu, mu_next = mu_at(t), mu_at(t + 1)
            with torch.no_grad():
                for p, v in zip(params, velocity):
                    p.add_(v, alpha=-mu)
                    v.mul_(mu).add_(p.grad, alpha=-eps)
                    p.add_(v, alpha=1 + mu_next)
            state["t"] = t + 1

        for _ in range(3):  # warm-up: allocator, threads, page faults
            update()
        start = time.perf_counter()
        update()
        update()
        one = (time.perf_counter() - start) / 2
        per_rep = max(1, round(target / max(one, 1e-6)))
        ms = []
        for _ in range(reps):
            start = time.perf_counter()
            for _ in range(per_rep):
                update()
            ms.append((time.perf_counter() - start) * 1e3 / per_rep)
        ms.sort()
        rows.append(dict(name=spec["name"], precision=spec["precision"],
                         median=median(ms), min=ms[0], max=ms[-1],
                         per_rep=per_rep, reps=reps,
                         torch_threads=torch.get_num_threads(),
                         blas_threads=blas_threads,
                         mkldnn=torch.backends.mkldnn.enabled))
    return rows


def sparse_init(layer, torch):
    """Sec. 3.1: 15 incoming weights per unit from N(0, 1), the rest 0."""
    with torch.no_grad():
        out_units, in_units = layer.weight.shape
        k = min(15, in_units)
        chosen = torch.rand(out_units, in_units).argsort(dim=1)[:, :k]
        layer.weight.zero_()
        layer.weight.scatter_(1, chosen, torch.randn(out_units, k,
                                                     dtype=layer.weight.dtype))
        layer.bias.zero_()


def openblas_threads():
    """The thread count of the OpenBLAS that torch loaded, or 0 if unknown."""
    import ctypes
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            return ctypes.CDLL(name).openblas_get_num_threads()
        except (OSError, AttributeError):
            continue
    return 0


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


# ---- The driver ----

def run_config(config, specs, reps, target):
    """Times one configuration in a fresh process; returns its rows."""
    name, env_add, torch_threads, mkldnn = config
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
    env.update(env_add)
    job = json.dumps(dict(specs=specs, reps=reps, target=target,
                          torch_threads=torch_threads, mkldnn=mkldnn))
    out = subprocess.run([sys.executable, __file__, "--measure"], input=job,
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"torch_bench: configuration '{name}' failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--measure":
        job = json.loads(sys.stdin.read())
        rows = measure(job["specs"], job["reps"], job["target"],
                       job["torch_threads"], job["mkldnn"])
        print(json.dumps(rows))
        return
    if len(sys.argv) != 6:
        raise SystemExit(__doc__.split("\n\n")[1])
    spec_file, out_csv = sys.argv[1], sys.argv[2]
    threads, reps, target = int(sys.argv[3]), int(sys.argv[4]), \
        float(sys.argv[5])
    specs = read_specs(spec_file)
    import torch
    version = torch.__version__
    configs = configurations(threads)

    explored = {}  # (name, precision) -> [(median, config index, row)]
    for i, config in enumerate(configs):
        print(f"  torch: exploring {config[0]}", flush=True)
        for row in run_config(config, specs, min(reps, 3), target / 4):
            explored.setdefault((row["name"], row["precision"]), []).append(
                (row["median"], i, row))

    # The out-of-the-box configuration, and each workload's fastest one,
    # measured afresh at full length.
    best = {key: min(runs)[1] for key, runs in explored.items()}
    final = {}
    for i in sorted({0} | set(best.values())):
        wanted = [s for s in specs if i == 0 or
                  best[(s["name"], s["precision"])] == i]
        print(f"  torch: measuring {configs[i][0]}", flush=True)
        for row in run_config(configs[i], wanted, reps, target):
            final[(row["name"], row["precision"], i)] = row

    with open(out_csv, "a", newline="") as f:
        out = csv.writer(f)

        def write(section, impl, config, row, per_rep, flops):
            settings = (f"torch {version}; torch threads "
                        f"{row['torch_threads']}; OpenBLAS threads "
                        f"{row['blas_threads'] or '?'}; mkldnn "
                        f"{'on' if row['mkldnn'] else 'off'}")
            out.writerow([section, row["name"], row["precision"], impl,
                          config, threads, "ms_per_update",
                          f"{row['median']:.4f}", f"{row['min']:.4f}",
                          f"{row['max']:.4f}", "ms", row["reps"], per_rep,
                          f"{flops / row['median'] * 1e-6:.2f}", settings])

        for spec in specs:
            key = (spec["name"], spec["precision"])
            flops = gemm_flops(spec)
            for m, i, row in sorted(explored[key], key=lambda r: r[1]):
                write("explore", "torch", configs[i][0], row, row["per_rep"],
                      flops)
            write("update", "torch-default", configs[0][0],
                  final[key + (0,)], final[key + (0,)]["per_rep"], flops)
            row = final[key + (best[key],)]
            write("update", "torch-best", configs[best[key]][0], row,
                  row["per_rep"], flops)


if __name__ == "__main__":
    main()
