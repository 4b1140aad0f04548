"""Plain-numpy reference of every activation: the test oracle and the ``"numpy"`` backend.

Written for clarity and for exactness in the tails (the same stable forms as the kernels, without
the double-double refinements), never for speed.  Every function takes a float64 array and returns
a float64 array; it never warns, never overflows, and propagates NaN.
Conventions at kinks are PyTorch's (see the README).
"""
import functools
import math

import numpy as np

_NAN = np.float64(np.nan)
_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SELU_SCALE_ALPHA = 1.7580993408473768  # the product of the two, rounded once


def _quiet(fn):
    """Evaluate with numpy's floating-point warnings off: overflow to inf in an intermediate
    (z*z for huge z) is expected here and handled by the formula."""
    @functools.wraps(fn)
    def wrapper(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    return wrapper


def _cancels(fn):
    """Marks a formula whose result crosses zero away from z = 0, or that cancels as written:
    the tests compare it with an absolute tolerance scaled by the largest term, the documented
    rule, instead of a relative one."""
    fn.cancels = True
    return fn


def _nan_or(z, value):
    """value where z is a number, NaN where z is NaN."""
    return np.where(np.isnan(z), _NAN, value)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])  # numpy has no erfc


# Where a function amplifies the rounding of its argument (e^(beta z), erfc(z/sqrt2) and
# e^(-z^2/2) in the tails, by a factor ~|argument|), the argument is formed exactly as hi + lo
# and lo applied to first order.  Dekker's product, in numpy:
def _split(a):
    c = 134217729.0 * a  # 2^27 + 1
    hi = c - (c - a)
    return hi, a - hi


@_quiet
def _two_prod(a, b):
    """(p, e) with p + e = a * b exactly (e = 0 where the product is out of range)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, np.where(np.abs(p) < 1e300, e, 0.0)


def _times_const(z, hi, lo):
    p, e = _two_prod(z, hi)
    return p, e + z * lo


_INV_SQRT2 = (0.7071067811865476, -4.833646656726457e-17)
_SQRT_2_OVER_PI_DD = (0.7978845608028654, -4.98465440455546e-17)
_GELU_C3 = (0.035677408136300125, -3.0875749590776575e-19)  # 0.044715 sqrt(2/pi)


def sigmoid(z):
    t = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + t), t / (1.0 + t))


def sigmoid_grad(z):
    t = np.exp(-np.abs(z))
    return t / ((1.0 + t) * (1.0 + t))  # = s(1-s), without 1-s rounding to 0 in the tail


def tanh(z):
    return np.tanh(z)


def tanh_grad(z):
    e = np.exp(-np.abs(z))
    sech = 2.0 * e / (1.0 + e * e)  # 1/cosh, without cosh overflowing
    return sech * sech


def relu(z):
    return np.where(z <= 0, 0.0, z)


def relu_grad(z):
    return np.where(z <= 0, 0.0, np.where(z > 0, 1.0, _NAN))


def leaky_relu(z, alpha):
    return np.where(z <= 0, alpha * z, z)


def leaky_relu_grad(z, alpha):
    return np.where(z <= 0, alpha, np.where(z > 0, 1.0, _NAN))


@_quiet
def silu(z):
    return np.where(z == -np.inf, 0.0, z * sigmoid(z))


@_cancels
@_quiet
def silu_grad(z):
    return np.where(np.isinf(z), (z > 0) * 1.0, sigmoid(z) + z * sigmoid_grad(z))


@_quiet
def softplus(z, beta):
    x, x_lo = _two_prod(beta, z)
    t = np.exp(-np.abs(x)) * (1.0 - np.sign(x) * x_lo)  # e^-|beta z|
    return np.where(x > 0, z, 0.0) + np.log1p(t) / beta


@_quiet
def _sigmoid_dd(x, x_lo):
    s = sigmoid(x)
    return s + x_lo * sigmoid_grad(x)


def softplus_grad(z, beta):
    return _sigmoid_dd(*_two_prod(beta, z))


def log_sigmoid(z):
    return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))


def log_sigmoid_grad(z):
    return sigmoid(-z)


@_quiet
def mish(z):
    return np.where(z == -np.inf, 0.0, z * np.tanh(softplus(z, 1.0)))


@_cancels
@_quiet
def mish_grad(z):
    t = np.tanh(softplus(z, 1.0))
    return np.where(np.isinf(z), (z > 0) * 1.0, t + z * (1.0 - t * t) * sigmoid(z))


@_quiet
def _Phi(z):
    """Normal CDF erfc(-z/sqrt2)/2, the argument's rounding applied to first order."""
    x, x_lo = _times_const(-z, *_INV_SQRT2)
    x_lo = np.where(np.isfinite(x), x_lo, 0.0)
    return 0.5 * (_erfc(x) - x_lo * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x))


@_quiet
def _phi(z):
    """Normal density e^(-z^2/2)/sqrt(2 pi), with z^2 exact."""
    s, s_lo = _two_prod(z, z)
    return np.exp(-0.5 * s) * (1.0 - 0.5 * s_lo) / _SQRT_2PI


@_quiet
def gelu(z):
    return np.where(z == -np.inf, 0.0, z * _Phi(z))


@_cancels
@_quiet
def gelu_grad(z):
    return _Phi(z) + np.where(np.isinf(z), 0.0, z * _phi(z))


@_quiet
def _gelu_tanh_2u(z):
    """2 sqrt(2/pi) (z + 0.044715 z^3) as hi + lo."""
    a, a_lo = _times_const(z, *_SQRT_2_OVER_PI_DD)
    c, c_lo = _times_const(z, *_GELU_C3)
    s, s_lo = _two_prod(z, z)
    c3, c3_lo = _two_prod(c, s)
    u = a + c3
    bb = u - a
    u_lo = (a - (u - bb)) + (c3 - bb) + a_lo + c3_lo + c * s_lo + c_lo * s  # two_sum error + lows
    return 2.0 * u, np.where(np.isfinite(u), 2.0 * u_lo, 0.0)


@_quiet
def gelu_tanh(z):
    return np.where(z == -np.inf, 0.0, z * _sigmoid_dd(*_gelu_tanh_2u(z)))


@_cancels
@_quiet
def gelu_tanh_grad(z):
    u2, u2_lo = _gelu_tanh_2u(z)
    slope_u = sigmoid_grad(u2) * (1.0 - u2_lo * np.tanh(u2 / 2.0))  # sigmoid'(u2 + u2_lo)
    slope = _sigmoid_dd(u2, u2_lo) + z * slope_u * 2.0 * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z * z)
    return np.where(np.abs(z) > 1e100, np.where(z > 0, 1.0, 0.0), slope)


def elu(z, alpha):
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_grad(z, alpha):
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def selu(z):
    return np.where(z > 0, SELU_SCALE * z, SELU_SCALE_ALPHA * np.expm1(np.minimum(z, 0.0)))


def selu_grad(z):
    return np.where(z > 0, SELU_SCALE, SELU_SCALE_ALPHA * np.exp(np.minimum(z, 0.0)))


@_quiet
def _over_alpha(z, alpha):
    """min(z, 0)/alpha as hi + lo (lo from the exact remainder)."""
    zn = np.minimum(z, 0.0)
    q = zn / alpha
    p, e = _two_prod(q, alpha)
    return q, np.where(np.isfinite(q), ((zn - p) - e) / alpha, 0.0)


def celu(z, alpha):
    q, q_lo = _over_alpha(z, alpha)
    return np.where(z > 0, z, alpha * (np.expm1(q) + q_lo * np.exp(q)))


def celu_grad(z, alpha):
    q, q_lo = _over_alpha(z, alpha)
    return np.where(z > 0, 1.0, np.exp(q) * (1.0 + q_lo))


def hardtanh(z, min_val, max_val):
    return np.where(z < min_val, min_val, np.where(z > max_val, max_val, z))


def hardtanh_grad(z, min_val, max_val):
    return _nan_or(z, np.where((z > min_val) & (z < max_val), 1.0, 0.0))


def relu6(z):
    return hardtanh(z, 0.0, 6.0)


def relu6_grad(z):
    return hardtanh_grad(z, 0.0, 6.0)


def hardsigmoid(z):
    return np.where(z <= -3, 0.0, np.where(z >= 3, 1.0, (z + 3.0) / 6.0))


def hardsigmoid_grad(z):
    return _nan_or(z, np.where((z > -3) & (z < 3), 1.0 / 6.0, 0.0))


def hardswish(z):
    return np.where(z <= -3, 0.0, np.where(z >= 3, z, z * (z + 3.0) / 6.0))


@_cancels
def hardswish_grad(z):
    return np.where(z <= -3, 0.0, np.where(z >= 3, 1.0, (2.0 * z + 3.0) / 6.0))


@_quiet
def softsign(z):
    return np.where(np.isinf(z), np.sign(z), z / (1.0 + np.abs(z)))


@_quiet
def softsign_grad(z):
    return 1.0 / (1.0 + np.abs(z)) ** 2


@_cancels
def tanhshrink(z):
    return z - np.tanh(z)  # cancels near 0: the kernels use a polynomial there


def tanhshrink_grad(z):
    return np.tanh(z) ** 2


def softshrink(z, lambd):
    return _nan_or(z, np.where(z > lambd, z - lambd, np.where(z < -lambd, z + lambd, 0.0)))


def softshrink_grad(z, lambd):
    return _nan_or(z, np.where((z > lambd) | (z < -lambd), 1.0, 0.0))


def hardshrink(z, lambd):
    return _nan_or(z, np.where((z > lambd) | (z < -lambd), z, 0.0))


def hardshrink_grad(z, lambd):
    return softshrink_grad(z, lambd)


@_quiet
def squareplus(z, b):
    s = np.hypot(z, math.sqrt(b))
    return np.where(z >= 0, 0.5 * z + 0.5 * s, (0.25 * b) / (0.5 * s - 0.5 * z))


@_quiet
def squareplus_grad(z, b):
    s = np.hypot(z, math.sqrt(b))
    pos = np.where(z > 1e150, 1.0, 0.5 + 0.5 * z / s)
    return np.where(z >= 0, pos, (0.25 * b) / s / (0.5 * s - 0.5 * z))


# Derivatives from the output y = g(z) (grad_from_output): g'(g^-1(y)) written in y.

def sigmoid_from_output_grad(y):
    return y * (1.0 - y)


def tanh_from_output_grad(y):
    a = np.abs(y)
    return (1.0 - a) * (1.0 + a)


@_quiet
def softplus_from_output_grad(y, beta):
    return np.where(beta * y > 40.0, 1.0, -np.expm1(-beta * y))


def relu_from_output_grad(y):
    return relu_grad(y)


def leaky_relu_from_output_grad(y, alpha):
    return leaky_relu_grad(y, alpha)


def hardtanh_from_output_grad(y, min_val, max_val):
    return hardtanh_grad(y, min_val, max_val)


def relu6_from_output_grad(y):
    return relu6_grad(y)


def hardsigmoid_from_output_grad(y):
    return _nan_or(y, np.where((y > 0.0) & (y < 1.0), 1.0 / 6.0, 0.0))


def elu_from_output_grad(y, alpha):
    return np.where(y > 0.0, 1.0, y + alpha)


def selu_from_output_grad(y):
    # scale * alpha in two parts, so that y + scale * alpha does not lose what cancels
    return np.where(y > 0.0, SELU_SCALE, (y + SELU_SCALE_ALPHA) + 1.41535193800845e-17)


def celu_from_output_grad(y, alpha):
    return np.where(y > 0.0, 1.0, (alpha + y) / alpha)


def softsign_from_output_grad(y):
    return (1.0 - np.abs(y)) ** 2


# Second derivatives (grad2).

def sigmoid_grad2(z):
    return -sigmoid_grad(z) * np.tanh(0.5 * z)


def tanh_grad2(z):
    return -2.0 * np.tanh(z) * tanh_grad(z)


@_cancels
def silu_grad2(z):
    c = np.clip(z, -1e3, 1e3)
    return sigmoid_grad(z) * (2.0 - c * np.tanh(0.5 * c))


@_quiet
def softplus_grad2(z, beta):
    x, x_lo = _two_prod(beta, z)
    x_lo = np.where(np.isfinite(x), x_lo, 0.0)
    return beta * sigmoid_grad(x) * (1.0 - x_lo * np.tanh(0.5 * x))  # sigmoid'(x + x_lo)


def log_sigmoid_grad2(z):
    return -sigmoid_grad(z)


def tanhshrink_grad2(z):
    return 2.0 * np.tanh(z) * tanh_grad(z)


def _zero_or_nan(z, *params):
    return _nan_or(z, np.zeros_like(z))


relu_grad2 = leaky_relu_grad2 = hardtanh_grad2 = relu6_grad2 = hardsigmoid_grad2 = \
    softshrink_grad2 = hardshrink_grad2 = _zero_or_nan


def hardswish_grad2(z):
    return _nan_or(z, np.where((z > -3.0) & (z < 3.0), 1.0 / 3.0, 0.0))


def elu_grad2(z, alpha):
    return np.where(z >= 0.0, 0.0, elu_grad(z, alpha))


def selu_grad2(z):
    return np.where(z >= 0.0, 0.0, selu_grad(z))


def celu_grad2(z, alpha):
    return np.where(z >= 0.0, 0.0, celu_grad(z, alpha) / alpha)


@_quiet
def softsign_grad2(z):
    return -2.0 * np.sign(z) / (1.0 + np.abs(z)) ** 3


@_quiet
def squareplus_grad2(z, b):
    a = np.abs(z)
    d = z * z + b
    return np.where(a > 1e50, 0.5 * b / a / a / a, 0.5 * b / (d * np.sqrt(d)))


@_cancels
@_quiet
def gelu_grad2(z):
    return np.where(np.abs(z) > 64.0, 0.0, _phi(z) * (2.0 - z * z))


@_cancels
@_quiet
def gelu_tanh_grad2(z):
    a = np.clip(z, -1e10, 1e10)
    u2, u2_lo = _gelu_tanh_2u(a)
    du = 2.0 * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * a * a)
    d2u = 2.0 * _SQRT_2_OVER_PI * 6 * 0.044715 * a
    slope_u = sigmoid_grad(u2) * (1.0 - u2_lo * np.tanh(u2 / 2.0))  # sigmoid'(u2 + u2_lo)
    return slope_u * (2.0 * du + a * d2u - a * du * du * np.tanh(u2 / 2.0))


@_cancels
@_quiet
def mish_grad2(z):
    t = np.exp(-np.abs(z))
    w = t * t + 2.0 * t + 2.0
    neg = 4.0 * t * (2.0 * (1.0 + t) * w + z * (2.0 + 2.0 * t - 3.0 * t * t - 2.0 * t ** 3)) / w ** 3
    b = 1.0 + 2.0 * t + 2.0 * t * t
    pos = 4.0 * t * t * (2.0 * (1.0 + t) * b + z * (2.0 * t ** 3 + 2.0 * t * t - 3.0 * t - 2.0)) / b ** 3
    return np.where(np.isinf(z), 0.0, np.where(z <= 0.0, neg, pos))


# Third derivatives (derivatives(z, order=3)).

@_cancels
def sigmoid_grad3(z):
    d = sigmoid_grad(z)
    return d * (1.0 - 6.0 * d)


@_cancels
def tanh_grad3(z):
    d = tanh_grad(z)
    return 2.0 * d * (2.0 - 3.0 * d)


@_cancels
def silu_grad3(z):
    c = np.clip(z, -1e3, 1e3)
    d = sigmoid_grad(z)
    return d * (c * (1.0 - 6.0 * d) - 3.0 * np.tanh(0.5 * c))


@_quiet
def softplus_grad3(z, beta):
    x = beta * z
    return -beta * beta * sigmoid_grad(x) * np.tanh(0.5 * x)


def log_sigmoid_grad3(z):
    return -sigmoid_grad2(z)


@_cancels
def tanhshrink_grad3(z):
    return -tanh_grad3(z)


relu_grad3 = leaky_relu_grad3 = hardtanh_grad3 = relu6_grad3 = hardsigmoid_grad3 = \
    hardswish_grad3 = softshrink_grad3 = hardshrink_grad3 = _zero_or_nan
elu_grad3 = elu_grad2
selu_grad3 = selu_grad2


def celu_grad3(z, alpha):
    return np.where(z >= 0.0, 0.0, celu_grad(z, alpha) / alpha / alpha)


@_quiet
def softsign_grad3(z):
    return np.where(z == 0.0, 0.0, 6.0 / (1.0 + np.abs(z)) ** 4)


@_quiet
def squareplus_grad3(z, b):
    a = np.abs(z)
    d = z * z + b
    return np.where(a > 1e50, -1.5 * b / a / a / a / z, -1.5 * b * z / (d * d * np.sqrt(d)))


@_quiet
def gelu_grad3(z):
    a = np.clip(z, -64.0, 64.0)
    return np.where(np.abs(z) > 64.0, 0.0, _phi(z) * a * (a - 2.0) * (a + 2.0))


@_cancels
@_quiet
def gelu_tanh_grad3(z):
    a = np.clip(z, -1e10, 1e10)
    u2, _ = _gelu_tanh_2u(a)
    c = _SQRT_2_OVER_PI * 0.044715
    du = 2.0 * _SQRT_2_OVER_PI + 6.0 * c * a * a
    s1 = sigmoid_grad(u2)
    t = np.tanh(u2 / 2.0)
    return s1 * (48.0 * c * a - 3.0 * t * du * (du + 12.0 * c * a * a) + a * du ** 3 * (1.0 - 6.0 * s1))


@_cancels
@_quiet
def mish_grad3(z):
    t = np.exp(-np.abs(z))
    w = t * t + 2.0 * t + 2.0
    p = 2.0 + 2.0 * t - 3.0 * t ** 2 - 2.0 * t ** 3
    q = 4.0 - 32.0 * t ** 2 - 24.0 * t ** 3 + 5.0 * t ** 4 + 4.0 * t ** 5
    neg = 4.0 * t * (3.0 * p * w + z * q) / w ** 4
    b = 1.0 + 2.0 * t + 2.0 * t * t
    r = 2.0 + 3.0 * t - 2.0 * t ** 2 - 2.0 * t ** 3
    s = 4.0 + 5.0 * t - 24.0 * t ** 2 - 32.0 * t ** 3 + 4.0 * t ** 5
    pos = 4.0 * t * t * (z * s - 3.0 * r * b) / b ** 4
    return np.where(np.isinf(z), 0.0, np.where(z <= 0.0, neg, pos))
