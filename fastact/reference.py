"""Plain-numpy reference of every activation: the test oracle and the ``"numpy"`` backend.

Written for clarity and for exactness in the tails (the same stable forms as the kernels, without
the double-double refinements), never for speed.  Every function takes a float64 array and returns
a float64 array; it never warns, never overflows, and propagates NaN.
Conventions at kinks are PyTorch's (see the README).
"""
import numpy as np

_NAN = np.float64(np.nan)


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
