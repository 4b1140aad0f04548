"""Outputs that are inputs (in place), and backward where derivatives are subnormal: the same bits
as out of place and as grad_out * f.grad(z), across the blocks that in-place calls copy (the
Cython entry's stack blocks, the numba bodies' copies) and the strips of the backward loops."""
import numpy as np
import pytest

import fastact as fa
from conftest import DTYPES

pytestmark = pytest.mark.usefixtures("backend")

NAMES = [name for name, act in fa.activations.items() if name == act.name]
# around the strips (1024), the in-place and bulk blocks (4096; 8192 for light float32 loops)
LENGTHS = [1, 1023, 1025, 4097, 3 * 4096 + 17]


def _inputs(n, dtype):
    """N(0, 4), with the tails and beyond (|z| up to 800) in the second half: blocks on the bulk
    kernels and on the general ones, and derivatives that are subnormal or 0."""
    rng = np.random.default_rng(n)
    z = rng.normal(0, 4, n)
    far = z[n // 2:][::3]
    far[:] = rng.uniform(-800, 800, far.size)
    return z.astype(dtype)


def _same(got, want):
    assert got.dtype == want.dtype
    bits = np.int64 if got.dtype == np.float64 else np.int32
    np.testing.assert_array_equal(got.view(bits), want.view(bits))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_in_place_gives_the_bits_out_of_place(name, dtype):
    act = fa.get(name)
    for n in LENGTHS:
        z = _inputs(n, dtype)
        g = np.random.default_rng(1).normal(0, 1, n).astype(dtype)
        y, d = act(z), act.grad(z)
        for method, want in (("__call__", y), ("grad", d)):
            zz = z.copy()
            assert getattr(act, method)(zz, out=zz) is zz
            _same(zz, want)
        zz, dy = z.copy(), np.empty_like(z)
        act.value_and_grad(zz, out=(zz, dy))
        _same(zz, y)
        _same(dy, d)
        zz, yy = z.copy(), np.empty_like(z)
        act.value_and_grad(zz, out=(yy, zz))
        _same(yy, y)
        _same(zz, d)
        want = g * d
        _same(act.backward(g, z), want)
        gg = g.copy()
        act.backward(gg, z, out=gg)
        _same(gg, want)
        zz = z.copy()
        act.backward(g, zz, out=zz)
        _same(zz, want)
        zz = z.copy()
        act.backward(zz, zz, out=zz)
        _same(zz, z * d)
