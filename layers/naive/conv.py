"""Loop versions of the convolution kernels, written straight from the definitions.

Arguments ``stride``, ``padding`` and ``dilation`` are ``(vertical, horizontal)``
pairs. Slow on purpose: the tests hold ``layers._kernels.conv`` and
``layers.conv`` equal to these on small inputs.
"""
import numpy as np


def im2col(img, kernel, stride, padding, dilation, out_hw):
    """Columns of ``img`` (B, C, H, W) -> (C*KH*KW, B, OH*OW), zero in the padding."""
    n_img, n_ch, height, width = img.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, padding, dilation, out_hw
    cols = np.zeros((n_ch * kh * kw, n_img, oh * ow), img.dtype)
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(kh):
                for j in range(kw):
                    for y in range(oh):
                        for x in range(ow):
                            iy, ix = y * sh - ph + i * dh, x * sw - pw + j * dw
                            if 0 <= iy < height and 0 <= ix < width:
                                cols[(c * kh + i) * kw + j, n, y * ow + x] = img[n, c, iy, ix]
    return cols


def col2im(cols, img_shape, kernel, stride, padding, dilation, out_hw):
    """Scatter-add ``cols`` (C*KH*KW, B, OH*OW) back to an image of ``img_shape`` (B, C, H, W)."""
    n_img, n_ch, height, width = img_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, padding, dilation, out_hw
    img = np.zeros(img_shape, cols.dtype)
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(kh):
                for j in range(kw):
                    for y in range(oh):
                        for x in range(ow):
                            iy, ix = y * sh - ph + i * dh, x * sw - pw + j * dw
                            if 0 <= iy < height and 0 <= ix < width:
                                img[n, c, iy, ix] += cols[(c * kh + i) * kw + j, n, y * ow + x]
    return img


def _phase_pixels(img_shape, stride, padding, phase_hw):
    """``(n, c, iy, ix, k, y, x)`` for every phase value that lies on the image: phase channel
    ``k = (c*sh + p)*sw + q`` at (y, x) is pixel (iy, ix) = (sh*y + p - ph, sw*x + q - pw)."""
    n_img, n_ch, height, width = img_shape
    (sh, sw), (ph, pw) = stride, padding
    for n, c, p, q, y, x in np.ndindex(n_img, n_ch, sh, sw, *phase_hw):
        iy, ix = sh * y + p - ph, sw * x + q - pw
        if 0 <= iy < height and 0 <= ix < width:
            yield n, c, iy, ix, (c * sh + p) * sw + q, y, x


def space_to_depth(img, stride, padding, phase_hw):
    """The phases of ``img`` (N, C, H, W), zero-padded by ``padding``, stacked as channels ->
    (N, C*sh*sw, H', W'), zero off the image (see ``_phase_pixels``)."""
    n_img, n_ch = img.shape[:2]
    out = np.zeros((n_img, n_ch * stride[0] * stride[1], *phase_hw), img.dtype)
    for n, c, iy, ix, k, y, x in _phase_pixels(img.shape, stride, padding, phase_hw):
        out[n, k, y, x] = img[n, c, iy, ix]
    return out


def depth_to_space(phases, stride, padding, img_shape):
    """The adjoint of ``space_to_depth``: ``phases`` (N, C*sh*sw, H', W') back on an image of
    ``img_shape`` (N, C, H, W); values that fall on the padding are dropped."""
    img = np.zeros(img_shape, phases.dtype)
    for n, c, iy, ix, k, y, x in _phase_pixels(img_shape, stride, padding, phases.shape[2:]):
        img[n, c, iy, ix] += phases[n, k, y, x]
    return img


def conv2d(x, w, b, stride, padding, dilation, groups):
    """Direct convolution: x (N, C, H, W), w (F, C/groups, KH, KW), b (F,) or None -> (N, F, OH, OW)."""
    n_img, n_ch, height, width = x.shape
    n_filt, c_per_group, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    f_per_group = n_filt // groups
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_img, n_filt, oh, ow), x.dtype)
    for n in range(n_img):
        for f in range(n_filt):
            c0 = (f // f_per_group) * c_per_group
            for y in range(oh):
                for x_ in range(ow):
                    window = xp[n, c0:c0 + c_per_group,
                                y * sh:y * sh + dh * (kh - 1) + 1:dh,
                                x_ * sw:x_ * sw + dw * (kw - 1) + 1:dw]
                    out[n, f, y, x_] = np.sum(window * w[f]) + (0 if b is None else b[f])
    return out


def conv2d_backward(dout, x, w, stride, padding, dilation, groups):
    """Gradients of ``conv2d`` by scattering each output's upstream value: (dx, dw, db)."""
    n_img, n_ch, height, width = x.shape
    n_filt, c_per_group, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw_) = stride, padding, dilation
    f_per_group = n_filt // groups
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(n_img):
        for f in range(n_filt):
            c0 = (f // f_per_group) * c_per_group
            for y in range(dout.shape[2]):
                for x_ in range(dout.shape[3]):
                    sl = (n, slice(c0, c0 + c_per_group),
                          slice(y * sh, y * sh + dh * (kh - 1) + 1, dh),
                          slice(x_ * sw, x_ * sw + dw_ * (kw - 1) + 1, dw_))
                    dw[f] += dout[n, f, y, x_] * xp[sl]
                    dxp[sl] += dout[n, f, y, x_] * w[f]
    dx = dxp[:, :, ph:ph + height, pw:pw + width]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups):
    """Transposed convolution by its definition: every input pixel scatters a weighted kernel.

    x (N, C_in, H, W), w (C_in, C_out/groups, KH, KW), b (C_out,) or None
    -> (N, C_out, OH, OW) with OH = (H-1)*sh - 2*ph + dh*(KH-1) + output_padding + 1.
    """
    n_img, c_in, height, width = x.shape
    _, c_out_per_group, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    c_in_per_group = c_in // groups
    oh = (height - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (width - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = np.zeros((n_img, c_out_per_group * groups, oh, ow), x.dtype)
    for n in range(n_img):
        for c in range(c_in):
            o0 = (c // c_in_per_group) * c_out_per_group
            for y in range(height):
                for x_ in range(width):
                    for i in range(kh):
                        for j in range(kw):
                            oy, ox = y * sh - ph + i * dh, x_ * sw - pw + j * dw
                            if 0 <= oy < oh and 0 <= ox < ow:
                                out[n, o0:o0 + c_out_per_group, oy, ox] += x[n, c, y, x_] * w[c, :, i, j]
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


# Winograd's F(2x2, 3x3), one tile at a time (see layers._kernels.winograd).
WINOGRAD_B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
WINOGRAD_A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)


def winograd_conv2d(x, w, b, padding):
    """A 3x3 stride-1 correlation of x (N, C, H, W) with w (F, C, 3, 3) plus b (F,), computed
    tile by tile as ``A^T [sum over c of (G w G^T) * (B^T d B)] A`` for each 2x2 block of
    outputs, d the 4x4 block of the zero-padded input under it (float64 throughout)."""
    (ph, pw), (n_img, n_ch, height, width) = padding, x.shape
    oh, ow = height + 2 * ph - 2, width + 2 * pw - 2
    th, tw = -(-oh // 2), -(-ow // 2)
    padded = np.zeros((n_img, n_ch, 2 * th + 2, 2 * tw + 2))
    padded[:, :, ph:ph + height, pw:pw + width] = x
    u = [[WINOGRAD_G @ w[f, c] @ WINOGRAD_G.T for c in range(n_ch)] for f in range(len(w))]
    out = np.zeros((n_img, len(w), 2 * th, 2 * tw))
    for n, f, ty, tx in np.ndindex(n_img, len(w), th, tw):
        m = sum(u[f][c] * (WINOGRAD_B_T @ padded[n, c, 2 * ty:2 * ty + 4, 2 * tx:2 * tx + 4] @ WINOGRAD_B_T.T)
                for c in range(n_ch))
        out[n, f, 2 * ty:2 * ty + 2, 2 * tx:2 * tx + 2] = WINOGRAD_A_T @ m @ WINOGRAD_A_T.T + b[f]
    return out[:, :, :oh, :ow].astype(x.dtype)
