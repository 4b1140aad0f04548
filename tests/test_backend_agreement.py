"""The numba and Cython backends are compiled from the same scalar math (see setup.py): they
must give the same bits for every formula, variant, dtype and layout.  This is what keeps the
two in step; an edit that one backend compiles differently fails here."""
import numpy as np
import pytest

import fastact as fa
from fastact import _backends

FORMS = sorted({(act.name, opt, form) for act in fa.activations.values()
                for opt, form in act.forms.items()}, key=lambda t: (t[0], str(t[1])))
VARIANTS = {"value": 1, "grad": 1, "value_and_grad": 2, "backward": 1}
# The one-function formulas with the variants their methods use: g'' and g''' (grad2,
# derivatives: value) and g' from the output (grad_from_output, backward_from_output: grad,
# backward).
SINGLE = sorted({(act.name, form.kernel_name, form, variant) for act in fa.activations.values()
                 for form, variants in [(f, ("value",)) for f in
                                        list(act.second.values()) + list(act.third.values())]
                 + ([(act.from_output, ("grad", "backward"))] if act.from_output else [])
                 for variant in variants}, key=lambda t: (t[1], t[3]))
pytestmark = pytest.mark.skipif(
    not {"numba", "cython"} <= set(fa.available_backends),
    reason="needs both compiled backends (test_backends checks that both are built)")


def values(dtype):
    rng = np.random.default_rng(7)
    mags = 10.0 ** rng.uniform(-12, 3.2, 6000)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 5e-324, -745.0, 710.0,
               -3.0, 3.0, 6.0, -0.5, 0.5, 1.0, -1.0, 20.0, -20.0, 1e-300]
    with np.errstate(over="ignore"):
        return np.concatenate([mags * rng.choice([-1.0, 1.0], mags.size), special]).astype(dtype)


def run(name, form, variant, dtype, params, strided):
    z = values(dtype)
    g = np.random.default_rng(3).standard_normal(z.size).astype(dtype)
    if strided:
        z, g = np.repeat(z, 2)[::2], np.repeat(g, 2)[::2]
    outs = [np.empty(z.size * (2 if strided else 1), dtype)[::2 if strided else 1]
            for _ in range(VARIANTS[variant])]
    ins = [g, z] if variant == "backward" else [z]
    saved = _backends.name
    _backends.name = name
    try:
        _backends.loop(form, variant)(*ins, *outs, *params)
    finally:
        _backends.name = saved
    return outs


@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("act_name, option, form", FORMS,
                         ids=[f"{a}-{o}" if o else a for a, o, _ in FORMS])
def test_numba_and_cython_give_the_same_bits(act_name, option, form, variant, dtype, strided):
    params = [p.default * 0.75 for p in fa.get(act_name).params]  # not the defaults
    if act_name == "hardtanh":
        params = [-0.75, 1.5]
    assert_same_bits(run("numba", form, variant, dtype, params, strided),
                     run("cython", form, variant, dtype, params, strided))


def assert_same_bits(numba_outs, cython_outs):
    for a, b in zip(numba_outs, cython_outs):
        # Bits, so that -0.0 != 0.0; a NaN's sign bit is not specified by IEEE, so only NaN-ness.
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        ok = ~np.isnan(a)
        np.testing.assert_array_equal(a[ok].view(f"u{a.itemsize}"), b[ok].view(f"u{b.itemsize}"))


@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("act_name, kernel, form, variant", SINGLE,
                         ids=[f"{k}-{v}" for _, k, _, v in SINGLE])
def test_second_derivatives_and_from_output_give_the_same_bits(act_name, kernel, form, variant,
                                                               dtype, strided):
    params = [p.default * 0.75 for p in fa.get(act_name).params]
    if act_name == "hardtanh":
        params = [-0.75, 1.5]
    assert_same_bits(run("numba", form, variant, dtype, params, strided),
                     run("cython", form, variant, dtype, params, strided))
