"""GELU, exact (z * Phi(z), through erfc) and with PyTorch's tanh approximation.

Exact:   gelu(z)  = z Phi(z),  Phi(z) = erfc(-z/sqrt2)/2
         gelu'(z) = Phi(z) + z phi(z),  phi(z) = e^(-z^2/2)/sqrt(2 pi)
erfc keeps the lower tail (1+erf loses everything below z ~ -6).  -z/sqrt2 and z^2/2 are formed
in double-double, because erfc and e^(-z^2/2) amplify an argument's rounding by ~z^2 in the tail.
Below z = -30 (results near or in the subnormal range) z Phi(z) = -phi(z) (1 - 1/z^2 + 3/z^4 - ...)
(the asymptotic Mills ratio), computed as a mantissa times 2^k and rounded once.

tanh form: gelu(z) = z/2 (1 + tanh(u)) = z sigmoid(2u), u = sqrt(2/pi) (z + 0.044715 z^3), with
2u in double-double (the tail of sigmoid amplifies its rounding by |2u|).
"""
import math

from . import jitable
from ._fp import exp_reduced, mul_add, polyval, scale2, two_prod, two_sum
from .logistic import _sigmoid_grad_scaled, _sigmoid_scaled

_INV_SQRT2 = (0.7071067811865476, -4.833646656726457e-17)
_INV_SQRT_2PI = (0.3989422804014327, -2.49232720227773e-17)
_SQRT_2_OVER_PI = (0.7978845608028654, -4.98465440455546e-17)
_GELU_C3 = (0.035677408136300125, -3.0875749590776575e-19)  # 0.044715 * sqrt(2/pi)
_MILLS = (1.0, -1.0, 3.0, -15.0, 105.0, -945.0, 10395.0, -135135.0, 2027025.0, -34459425.0,
          654729075.0)  # (-1)^n (2n-1)!!
_DEEP_TAIL = -30.0  # below this the asymptotic series replaces erfc (and z Phi(z) turns subnormal)


@jitable
def _times_const(z, c):
    """z * (c_hi + c_lo) as a double-double."""
    ph, pl = two_prod(z, c[0])
    return ph, mul_add(z, c[1], pl)


@jitable
def _phi_scaled(z):
    """phi(z) = e^(-z^2/2)/sqrt(2 pi) as (q, k): q * 2^k, with z^2/2 exact."""
    sh, sl = two_prod(z, z)
    sh, sl = (sh if abs(sh) < 1e300 else 1e300), (sl if abs(sh) < 1e300 else 0.0)
    k, mh, ml = exp_reduced(-0.5 * sh, -0.5 * sl)
    q = mul_add(mh + ml, _INV_SQRT_2PI[0], _INV_SQRT_2PI[0] + _INV_SQRT_2PI[1])
    return q, k


@jitable
def _Phi(z):
    """Phi(z) = erfc(-z/sqrt2)/2, with the argument's low part applied to first order."""
    xh, xl = _times_const(-z, _INV_SQRT2)
    # erfc(xh + xl) = erfc(xh) - xl * 2/sqrt(pi) e^(-xh^2)
    corr = xl * 1.1283791670955126 * math.exp(-xh * xh) if abs(xh) < 27.0 else 0.0
    return 0.5 * (math.erfc(xh) - corr)


@jitable
def _mills_series(z):
    """sum (-1)^n (2n-1)!! / z^(2n) to n = 10; |z| >= 30 leaves < 2^-68."""
    return polyval(1.0 / (z * z), _MILLS)


@jitable
def gelu(x):
    """Exact GELU x * Phi(x) (PyTorch approximate='none')."""
    q, k = _phi_scaled(x)
    xd = x if x < _DEEP_TAIL else _DEEP_TAIL  # keeps 1/x^2 finite where the series is unused
    deep = -scale2(q * _mills_series(xd), k) if x != -math.inf else -0.0
    return deep if x < _DEEP_TAIL else x * _Phi(x)


@jitable
def gelu_grad(x):
    """gelu'(x) = Phi(x) + x phi(x)."""
    q, k = _phi_scaled(x)
    xphi = scale2(x * q, k) if abs(x) != math.inf else 0.0
    return _Phi(x) + xphi


@jitable
def _gelu_tanh_2u(x):
    """2u = 2 sqrt(2/pi) (x + 0.044715 x^3) as a double-double."""
    ah, al = _times_const(x, _SQRT_2_OVER_PI)
    sh, sl = two_prod(x, x)
    ch, cl = _times_const(x, _GELU_C3)
    c3h, c3l = two_prod(ch, sh)  # 0.044715 sqrt(2/pi) x^3
    c3l += ch * sl + cl * sh
    uh, ul = two_sum(ah, c3h)
    ul += al + c3l
    big = not abs(uh) < 1e300
    return (2.0 * uh if not big else 2.0 * (ah + c3h)), (2.0 * ul if not big else 0.0)


@jitable
def gelu_tanh(x):
    """GELU, tanh approximation (PyTorch approximate='tanh'): x * sigmoid(2u)."""
    uh, ul = _gelu_tanh_2u(x)
    q, e = _sigmoid_scaled(uh, ul)
    return scale2(x * q, e) if x != -math.inf else -0.0


@jitable
def gelu_tanh_grad(x):
    """d/dx [x sigmoid(2u)] = sigmoid(2u) + x sigmoid'(2u) 2u'(x)."""
    uh, ul = _gelu_tanh_2u(x)
    qv, ev = _sigmoid_scaled(uh, ul)
    qg, eg = _sigmoid_grad_scaled(uh, ul)
    du = 2.0 * _SQRT_2_OVER_PI[0] + 6.0 * _GELU_C3[0] * x * x
    neg = uh < 0.0
    # 2u < 0: value and slope carry the same 2^k; combine, then scale once.
    inner = mul_add(x * du, qg, qv) if neg else mul_add(x * du, scale2(qg, eg), qv)
    r = scale2(inner, eg) if neg else inner
    # Far out (x^3 overflows) the slope is exactly 0 or 1; NaN falls through to r.
    return (0.0 if x < 0.0 else 1.0) if abs(x) > 1e100 else r
