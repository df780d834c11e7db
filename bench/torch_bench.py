"""torch_bench.py — the benchmark's PyTorch side: the same nets and the same
NAG update as the generated programs, timed in PyTorch on the CPU, out of the
box and at the best configuration found on this machine.

    python3 bench/torch_bench.py SPEC_FILE OUT_CSV THREADS REPS TARGET_S [ONE]

SPEC_FILE has one line per workload and precision, written by bench/run.sh
from `mdlc --dump-model`, the program's header and the GEMM ceiling:

    NAME PRECISION BATCH CASES NETWORK UNITS LOSS EPSILON GFLOP KIND
    curves float32 200 2000 784-400-...-784 sigmoid,...,sigmoid cross_entropy 0.005 0.883 feedforward
    rnn80 float32 100 1000 2-100-1 tanh,linear squared 0.001 0.535 recurrent:88:last

UNITS names the units of every layer above the input; GFLOP is the
ceiling's count of the update's products (2mnk per GEMM, 2mn per GEMV), so
that the GFLOP/s of both sides divide the same number. KIND is feedforward,
or recurrent:STEPS:last|every for a recurrent net unrolled over STEPS steps
with targets at the last step or at every step.

For a feed-forward workload the update is the generated program's:

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

For a recurrent workload, in two implementations, each timed in every
configuration; the faster is PyTorch's figure for the row, and is named:

  * "loop": time-major tensors, the input projection of all steps as one
    product (x @ W_ih + b_h over a (STEPS * BATCH) x n_in matrix), a Python
    loop over its steps (unbind) with h = tanh(addmm(z_s, h, W_hh)) from
    h_0 = 0, the
    outputs (one product over the last states, or over the states of every
    step), the loss, and loss.backward() (autograd's BPTT);
  * "nn.RNN": torch.nn.RNN(nonlinearity='tanh') (ATen's own loop over the
    steps, in C++) and an nn.Linear output layer.

Both draw a fresh minibatch of random inputs (and targets) of the program's
shape at every update, as the program generates its sequences; every
sequence has STEPS steps, the output read at the last. The loss is half the
squared error of linear outputs, or the softmax cross-entropy of every
step's outputs (F.cross_entropy, summed over the steps, averaged over the
sequences). The NAG update is the same as above, with sec. 4's schedule:
mu = 0.9 for the first 1000 updates, then 0.995.

Every configuration runs in a fresh process, since the thread settings of
OpenMP and OpenBLAS are read when the libraries load. First each
configuration is timed briefly on every workload (the exploration: at most
2 repetitions of about TARGET_S / 4 seconds); then the out-of-the-box
configuration and the fastest one of each workload are timed again with REPS
repetitions of about TARGET_S seconds of updates each, after a warm-up, so the
reported best is a fresh measurement, not the luckiest exploration run. For
an RNN a configuration is a thread setting and an implementation: out of the
box is the default setting with the implementation faster there, the best
the fastest pair.

ONE, if given, names workloads (comma-separated) whose float32 update is
also timed at one thread (the sweep-throughput rows: a sweep's jobs run
that way): torch.set_num_threads(1) with OMP_NUM_THREADS=1 and
OPENBLAS_NUM_THREADS=1, REPS repetitions of TARGET_S seconds, every
variant, the faster one reported.

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
            name, precision, batch, cases, network, units, loss, eps, gflop, \
                kind = line.split()
            spec = dict(name=name, precision=precision, batch=int(batch),
                        cases=int(cases),
                        widths=[int(w) for w in network.split("-")],
                        units=units.split(","), loss=loss,
                        epsilon=float(eps), gflop=float(gflop),
                        recurrent=kind.startswith("recurrent:"))
            if spec["recurrent"]:
                _, steps, targets = kind.split(":")
                spec.update(steps=int(steps), every=targets == "every")
            specs.append(spec)
    return specs


def variants(spec):
    """The implementations timed for a workload."""
    return ["loop", "nn.RNN"] if spec["recurrent"] else [""]


# ---- One configuration, in its own process ----

def measure(specs, reps, target, torch_threads, mkldnn):
    """Times every (spec, variant) of the job in this process. A spec may
    carry "only", the variants to time (default: all of variants(spec))."""
    import torch

    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    if mkldnn is not None:
        torch.backends.mkldnn.enabled = mkldnn
    blas_threads = openblas_threads()

    rows = []
    for spec in specs:
        for variant in spec.get("only", variants(spec)):
            torch.manual_seed(1)
            if spec["recurrent"]:
                update = recurrent_update(spec, variant, torch)
            else:
                update = feedforward_update(spec, torch)
            ms, per_rep = time_updates(update, reps, target)
            rows.append(dict(name=spec["name"], precision=spec["precision"],
                             variant=variant, median=median(ms), min=ms[0],
                             max=ms[-1], per_rep=per_rep, reps=reps,
                             torch_threads=torch.get_num_threads(),
                             blas_threads=blas_threads,
                             mkldnn=torch.backends.mkldnn.enabled))
    return rows


def time_updates(update, reps, target):
    """ms per update of reps repetitions of about target seconds each, sorted,
    after a warm-up (allocator, threads, page faults); and the updates per
    repetition. The warm-up is 3 updates, or fewer when they take more than
    target / 2 in all (a configuration whose threads fight over the cores can
    make an RNN's update last seconds); the last one sizes the repetitions."""
    warm_up = time.perf_counter()
    for _ in range(3):
        start = time.perf_counter()
        update()
        one = time.perf_counter() - start
        if start + one - warm_up > target / 2:
            break
    per_rep = max(1, round(target / max(one, 1e-6)))
    ms = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(per_rep):
            update()
        ms.append((time.perf_counter() - start) * 1e3 / per_rep)
    ms.sort()
    return ms, per_rep


def dtype_of(spec, torch):
    return torch.float64 if spec["precision"] == "float64" else torch.float32


def nag(params, velocity, mu, mu_next, eps, torch):
    """NAG in the generated program's carried form: the parameters hold the
    look-ahead point phi = theta + mu v."""
    with torch.no_grad():
        for p, v in zip(params, velocity):
            p.add_(v, alpha=-mu)
            v.mul_(mu).add_(p.grad, alpha=-eps)
            p.add_(v, alpha=1 + mu_next)


def step(loss, params, velocity, state, mu_at, eps, torch):
    """The gradient of the loss, then NAG's update t (eqs. 3-4)."""
    for p in params:
        p.grad = None
    loss.backward()
    t = state["t"]
    nag(params, velocity, mu_at(t), mu_at(t + 1), eps, torch)
    state["t"] = t + 1


def feedforward_update(spec, torch):
    """One update of a feed-forward net, as a closure."""
    import torch.nn.functional as F
    dtype = dtype_of(spec, torch)
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
        return min(1 - 2 ** (-1 - math.log2(math.floor(t / 250) + 1)), 0.999)

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
        step(loss, params, velocity, state, mu_at, eps, torch)

    return update


def recurrent_update(spec, variant, torch):
    """One update of a recurrent net (variant "loop" or "nn.RNN"), as a
    closure. The initial weights are small random numbers: their values do
    not change the time of an update."""
    import torch.nn.functional as F
    dtype = dtype_of(spec, torch)
    n_in, hidden, n_out = spec["widths"]
    steps, every, batch = spec["steps"], spec["every"], spec["batch"]
    eps = spec["epsilon"]
    if spec["units"][0] != "tanh" or len(spec["widths"]) != 3:
        raise SystemExit(f"torch_bench: {spec['name']}: only one layer of "
                         f"tanh units is written here")
    output_unit = spec["units"][-1]
    if (output_unit, spec["loss"]) not in (("linear", "squared"),
                                           ("softmax", "cross_entropy")):
        raise SystemExit(f"torch_bench: {spec['name']}: {output_unit} "
                         f"outputs with {spec['loss']} are not written here")

    if variant == "nn.RNN":
        rnn = torch.nn.RNN(n_in, hidden, nonlinearity="tanh").to(dtype)
        out = torch.nn.Linear(hidden, n_out).to(dtype)
        params = list(rnn.parameters()) + list(out.parameters())

        def outputs(x):
            states, last = rnn(x)  # h_0 = 0
            if every:
                return out(states.reshape(steps * batch, hidden))
            return out(last[0])
    else:
        def weights(rows, cols, scale):
            return (torch.randn(rows, cols, dtype=dtype) *
                    scale).requires_grad_()
        w_ih = weights(n_in, hidden, 0.001)
        w_hh = weights(hidden, hidden, 1.1 / math.sqrt(hidden))  # radius ~1.1
        w_ho = weights(hidden, n_out, 0.1)
        b_h = torch.zeros(hidden, dtype=dtype, requires_grad=True)
        b_o = torch.zeros(n_out, dtype=dtype, requires_grad=True)
        params = [w_ih, w_hh, b_h, w_ho, b_o]
        h_0 = torch.zeros(batch, hidden, dtype=dtype)

        def outputs(x):
            z = torch.addmm(b_h, x.reshape(steps * batch, n_in), w_ih)
            # unbind, not z[s]: autograd then gathers the steps' gradients
            # once, instead of a full-size zero tensor for every step
            h, states = h_0, []
            for z_s in z.reshape(steps, batch, hidden).unbind(0):
                h = torch.tanh(torch.addmm(z_s, h, w_hh))
                states.append(h)
            if every:
                return torch.addmm(
                    b_o, torch.stack(states).reshape(steps * batch, hidden),
                    w_ho)
            return torch.addmm(b_o, h, w_ho)

    velocity = [torch.zeros_like(p) for p in params]
    state = {"t": 0}

    def mu_at(t):  # sec. 4: 0.9 for the first 1000 updates, then mu_0
        return 0.9 if t < 1000 else 0.995

    def update():
        x = torch.rand(steps, batch, n_in, dtype=dtype)
        y = outputs(x)
        if every:
            target = torch.randint(n_out, (steps * batch,))
            loss = F.cross_entropy(y, target, reduction="sum") / batch
        else:
            target = torch.rand(batch, n_out, dtype=dtype)
            loss = 0.5 * (y - target).pow(2).sum() / batch
        step(loss, params, velocity, state, mu_at, eps, torch)

    return update


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
    if len(sys.argv) not in (6, 7):
        raise SystemExit(__doc__.split("\n\n")[1])
    spec_file, out_csv = sys.argv[1], sys.argv[2]
    threads, reps, target = int(sys.argv[3]), int(sys.argv[4]), \
        float(sys.argv[5])
    one_thread = sys.argv[6].split(",") if len(sys.argv) == 7 else []
    specs = read_specs(spec_file)
    import torch
    version = torch.__version__
    configs = configurations(threads)

    # (name, precision) -> [(median, config index, variant, row)]
    explored = {}
    for i, config in enumerate(configs):
        print(f"  torch: exploring {config[0]}", flush=True)
        for row in run_config(config, specs, min(reps, 2), target / 4):
            explored.setdefault((row["name"], row["precision"]), []).append(
                (row["median"], i, row["variant"], row))

    # Out of the box: the default configuration, with the variant that was
    # faster there; the best: the fastest configuration and variant. Both
    # measured afresh at full length.
    default, best = {}, {}
    for key, runs in explored.items():
        default[key] = min(r for r in runs if r[1] == 0)[2]
        best[key] = min(runs)[1:3]
    final = {}
    for i in sorted({0} | {b[0] for b in best.values()}):
        wanted = []
        for spec in specs:
            key = (spec["name"], spec["precision"])
            only = {default[key]} if i == 0 else set()
            if best[key][0] == i:
                only.add(best[key][1])
            if only:
                wanted.append(dict(spec, only=sorted(only)))
        print(f"  torch: measuring {configs[i][0]}", flush=True)
        for row in run_config(configs[i], wanted, reps, target):
            final[(row["name"], row["precision"], i, row["variant"])] = row

    # One thread, as a sweep's jobs run: every variant, the faster reported.
    one = [s for s in specs
           if s["name"] in one_thread and s["precision"] == "float32"]
    one_rows = {}
    if one:
        config = ("one thread",
                  {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}, 1,
                  None)
        print("  torch: measuring one thread", flush=True)
        for row in run_config(config, one, reps, target):
            key = (row["name"], row["precision"])
            if key not in one_rows or row["median"] < one_rows[key]["median"]:
                one_rows[key] = row

    def named(i, variant):  # a configuration, with the variant if any
        return configs[i][0] + (f" · {variant}" if variant else "")

    with open(out_csv, "a", newline="") as f:
        out = csv.writer(f, lineterminator="\n")  # awk reads the rows

        def write(section, impl, config, row, flops, variant="",
                  n_threads=threads):
            settings = (f"torch {version}; torch threads "
                        f"{row['torch_threads']}; OpenBLAS threads "
                        f"{row['blas_threads'] or '?'}; mkldnn "
                        f"{'on' if row['mkldnn'] else 'off'}"
                        + (f"; {variant}" if variant else ""))
            out.writerow([section, row["name"], row["precision"], impl,
                          config, n_threads, "ms_per_update",
                          f"{row['median']:.4f}", f"{row['min']:.4f}",
                          f"{row['max']:.4f}", "ms", row["reps"],
                          row["per_rep"],
                          f"{flops / row['median'] * 1e-6:.2f}", settings])

        for spec in specs:
            key = (spec["name"], spec["precision"])
            flops = spec["gflop"] * 1e9
            for m, i, variant, row in sorted(explored[key],
                                             key=lambda r: r[1:3]):
                impl = f"torch {variant}" if variant else "torch"
                write("explore", impl, configs[i][0], row, flops)
            v = default[key]
            write("update", "torch-default", named(0, v),
                  final[key + (0, v)], flops)
            i, v = best[key]
            write("update", "torch-best", named(i, v), final[key + (i, v)],
                  flops)
            if key in one_rows:
                row = one_rows[key]
                write("throughput", "torch", "1 run × 1 thread", row, flops,
                      row["variant"], 1)


if __name__ == "__main__":
    main()
