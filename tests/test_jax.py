"""fastact's g'' and g''' against JAX's ``jax.grad(jax.grad(...))`` (and once more), where JAX is
installed (an optional peer, not a dependency): the same values away from the tails; in the tails
JAX's composition loses what fastact keeps (checked against mpmath in test_accuracy)."""
import numpy as np
import pytest

import fastact as fa
from fastact import bench

from test_accuracy import M, _d2sig, ulp_of

jax = pytest.importorskip("jax", reason="JAX not installed (optional peer)")
jax.config.update("jax_enable_x64", True)
jnp = pytest.importorskip("jax.numpy")

# fastact's name -> JAX's function at the same parameters; kinks are left out (JAX's
# conventions there are its own)
JAX = {name: getattr(jax.nn, bench.JAX_NAMES.get(name, name)) for name in
       ("sigmoid", "silu", "softplus", "log_sigmoid", "mish", "elu", "selu", "celu",
        "squareplus", "softsign", "leaky_relu", "relu6", "hardswish")}
JAX["tanh"] = jnp.tanh
JAX["gelu"] = lambda x: jax.nn.gelu(x, approximate=False)
JAX["gelu_tanh"] = lambda x: jax.nn.gelu(x, approximate=True)


@pytest.mark.parametrize("name", sorted(JAX))
def test_second_and_third_derivatives_match_jax(name):
    fn = JAX[name]
    d2 = jax.jit(jax.vmap(jax.grad(jax.grad(fn))))
    d3 = jax.jit(jax.vmap(jax.grad(jax.grad(jax.grad(fn)))))
    z = np.linspace(-6.0, 6.0, 1201)
    z = z[np.abs(z - np.round(z)) > 1e-6]  # away from the kinks at integers (0, +-3, 6)
    act, kw = (fa.gelu, {"approximate": "tanh"}) if name == "gelu_tanh" else (fa.get(name), {})
    y, dy, d2y, d3y = act.derivatives(z, order=3, **kw)
    for got, want in ((d2y, np.asarray(d2(jnp.asarray(z)))), (d3y, np.asarray(d3(jnp.asarray(z))))):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=name)


def test_in_the_tail_jax_loses_what_fastact_keeps():
    """sigmoid''(40) = -4.2e-18: fastact within 4 ulp; JAX's composition is off by far more."""
    want = _d2sig(M(40))
    got = fa.sigmoid.grad2(40.0)
    assert abs(M(got) - want) <= 4 * ulp_of(want, np.float64)
    theirs = float(jax.grad(jax.grad(jax.nn.sigmoid))(40.0))
    assert abs(M(theirs) - want) > 1e6 * ulp_of(want, np.float64)
