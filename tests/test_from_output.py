"""Derivatives from the output: ``f.grad_from_output(y)`` and ``f.backward_from_output(g, y)``,
for every activation whose derivative is a function of its output y = g(z)."""
import mpmath
import numpy as np
import pytest

import fastact as fa

from conftest import CASES, CASE_IDS, DTYPES, LAYOUTS, make_layout, sample
from test_accuracy import EXACT, M, points, ulp_of

pytestmark = pytest.mark.usefixtures("backend")  # every test on every backend

_SS = M("1.0507009873554804934193349852946")
_SA = M("1.6732632423543772848170429916717")

# g'(g^-1(y)) written in y: the exact derivative at the z whose output is y (checked against
# the mpmath definitions of g and g' below).
FROM_OUTPUT = {
    "sigmoid": lambda y, kw: y * (1 - y),
    "tanh": lambda y, kw: 1 - y * y,
    "relu": lambda y, kw: M(1) if y > 0 else M(0),
    "leaky_relu": lambda y, kw: M(1) if y > 0 else M(kw.get("alpha", 0.01)),
    "elu": lambda y, kw: M(1) if y > 0 else y + M(kw.get("alpha", 1.0)),
    "selu": lambda y, kw: _SS if y > 0 else y + _SS * _SA,
    "celu": lambda y, kw: M(1) if y > 0 else 1 + y / M(kw.get("alpha", 1.0)),
    "softplus": lambda y, kw: -mpmath.expm1(-M(kw.get("beta", 1.0)) * y),
    "hardtanh": lambda y, kw: M(1) if M(kw.get("min_val", -1.0)) < y < M(kw.get("max_val", 1.0))
    else M(0),
    "relu6": lambda y, kw: M(1) if 0 < y < 6 else M(0),
    "hardsigmoid": lambda y, kw: M(1) / 6 if 0 < y < 1 else M(0),
    "softsign": lambda y, kw: (1 - abs(y)) ** 2,
}
WITH = [(c, i) for c, i in zip(CASES, CASE_IDS) if c[0] in FROM_OUTPUT]
WITHOUT = sorted(n for n, a in fa.activations.items() if n == a.name and n not in FROM_OUTPUT)


def test_exactly_the_activations_whose_derivative_is_a_function_of_the_output():
    assert {n for n, a in fa.activations.items() if a.from_output is not None} == set(FROM_OUTPUT)


@pytest.mark.parametrize("case", [c for c, _ in WITH], ids=[i for _, i in WITH])
def test_the_definitions_in_y_are_the_derivative(case):
    """The table above against the mpmath definitions of g and g' (tests/test_accuracy.py), at
    y = g(z) computed exactly: so it says g'(z), not a formula of fastact's."""
    name, kw = case
    key = next(k for k, v in EXACT.items() if v[0] == name and v[1] == kw) if any(
        v[0] == name and v[1] == kw for v in EXACT.values()) else name
    _, kw_exact, value, grad, _, _ = EXACT[key]
    for x in [-30.0, -3.5, -1.0, -0.25, 0.5, 0.9, 2.0, 5.5, 7.0, 40.0]:
        z = M(x)
        y = value(z)
        want = grad(z)
        got = FROM_OUTPUT[name](y, kw_exact)
        assert abs(got - want) <= M(10) ** -40 * max(abs(want), M(10) ** -200), (name, x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [c for c, _ in WITH], ids=[i for _, i in WITH])
def test_within_2_ulp_of_the_derivative_at_the_given_output(case, dtype):
    name, kw = case
    act = fa.get(name)
    z = points(dtype, 300, seed=sum(map(ord, name)))
    y = act(z, **kw)
    got = act.grad_from_output(y, **kw)
    assert got.dtype == dtype
    worst, where = 0.0, None
    for yi, g in zip(y.tolist(), got.tolist()):
        exact = FROM_OUTPUT[name](M(yi), kw)
        err = float(abs(M(g) - exact) / ulp_of(exact, dtype))
        if err > worst:
            worst, where = err, yi
    assert worst <= 2.0, f"{name} {np.dtype(dtype)}: {worst:.3f} ulp at y={where!r}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [c for c, _ in WITH], ids=[i for _, i in WITH])
def test_backward_is_grad_out_times_the_derivative_in_place_too(case, dtype):
    name, kw = case
    act = fa.get(name)
    y = act(sample(dtype), **kw)
    g = sample(dtype, seed=1)
    want = g * act.grad_from_output(y, **kw)
    got = act.backward_from_output(g, y, **kw)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)
    delta = g.copy()
    assert act.backward_from_output(delta, y, out=delta, **kw) is delta  # scikit-learn's way
    np.testing.assert_array_equal(delta, want)
    np.testing.assert_array_equal(g, sample(dtype, seed=1))  # inputs are not modified


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", [c for c, _ in WITH], ids=[i for _, i in WITH])
def test_any_layout_gives_the_contiguous_bits(case, layout):
    name, kw = case
    act = fa.get(name)
    y = make_layout(act(sample(np.float64), **kw), layout)
    before = y.copy()
    got = act.grad_from_output(y, **kw)
    np.testing.assert_array_equal(got, act.grad_from_output(np.array(y, order="C"), **kw))
    np.testing.assert_array_equal(y, before)


@pytest.mark.parametrize("name", sorted(FROM_OUTPUT))
def test_nan_and_the_ends_of_the_range(name):
    act = fa.get(name)
    assert np.isnan(act.grad_from_output(np.nan))
    y = act(np.array([-np.inf, np.inf]))
    # the derivative at the output given: selu's lower limit -scale*alpha, rounded, is the output
    # of a finite z (about -39), where the derivative is 1.4e-17
    want = [float(FROM_OUTPUT[name](M(v), {})) for v in y.tolist()]
    np.testing.assert_array_equal(act.grad_from_output(y), want)


def test_what_the_output_has_lost():
    """sigmoid(40) rounds to 1: the output no longer knows z, so its derivative is 0; from the
    input it is e^-40 (documented)."""
    y = fa.sigmoid(40.0)
    assert y == 1.0 and fa.sigmoid.grad_from_output(y) == 0.0 and fa.sigmoid.grad(40.0) > 4e-18
    y = fa.sigmoid(-40.0)  # near 0, the output keeps its precision: so does the derivative
    assert fa.sigmoid.grad_from_output(y) == pytest.approx(fa.sigmoid.grad(-40.0), rel=1e-15)


def test_dtypes_and_labels_as_for_the_other_methods():
    pd = pytest.importorskip("pandas")
    assert fa.tanh.grad_from_output(np.float16(0.5)).dtype == np.float16
    assert fa.relu.grad_from_output(np.array([0, 3])).dtype == np.float64
    y = pd.Series([0.2, 0.5, 0.9], index=["a", "b", "c"])
    g = pd.Series([1.0, 2.0, 3.0], index=["c", "a", "b"])
    got = fa.sigmoid.backward_from_output(g, y)
    assert list(got.index) == ["a", "b", "c"]
    assert got["a"] == 2.0 * (0.2 * 0.8)  # aligned by label, not by position


@pytest.mark.parametrize("name", WITHOUT)
def test_the_others_raise_and_point_to_grad(name):
    act = fa.get(name)
    with pytest.raises(TypeError, match=rf"{name}\.grad_from_output: .*{name}\.grad\(z\)"):
        act.grad_from_output(np.ones(3))
    with pytest.raises(TypeError, match=rf"{name}\.backward\(grad_out, z\)"):
        act.backward_from_output(np.ones(3), np.ones(3))


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_a_negative_slope_is_refused(name):
    """With alpha < 0, g(z) > 0 for some z < 0: the output no longer tells the piece (PyTorch
    refuses it too)."""
    act = fa.get(name)
    with pytest.raises(ValueError, match="alpha"):
        act.grad_from_output(np.ones(3), alpha=-0.5)
    with pytest.raises(ValueError, match="alpha"):
        act.backward_from_output(np.ones(3), np.ones(3), alpha=-0.5)
    assert act.grad_from_output(-0.0, alpha=0.0) == 0.0


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="beta"):
        fa.softplus.grad_from_output(1.0, beta=0.0)
    with pytest.raises(TypeError, match="y"):
        fa.sigmoid.grad_from_output("x")
    with pytest.raises(TypeError, match="grad_out"):
        fa.sigmoid.backward_from_output(None, 0.5)
    with pytest.raises(TypeError, match="keyword"):
        fa.sigmoid.grad_from_output(np.ones(2), 0.2)


def test_dask_stays_lazy():
    da = pytest.importorskip("dask.array")
    y = fa.sigmoid(sample(np.float64))
    lazy = fa.sigmoid.backward_from_output(da.from_array(y, chunks=60), da.from_array(y, chunks=60))
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), fa.sigmoid.backward_from_output(y, y))
