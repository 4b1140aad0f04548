"""Train a two-layer network on a synthetic two-spirals set, twice: with fastact's fused
value_and_grad / backward, and with the naive numpy formulas.  Same losses, and the speed-up.

    python examples/two_layer_network.py [--samples 4000] [--hidden 256] [--epochs 200]
"""
import argparse
import time

import numpy as np

import fastact as fa


def spirals(n, rng):
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    label = rng.integers(0, 2, n)
    sign = np.where(label == 1, 1.0, -1.0)
    x = np.stack([sign * t * np.cos(t), sign * t * np.sin(t)], axis=1) / 10
    return x + rng.normal(0, 0.05, x.shape), label.astype(np.float64)


def train(x, y, hidden, epochs, lr, use_fastact, seed=1):
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 1.0, (x.shape[1], hidden))
    b1 = np.zeros(hidden)
    w2 = rng.normal(0, 1.0 / np.sqrt(hidden), (hidden, 1))
    b2 = np.zeros(1)
    n = len(x)
    losses = []
    act_time = 0.0
    for _ in range(epochs):
        pre = x @ w1 + b1
        t0 = time.perf_counter()
        if use_fastact:
            h, dh = fa.tanh.value_and_grad(pre)  # value and derivative in one pass
        else:
            h = np.tanh(pre)
            dh = 1.0 - h * h
        act_time += time.perf_counter() - t0
        out = (h @ w2 + b2)[:, 0]
        t0 = time.perf_counter()
        p = fa.sigmoid(out) if use_fastact else 1.0 / (1.0 + np.exp(-out))
        act_time += time.perf_counter() - t0
        losses.append(0.5 * np.mean((p - y) ** 2))
        g_p = (p - y) / n
        t0 = time.perf_counter()
        if use_fastact:
            g_out = fa.sigmoid.backward(g_p, out)  # g_p * sigmoid'(out), fused
        else:
            s = 1.0 / (1.0 + np.exp(-out))
            g_out = g_p * (s * (1.0 - s))
        act_time += time.perf_counter() - t0
        g_w2 = h.T @ g_out[:, None]
        g_b2 = g_out.sum(keepdims=True)
        g_pre = (g_out[:, None] @ w2.T) * dh
        w1 -= lr * (x.T @ g_pre)
        b1 -= lr * g_pre.sum(axis=0)
        w2 -= lr * g_w2
        b2 -= lr * g_b2
    accuracy = np.mean((p > 0.5) == (y > 0.5))
    return np.array(losses), accuracy, act_time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args(argv)
    x, y = spirals(args.samples, np.random.default_rng(0))
    train(x[:8], y[:8], 4, 1, args.lr, True)  # compile the kernels before timing
    fast, acc_fast, t_fast = train(x, y, args.hidden, args.epochs, args.lr, True)
    naive, acc_naive, t_naive = train(x, y, args.hidden, args.epochs, args.lr, False)
    worst = float(np.max(np.abs(fast - naive) / naive))
    print(f"epochs {args.epochs}, samples {args.samples}, hidden {args.hidden}")
    for e in sorted({0, len(fast) // 2, len(fast) - 1}):
        print(f"epoch {e:4d}  loss fastact {fast[e]:.12f}  numpy {naive[e]:.12f}")
    print(f"accuracy fastact {acc_fast:.3f}  numpy {acc_naive:.3f}")
    print(f"largest relative loss difference {worst:.2e}")
    print(f"activation time: fastact {t_fast * 1e3:.1f} ms, numpy {t_naive * 1e3:.1f} ms, "
          f"speed-up {t_naive / t_fast:.1f}x")
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
