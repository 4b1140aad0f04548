"""The bulk kernels (fastact/_math/_fp.py): the same bits as the kernels for every input, on their
domain, and the numba loops that run them block by block.  Derived from the forms that have them."""
import numpy as np
import pytest

import fastact

numba = pytest.importorskip("numba")
from fastact import _numba_backend  # noqa: E402
from fastact._math import declare  # noqa: E402

if _numba_backend._fingerprint is None:  # the backend registers the math on its first loop
    _numba_backend._register_math()

BULK = [(name, kind) for name, act in fastact.activations.items()
        if name == act.name for kind, form in act.forms.items() if form.bulk_math is not None]
# (name, kind, dtype): the float64 bulk kernels, and the float32 ones where a formula has them
BULK_DTYPES = [(name, kind, np.float64) for name, kind in BULK] + [
    (name, kind, np.float32) for name, kind in BULK
    if fastact.get(name).forms[kind].single_bulk_math is not None]
PARAMS = {"softplus": [(1.0,), (2.5,), (1e-30,), (2.0 ** 100,), (2.0 ** 101,), (3e-31,)]}
TAIL = {np.float64: -750.0, np.float32: -95.0}  # an input outside every bulk domain


def _form(name, kind):
    return fastact.get(name).forms[kind]


def _math(form, dtype):
    """(value, grad) and (bulk value, bulk grad, in_bulk) for arrays of ``dtype``."""
    if dtype == np.float32:
        return form.single_math, form.single_bulk_math
    return form.scalar_math, form.bulk_math


def _pair_loop(value, grad):
    @numba.njit
    def loop(z, y, dy, *params):
        for i in range(z.size):
            y[i] = value(z[i], *params)
            dy[i] = grad(z[i], *params)

    return loop


def _domain_samples(limit, seed, dtype=np.float64):
    """Every magnitude up to ``limit``, its edges, signed zeros and subnormal inputs."""
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    tiny = np.log10(float(info.smallest_subnormal))
    mags = np.concatenate([limit * rng.uniform(0, 1, 20000), 10.0 ** rng.uniform(tiny, 0, 4000),
                           2.0 ** rng.uniform(-20, 5, 4000),
                           [limit, np.nextafter(dtype(limit), dtype(0)), 0.0,
                            info.smallest_subnormal, 1.0, 2.0]]).astype(dtype)
    mags = mags[mags <= limit]
    return np.concatenate([mags, -mags])


def _bits(a):
    return a.view(np.int64 if a.dtype == np.float64 else np.int32)


def test_the_logistic_family_has_bulk_kernels():
    assert {name for name, _ in BULK} >= {"sigmoid", "tanh", "silu", "softplus", "log_sigmoid"}


@pytest.mark.parametrize("name, kind, dtype", BULK_DTYPES)
def test_bulk_kernels_give_the_kernels_bits_on_their_domain(name, kind, dtype):
    kernels, bulk_kernels = _math(_form(name, kind), dtype)
    full, bulk = _pair_loop(*kernels), _pair_loop(*bulk_kernels[:2])
    in_bulk = numba.njit(bulk_kernels[2])
    for params in PARAMS.get(name, [()]):
        # the domain's bound on |x|: the largest power of two inside it, then up to the edge
        limit = 2.0 ** 1000
        while in_bulk(limit, *params) != 1.0 and limit > 2.0 ** -1000:
            limit /= 2.0
        if in_bulk(limit, *params) != 1.0:  # no domain at these parameters
            assert params in [(2.0 ** 101,), (3e-31,)]
            continue
        while in_bulk(limit * 1.0625, *params) == 1.0:
            limit *= 1.0625
        z = _domain_samples(limit, 7, dtype)
        assert all(in_bulk(float(x), *params) == 1.0 for x in z[::97])
        y, d, y2, d2 = (np.empty_like(z) for _ in range(4))
        full(z, y, d, *params)
        bulk(z, y2, d2, *params)
        assert np.array_equal(_bits(y), _bits(y2)) and np.array_equal(_bits(d), _bits(d2)), params
        assert np.all(np.isfinite(y)) and np.count_nonzero(d) > z.size // 2  # a real test


@pytest.mark.parametrize("name, kind, dtype", BULK_DTYPES)
def test_the_bulk_domain_leaves_out_nan_inf_and_the_tails(name, kind, dtype):
    in_bulk = _math(_form(name, kind), dtype)[1][2]
    params = PARAMS.get(name, [()])[0]
    for x in (np.nan, np.inf, -np.inf, -800.0, 800.0, 1e300, -1e300, TAIL[dtype], -TAIL[dtype]):
        assert in_bulk(x, *params) == 0.0 and numba.njit(in_bulk)(x, *params) == 0.0
    assert in_bulk(0.0, *params) == 1.0 and in_bulk(-1.0, *params) == 1.0


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_max_abs_bits_orders_nan_above_inf(compiled):
    fn = numba.njit(_numba_backend.max_abs_bits) if compiled else _numba_backend.max_abs_bits

    def max_abs(z):
        return np.int64(fn(z)).view(np.float64)

    z = np.array([1.0, -3.0, 2.0, -0.0])
    assert max_abs(z) == 3.0
    assert max_abs(np.append(z, -np.inf)) == np.inf
    assert np.isnan(max_abs(np.append(z, [np.inf, -np.nan])))
    assert max_abs(np.zeros(0)) == 0.0
    assert fn(z.astype(np.float32)) == 0  # float32 blocks: nothing to decide


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_max_abs_bits_float32_too_orders_float32s(compiled):
    """The scan of formulas with float32 bulk kernels: a float32 block's largest |x| from its
    own bits, NaN above inf; float64 blocks as ``max_abs_bits``."""
    fn = _numba_backend.max_abs_bits_float32_too
    fn = numba.njit(fn) if compiled else fn

    def max_abs(z):
        return np.int32(fn(z)).view(np.float32)

    z = np.array([1.0, -3.5, 2.0, -0.0, 1e-45], dtype=np.float32)
    assert max_abs(z) == np.float32(3.5)
    assert max_abs(np.append(z, np.float32(-np.inf))) == np.inf
    assert np.isnan(max_abs(np.append(z, np.float32([np.inf, -np.nan]))))
    assert max_abs(np.zeros(0, np.float32)) == 0.0
    assert np.int64(fn(z.astype(np.float64))).view(np.float64) == 3.5


@pytest.mark.parametrize("name, kind, dtype", BULK_DTYPES)
@pytest.mark.parametrize("variant", ["value", "grad", "value_and_grad", "backward"])
def test_loops_give_each_element_its_own_bits_whatever_its_block(name, kind, dtype, variant):
    """One tail element makes its block run the kernels for every input: each element's result
    is the same whichever kernels its block ran (and NaN, inf stay as they are)."""
    form = _form(name, kind)
    params = PARAMS.get(name, [()])[0]
    block = _numba_backend.BULK_BLOCK
    rng = np.random.default_rng(3)
    z = rng.normal(0, 4, 3 * block + 5).astype(dtype)
    tails = z.copy()
    tails[block + 7] = TAIL[dtype]  # the second block only
    tails[-1] = np.nan  # the last, short block
    loop = _numba_backend.build_loop(form, variant, cache=False)

    def run(a):
        outs = [np.empty_like(a) for _ in range(2 if variant == "value_and_grad" else 1)]
        loop(*([np.full_like(a, 0.75)] if variant == "backward" else []), a, *outs, *params)
        return outs

    plain, mixed = run(z), run(tails)
    keep = np.ones(z.size, bool)
    keep[[block + 7, -1]] = False
    for p, m in zip(plain, mixed):
        assert np.array_equal(_bits(p[keep]), _bits(m[keep]))
        assert np.isnan(m[-1])
    # and every element, the tail and the NaN included, has the kernels' own bits
    y, d = np.empty_like(z), np.empty_like(z)
    _pair_loop(*_math(form, dtype)[0])(tails, y, d, *params)
    want = {"value": [y], "grad": [d], "backward": [d * dtype(0.75)],
            "value_and_grad": [y, d]}[variant]
    for w, m in zip(want, mixed):
        assert np.array_equal(_bits(w[:-1]), _bits(m[:-1]))


@pytest.mark.parametrize("variant", ["value", "value_and_grad"])
def test_float32_loops_keep_their_float32_kernels(variant):
    """float32 arrays of a formula without float32 bulk kernels run its float32 kernels: the
    block test folds away (one loop body)."""
    assert _form("log_sigmoid", None).single_bulk_math is None
    loop = _numba_backend.build_loop(_form("log_sigmoid", None), variant, cache=False)
    z = np.linspace(-3, 3, 50, dtype=np.float32)
    outs = [np.empty_like(z) for _ in range(2 if variant == "value_and_grad" else 1)]
    loop(z, *outs)
    want = fastact.log_sigmoid(z) if variant == "value" else fastact.log_sigmoid.value_and_grad(z)[0]
    assert np.array_equal(outs[0], want)


def test_loops_loaded_from_the_disk_cache_run_their_own_bodies(tmp_path):
    """Loops compiled in two processes, then loaded from the disk cache together in a third.
    Loop bodies are functions of their own (not inlined), each under a name of its own
    (``_register_body``): numba numbers a function's symbol per process, so two processes'
    bodies of one name could share a symbol, and a process that loads both from the cache
    would run one for the other (seen once: sigmoid's float32 values from log_sigmoid's body)."""
    import os
    import subprocess
    import sys

    calls = "for dt in (np.float64, np.float32):\n    {}\n"
    check = ("a, b = fa.log_sigmoid(z.astype(dt)), fa.sigmoid(z.astype(dt))\n"
             "    assert np.all(a < 0) and np.allclose(b, 1 / (1 + np.exp(-z)), rtol=1e-6), b")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), FASTACT_BACKEND="numba")
    for body in ("fa.log_sigmoid(z.astype(dt))", "fa.sigmoid(z.astype(dt))", check):
        script = "import numpy as np, fastact as fa\nz = np.linspace(-5, 5, 9)\n"
        subprocess.run([sys.executable, "-c", script + calls.format(body)], env=env, check=True)
    assert any(p.suffix == ".nbi" for p in tmp_path.rglob("*"))  # the third run loaded them


@pytest.mark.parametrize("name, kind, dtype", BULK_DTYPES)
def test_loops_run_as_plain_python(name, kind, dtype):
    """The loop as plain Python (NUMBA_DISABLE_JIT=1 runs it so): the blocks and the scan of the
    block ahead index within their arrays, and the results are the compiled loop's (plain
    Python's mul_add rounds twice, and its float32 math runs in double: within a few ulp)."""
    params = PARAMS.get(name, [()])[0]
    block = _numba_backend.BULK_BLOCK
    z = np.random.default_rng(5).normal(0, 4, 2 * block + block // 2).astype(dtype)
    z[block + 3] = TAIL[dtype]
    loop = _numba_backend.build_loop(_form(name, kind), "value_and_grad", cache=False)
    outs = [np.empty_like(z) for _ in range(4)]
    loop(z, *outs[:2], *params)
    loop.py_func(z, *outs[2:], *params)
    # float32 atol: silu' crosses 0 (at z = -1.278), where the two differ by a few ulp of
    # silu'(z)'s largest term (s(z) ~ 0.22 there), not of silu'(z) itself
    tols = [dict(rtol=2e-15, atol=2e-16)] * 2 if dtype == np.float64 else \
        [dict(rtol=3e-7, atol=0), dict(rtol=3e-7, atol=6e-8 if name == "silu" else 0)]
    for compiled, plain, tol in zip(outs[:2], outs[2:], tols):
        assert np.allclose(plain, compiled, **tol)


@pytest.mark.parametrize("name, kind, dtype", BULK_DTYPES)
@pytest.mark.parametrize("variant", ["value", "grad", "value_and_grad", "backward"])
def test_each_backend_gives_the_kernels_bits_on_mixed_blocks(name, kind, dtype, variant,
                                                             backend):
    """Through the methods (threads, ufunc loops), contiguous and strided: blocks of ordinary
    inputs beside blocks with a tail or a NaN, on each compiled backend (the Cython extension
    has its own block loop, ``run_blocks``)."""
    form = _form(name, kind)
    params = PARAMS.get(name, [()])[0]
    block = _numba_backend.BULK_BLOCK
    z = np.random.default_rng(11).normal(0, 4, 2 * (5 * block + 9)).astype(dtype)
    z[[3 * block + 2, 2 * (5 * block) + 4]] = [TAIL[dtype], np.nan]  # (even: in z[::2] too)
    y, d = np.empty_like(z), np.empty_like(z)
    _pair_loop(*_math(form, dtype)[0])(z, y, d, *params)
    want = {"value": [y], "grad": [d], "backward": [d * dtype(0.75)],
            "value_and_grad": [y, d]}[variant]
    act = fastact.get(name)
    kw = dict(zip([p.name for p in act.params], params))
    if kind is not None:  # a formula chosen by a keyword (gelu's approximate="tanh")
        kw[act.choice.name] = kind
    for a, w in ((z, want), (z[::2], [v[::2] for v in want])):
        call = {"value": lambda: [act(a, **kw)], "grad": lambda: [act.grad(a, **kw)],
                "value_and_grad": lambda: list(act.value_and_grad(a, **kw)),
                "backward": lambda: [act.backward(np.full_like(a, 0.75), a, **kw)]}[variant]
        for got, expected in zip(call(), w):
            got, expected = np.ascontiguousarray(got), np.ascontiguousarray(expected)
            nan = np.isnan(expected)  # (a NaN's sign is the compiler's)
            assert np.array_equal(np.isnan(got), nan) and nan.any()
            assert np.array_equal(_bits(got[~nan]), _bits(expected[~nan]))


INTERLEAVED = [(name, kind) for name, act in fastact.activations.items()
               if name == act.name for kind, form in act.forms.items() if form.interleave]


def test_the_costly_exponential_formulas_are_interleaved():
    assert {"silu", "softplus", "gelu", "elu"} <= {name for name, _ in INTERLEAVED}
    # sigmoid's and tanh's general kernels only: their bulk loops gained nothing
    assert {fastact.get(name).forms[None].interleave for name in ("sigmoid", "tanh")} == {"general"}


def test_interleave_is_a_yes_no_or_general():
    with pytest.raises(ValueError, match="interleave"):
        declare("made_up", doc="", interleave="bulk")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, kind", INTERLEAVED)
@pytest.mark.parametrize("variant", ["value", "grad", "value_and_grad", "backward"])
def test_interleaved_loops_give_each_element_its_kernels_bits(name, kind, dtype, variant):
    """Loops that take each block as two halves side by side (``interleave``): every element of
    odd and even lengths, in place too, has the kernels' own bits, in blocks that run the bulk
    kernels (the first half of the longest array) and the general ones."""
    form = _form(name, kind)
    # the non-default examples (softplus' beta 2.5, elu's alpha 0.4, ...)
    params = tuple(p.example if p.example is not None else p.default
                   for p in fastact.get(name).params)
    loop = _numba_backend.build_loop(form, variant, cache=False)
    value, grad = form.single_math if dtype == np.float32 else form.scalar_math
    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 9, 4096 + 5, 2 * 4096 + 2, 4 * 8192 + 3):
        z = rng.normal(0, 4, n).astype(dtype)
        tails = z[n // 2::7] if n > 8192 else z[::7]  # the tails and beyond, in both halves
        tails[:] = rng.uniform(-800, 800, tails.size)
        y, d = np.empty(n), np.empty(n)  # in double, as the loops call the kernels
        _pair_loop(value, grad)(z.astype(np.float64), y, d, *params)
        y, d = y.astype(dtype), d.astype(dtype)
        want = {"value": [y], "grad": [d], "backward": [d * dtype(0.75)],
                "value_and_grad": [y, d]}[variant]
        zz = z.copy()  # in place: the (first) output is z itself
        outs = [zz] + ([np.empty_like(z)] if variant == "value_and_grad" else [])
        loop(*([np.full_like(z, 0.75)] if variant == "backward" else []), zz, *outs, *params)
        for w, got in zip(want, outs):
            assert np.array_equal(_bits(w), _bits(got)), n


IN_PLACE = ["sigmoid", "tanh", "silu", "elu", "relu"] + [("gelu", "tanh")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", IN_PLACE, ids=str)
def test_the_loops_in_place_copy_the_overwritten_input(case, dtype):
    """The numba loops called directly with an output that is an input (as without the Cython
    extension, whose entry copies such an input onto the stack before calling them): each body
    copies its block of that input first, and gives the bits out of place."""
    name, kind = case if isinstance(case, tuple) else (case, None)
    form = _form(name, kind)
    params = tuple(p.default for p in fastact.get(name).params)
    loops = {v: _numba_backend.build_loop(form, v, cache=False)
             for v in ("value", "grad", "value_and_grad", "backward")}
    n = 3 * 4096 + 17  # bulk and general blocks; strips of 1024 in the backward loops
    rng = np.random.default_rng(3)
    z = rng.normal(0, 4, n)
    z[n // 2::3] = rng.uniform(-800, 800, z[n // 2::3].size)
    z, g = z.astype(dtype), rng.normal(0, 1, n).astype(dtype)
    y, d = np.empty_like(z), np.empty_like(z)
    loops["value_and_grad"](z, y, d, *params)
    for variant, want in (("value", y), ("grad", d)):
        zz = z.copy()
        loops[variant](zz, zz, *params)
        assert np.array_equal(_bits(zz), _bits(want)), variant
    zz, dy = z.copy(), np.empty_like(z)
    loops["value_and_grad"](zz, zz, dy, *params)
    assert np.array_equal(_bits(zz), _bits(y)) and np.array_equal(_bits(dy), _bits(d))
    for out_is in ("g", "z"):
        gg, zz = g.copy(), z.copy()
        loops["backward"](gg, zz, gg if out_is == "g" else zz, *params)
        assert np.array_equal(_bits(gg if out_is == "g" else zz), _bits(g * d)), out_is
