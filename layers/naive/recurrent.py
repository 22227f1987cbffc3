"""Plain NumPy twins of ``layers._kernels.recurrent``: the gate equations written
as they appear on paper, whole arrays at a time, returning new arrays."""
import numpy as np


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _split(a, n_gates):
    return np.split(a, n_gates, axis=1)


def lstm_gates_forward(xproj, hproj, c_prev):
    """Returns ``(gates, c, tanh_c, h)``; see the kernel of the same name."""
    a_i, a_f, a_g, a_o = _split(xproj + hproj, 4)
    i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), np.tanh(a_g), _sigmoid(a_o)
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    return np.concatenate([i, f, g, o], axis=1), c, tanh_c, o * tanh_c


def lstm_gates_backward(dh_out, dh_rec, dc_next, gates, c_prev, tanh_c):
    """Returns ``(dgates, dc_prev)``; see the kernel of the same name."""
    i, f, g, o = _split(gates, 4)
    dh = dh_out + dh_rec
    dc = dc_next + dh * o * (1 - tanh_c**2)
    da_i = dc * g * i * (1 - i)
    da_f = dc * c_prev * f * (1 - f)
    da_g = dc * i * (1 - g**2)
    da_o = dh * tanh_c * o * (1 - o)
    return np.concatenate([da_i, da_f, da_g, da_o], axis=1), dc * f


def gru_gates_forward(xproj, hproj, b_hh, h_prev):
    """Returns ``(gates, hn, h)``; see the kernel of the same name."""
    x_r, x_z, x_n = _split(xproj, 3)
    h_r, h_z, h_n = _split(hproj + b_hh, 3)
    r = _sigmoid(x_r + h_r)
    z = _sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    h = (1 - z) * n + z * h_prev
    return np.concatenate([r, z, n], axis=1), h_n, h


def gru_gates_backward(dh_out, dh_rec, gates, hn, h_prev):
    """Returns ``(dxproj, dhproj, dh_prev_direct)``; see the kernel of the same name."""
    r, z, n = _split(gates, 3)
    dh = dh_out + dh_rec
    da_n = dh * (1 - z) * (1 - n**2)
    da_z = dh * (h_prev - n) * z * (1 - z)
    da_r = da_n * hn * r * (1 - r)
    dxproj = np.concatenate([da_r, da_z, da_n], axis=1)
    dhproj = np.concatenate([da_r, da_z, da_n * r], axis=1)
    return dxproj, dhproj, dh * z
