"""A small tanh network fitted to the 1-D Poisson problem u'' = f on [0, 1], u(0) = u(1) = 0,
with u_xx computed through the layers by forward-mode differentiation written by hand, from
fastact's tanh, tanh' and tanh'' (no autodiff library).

    python examples/pinn_poisson.py [--points 2000] [--hidden 64] [--out pinn_poisson.png]

f = -pi^2 sin(pi x), so the solution is sin(pi x).  The network is x -> tanh(W1 x + b1) ->
tanh(W2 h + b2) -> W3 h + b3, its hidden weights random and fixed (a random-feature PINN, as
in extreme learning machines): u'' is then linear in the output weights, which least squares
fits to the equation at the collocation points and to the two boundary values.  Where PyTorch
or JAX is installed, the same network's u_xx from their autodiff is printed beside fastact's,
with the time of each.
"""
import argparse
import time

import numpy as np

import fastact as fa


def hidden_layers(n_hidden, rng):
    """Random weights of the two tanh layers, scaled so that their inputs stay within ~[-3, 3]."""
    w1 = rng.normal(0, 3.0, (1, n_hidden))
    b1 = rng.uniform(-3.0, 3.0, n_hidden)
    w2 = rng.normal(0, 1.5 / np.sqrt(n_hidden), (n_hidden, n_hidden))
    b2 = rng.uniform(-1.0, 1.0, n_hidden)
    return w1, b1, w2, b2


def features(x, w1, b1, w2, b2):
    """The last hidden layer h2 and its first and second derivatives in x, (n, hidden) each:
    a = W h + b carries (a, a', a''); h = g(a) gives h' = g'(a) a' and h'' = g''(a) a'^2 + g'(a) a''."""
    a1 = x[:, None] * w1 + b1                  # a1' = w1, a1'' = 0
    h1, g1, s1 = fa.tanh.derivatives(a1)       # tanh, tanh', tanh'' in one pass
    d1 = g1 * w1
    dd1 = s1 * (w1 * w1)
    a2, da2, dda2 = h1 @ w2 + b2, d1 @ w2, dd1 @ w2
    h2, g2, s2 = fa.tanh.derivatives(a2)
    d2 = g2 * da2
    dd2 = s2 * (da2 * da2) + g2 * dda2
    return h2, d2, dd2


def fit(x, f, layers):
    """Output weights (w3, b3): least squares on u''(x) = f(x) and u(0) = u(1) = 0."""
    _, _, dd = features(x, *layers)
    h_ends, _, _ = features(np.array([0.0, 1.0]), *layers)
    n = len(x)
    weight = np.sqrt(n)  # the two boundary rows count as much as the interior ones together
    rows = np.vstack([np.hstack([dd, np.zeros((n, 1))]),
                      weight * np.hstack([h_ends, np.ones((2, 1))])])
    rhs = np.concatenate([f, [0.0, 0.0]])
    sol, *_ = np.linalg.lstsq(rows, rhs, rcond=None)
    return sol[:-1], sol[-1]


def u_xx_torch(x, layers, w3):
    import torch

    w1, b1, w2, b2 = (torch.from_numpy(np.asarray(p)) for p in layers)
    t = torch.from_numpy(x).requires_grad_(True)
    u = torch.tanh(torch.tanh(t[:, None] * w1 + b1) @ w2 + b2) @ torch.from_numpy(w3)
    (u_x,) = torch.autograd.grad(u.sum(), t, create_graph=True)
    (u_xx,) = torch.autograd.grad(u_x.sum(), t)
    return u_xx.numpy()


def u_xx_jax(x, layers, w3):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    w1, b1, w2, b2 = (jnp.asarray(p) for p in layers)

    def u(xi):
        return jnp.tanh(jnp.tanh(xi * w1[0] + b1) @ w2 + b2) @ jnp.asarray(w3)

    u_xx = jax.jit(jax.vmap(jax.grad(jax.grad(u))))
    return np.asarray(u_xx(jnp.asarray(x)))


def timed(fn, repeats=5):
    fn()  # warm up (compilation, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="pinn_poisson.png", help="the plot (needs matplotlib)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    x = np.linspace(0.0, 1.0, args.points)
    f = -np.pi ** 2 * np.sin(np.pi * x)
    layers = hidden_layers(args.hidden, rng)
    w3, b3 = fit(x, f, layers)
    h, _, dd = features(x, *layers)
    u, u_xx = h @ w3 + b3, dd @ w3
    print(f"{args.points} collocation points, {args.hidden} tanh units per layer")
    print(f"residual max |u_xx - f|:          {np.max(np.abs(u_xx - f)):.3e}")
    print(f"boundary |u(0)|, |u(1)|:          {abs(u[0]):.3e}, {abs(u[-1]):.3e}")
    print(f"error max |u - sin(pi x)|:        {np.max(np.abs(u - np.sin(np.pi * x))):.3e}")
    t_fastact = timed(lambda: features(x, *layers)[2] @ w3)
    print(f"fastact u_xx (forward mode):      {t_fastact * 1e3:.2f} ms")
    for peer, fn in (("PyTorch", u_xx_torch), ("JAX", u_xx_jax)):
        try:
            other = fn(x, layers, w3)
        except ImportError:
            print(f"{peer}: not installed (optional), skipped")
            continue
        scale = np.max(np.abs(u_xx))
        print(f"{peer} autodiff u_xx: max difference {np.max(np.abs(other - u_xx)) / scale:.1e} "
              f"(relative to max |u_xx|)")
        t_peer = timed(lambda: fn(x, layers, w3))
        print(f"{peer} u_xx:                      {t_peer * 1e3:.2f} ms "
              f"(time ratio {peer}/fastact: {t_peer / t_fastact:.2f})")
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no plot")
        return 0
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(x, np.sin(np.pi * x), "k-", lw=3, alpha=0.3, label="sin(pi x)")
    left.plot(x, u, "C0--", label="network")
    left.set_title("u")
    left.legend()
    right.plot(x, u_xx - f, "C3-")
    right.set_title("residual u_xx - f")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"plot: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
