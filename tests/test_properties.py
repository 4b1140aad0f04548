"""Property tests (hypothesis) over activations, dtypes, shapes, strides and values."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastact as fa

from conftest import CASES, cancels
from test_api import assert_close_to_reference, expected

pytestmark = pytest.mark.usefixtures("backend")  # every test on every backend

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def arrays_any_layout(draw):
    """A float32/float64 array of any values (NaN, inf, subnormals), 0-3 dims, then a view of it
    with steps, reversal or transposition."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7))
    base = draw(hnp.arrays(dtype, shape, elements=st.floats(width=np.dtype(dtype).itemsize * 8)))
    if base.ndim and draw(st.booleans()):
        step = draw(st.sampled_from([1, 2, -1, -2]))
        base = base[::step]
    if base.ndim > 1 and draw(st.booleans()):
        base = base.T
    return base


cases = st.sampled_from(CASES)


def _same_bits(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), strict=True)


@SETTINGS
@given(case=cases, z=arrays_any_layout())
def test_value_and_grad_equals_separate_calls_bit_for_bit(case, z):
    name, kw = case
    act = fa.get(name)
    before = z.copy()
    y, dy = act.value_and_grad(z, **kw)
    _same_bits(y, act(z, **kw))
    _same_bits(dy, act.grad(z, **kw))
    _same_bits(z, before)


@SETTINGS
@given(case=cases, z=arrays_any_layout(), data=st.data())
def test_backward_equals_grad_out_times_grad(case, z, data):
    name, kw = case
    act = fa.get(name)
    g = data.draw(hnp.arrays(z.dtype, z.shape, elements=st.floats(-1e3, 1e3, width=z.itemsize * 8)))
    _same_bits(act.backward(g, z, **kw), g * act.grad(z, **kw))


@SETTINGS
@given(case=cases, z=arrays_any_layout())
def test_any_layout_equals_contiguous_copy(case, z):
    name, kw = case
    act = fa.get(name)
    _same_bits(act(z, **kw), act(np.array(z, order="C"), **kw))
    out = np.empty_like(z)
    assert act.grad(z, out=out, **kw) is out
    _same_bits(out, act.grad(np.array(z, order="C"), **kw))


@SETTINGS
@given(case=cases, z=arrays_any_layout(), data=st.data())
def test_fuzz_against_the_reference(case, z, data):
    """Any dtype, shape, stride and finite value in [-60, 60]: the numpy reference agrees."""
    name, kw = case
    act = fa.get(name)
    z = np.clip(np.nan_to_num(z), -60, 60).astype(z.dtype)
    method = data.draw(st.sampled_from(["value", "grad"]))
    got = act(z, **kw) if method == "value" else act.grad(z, **kw)
    want = expected(act, method, z, kw)
    assert_close_to_reference(np.asarray(got), np.asarray(want), z.dtype.type, np.asarray(z),
                              cancels(act, kw, method))
