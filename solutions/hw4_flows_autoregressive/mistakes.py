"""Known mistakes of hw4_flows_autoregressive, for the feedback (checks/diagnoses.py): each
function computes what the mistaken code returns, and MISTAKES gives the hint a student reads
when their result equals it on a failing case. Hidden, like the references."""
import importlib.util
import math
from pathlib import Path

import sympy
import torch
import torch.nn.functional as F

from autograder.checks.diagnoses import PUBLIC_SAFE


def _reference(name):
    """A reference module next to this file (the judge loads files by path, not by import)."""
    spec = importlib.util.spec_from_file_location(f"_hw4_mistakes_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


causal_conv_mask, made_masks = _reference("autoregressive").causal_conv_mask, _reference("autoregressive").made_masks
_flows = _reference("flows")
affine_coupling, flow_log_prob, sigmoidal_flow = _flows.affine_coupling, _flows.flow_log_prob, _flows.sigmoidal_flow
standard_normal_log_prob = _flows.standard_normal_log_prob


def mask_types_swapped(kernel_size, mask_type):
    return causal_conv_mask(kernel_size, {"A": "B", "B": "A"}[mask_type])


def mask_transposed(kernel_size, mask_type):
    return causal_conv_mask(kernel_size, mask_type).T


def mask_flipped(kernel_size, mask_type):
    return causal_conv_mask(kernel_size, mask_type).flip(0, 1)


def mask_whole_centre_row(kernel_size, mask_type):
    mask = causal_conv_mask(kernel_size, mask_type)
    mask[kernel_size // 2, kernel_size // 2 + 1:] = 1
    return mask


def conv_without_bias(x, weight, bias, mask_type):
    k = weight.shape[-1]
    return F.conv2d(x, weight * causal_conv_mask(k, mask_type).to(weight), None, padding=k // 2)


def conv_types_swapped(x, weight, bias, mask_type):
    k = weight.shape[-1]
    return F.conv2d(x, weight * mask_types_swapped(k, mask_type).to(weight), bias, padding=k // 2)


def conv_unmasked(x, weight, bias, mask_type):
    return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)


def conv_mask_transposed(x, weight, bias, mask_type):
    k = weight.shape[-1]
    return F.conv2d(x, weight * mask_transposed(k, mask_type).to(weight), bias, padding=k // 2)


def made_output_at_least(in_degrees, hidden_degrees):
    masks = made_masks(in_degrees, hidden_degrees)
    last = [in_degrees, *hidden_degrees][-1]
    return masks[:-1] + [(in_degrees[:, None] >= last[None, :]).float()]


def made_hidden_strict(in_degrees, hidden_degrees):
    masks = made_masks(in_degrees, hidden_degrees)
    degrees = [in_degrees, *hidden_degrees]
    return [(above[:, None] > below[None, :]).float() for below, above in zip(degrees, degrees[1:])] + masks[-1:]


def coupling_log_det_unmasked(x, mask, s_net, t_net, reverse=False):
    y, _ = affine_coupling(x, mask, s_net, t_net, reverse)
    s = s_net(x * mask)
    return y, (-s if reverse else s).sum(-1)


def coupling_inverse_scale_first(x, mask, s_net, t_net, reverse=False):
    if not reverse:
        return affine_coupling(x, mask, s_net, t_net)
    kept = x * mask
    s, t = s_net(kept) * (1 - mask), t_net(kept) * (1 - mask)
    return kept + (1 - mask) * (x * torch.exp(-s) - t), -s.sum(-1)


def _planar(z, w, u, b, derivative, absolute=True):
    a = torch.tanh(z @ w + b)
    inner = 1 + (derivative(a).unsqueeze(-1) * w) @ u
    return z + u * a.unsqueeze(-1), torch.log(inner.abs() if absolute else inner)


def planar_one_minus_tanh(z, w, u, b):
    return _planar(z, w, u, b, lambda a: 1 - a)


def planar_without_abs(z, w, u, b):
    return _planar(z, w, u, b, lambda a: 1 - a**2, absolute=False)


def radial_d_directions(z, z0, alpha, beta):
    diff = z - z0
    r = diff.norm(dim=-1)
    h = 1 / (alpha + r)
    y = z + (beta * h).unsqueeze(-1) * diff
    return y, z.shape[-1] * torch.log1p(beta * h) + torch.log1p(beta * h - beta * h**2 * r)


def radial_r_squared(z, z0, alpha, beta):
    diff = z - z0
    r = (diff**2).sum(-1)
    h = 1 / (alpha + r)
    y = z + (beta * h).unsqueeze(-1) * diff
    return y, (z.shape[-1] - 1) * torch.log1p(beta * h) + torch.log1p(beta * h - beta * h**2 * r)


def radial_inverse_without_z0(y, z0, alpha, beta):
    return _flows.radial_flow_inverse(y, z0, alpha, beta) - z0


def radial_inverse_forward_map(y, z0, alpha, beta):
    diff = y - z0
    return y - (beta / (alpha + diff.norm(dim=-1))).unsqueeze(-1) * diff


def radial_inverse_minus_root(y, z0, alpha, beta):
    diff = y - z0
    rho = diff.norm(dim=-1)
    p = alpha + beta - rho
    r = (-p - torch.sqrt(p * p + 4 * alpha * rho)) / 2
    return z0 + diff / (1 + beta / (alpha + r)).unsqueeze(-1)


def sigmoidal_log10(z, a, b, w_logits):
    g, log_dg = sigmoidal_flow(z, a, b, w_logits)
    return g, log_dg - math.log(math.log(10))


def log_prob_det_sign(x, inverse_layers):
    u, total = x, 0
    for layer in inverse_layers:
        u, log_det = layer(u)
        total = total + log_det
    return standard_normal_log_prob(u) - total


def log_prob_layers_reversed(x, inverse_layers):
    return flow_log_prob(x, list(reversed(inverse_layers)))


def log_prob_without_constant(x, inverse_layers):
    return flow_log_prob(x, inverse_layers) + 0.5 * x.shape[-1] * math.log(2 * math.pi)


def reverse_kl_det_sign(u, forward_layers, log_target):
    x, total = u, 0
    for layer in forward_layers:
        x, log_det = layer(x)
        total = total + log_det
    return (standard_normal_log_prob(u) + total - log_target(x)).mean()


def reverse_kl_target_at_u(u, forward_layers, log_target):
    x, total = u, 0
    for layer in forward_layers:
        x, log_det = layer(x)
        total = total + log_det
    return (standard_normal_log_prob(u) - total - log_target(u)).mean()


def radial_r_minus_root(rho, alpha, beta):
    p = alpha + beta - rho
    return (-p - sympy.sqrt(p**2 + 4 * alpha * rho)) / 2


MISTAKES = {
    "causal_conv_mask": [
        ("the types swapped: type A excludes the centre (the first layer must not see the pixel it "
         "predicts), type B includes it", mask_types_swapped, PUBLIC_SAFE),
        ("the mask transposed: raster order runs along the rows, so the ones are the rows above the "
         "centre and the positions left of it in its row", mask_transposed, PUBLIC_SAFE),
        ("the mask flipped: it lets through the future (below and right of the centre) instead of the past",
         mask_flipped, PUBLIC_SAFE),
        ("the whole centre row: the positions right of the centre come after it in raster order",
         mask_whole_centre_row, PUBLIC_SAFE)],
    "masked_conv2d": [
        ("the mask types swapped: type A excludes the centre, type B includes it", conv_types_swapped, PUBLIC_SAFE),
        ("no mask: the weights must be multiplied by the causal mask", conv_unmasked, PUBLIC_SAFE),
        ("the mask transposed: raster order runs along the rows", conv_mask_transposed, PUBLIC_SAFE),
        ("no bias: pass bias to F.conv2d (it may be None)", conv_without_bias, PUBLIC_SAFE)],
    "made_masks": [
        ("'>=' in the output layer: an output must see only hidden units of a strictly smaller degree, or "
         "output d depends on input d", made_output_at_least, PUBLIC_SAFE),
        ("'>' in a hidden layer: hidden units connect to units of the same degree or lower (>=); only the "
         "output layer is strict", made_hidden_strict, PUBLIC_SAFE)],
    "affine_coupling": [
        ("the log-determinant sums s over every dimension: the dimensions kept by the mask are not "
         "scaled, multiply s by (1 - mask) first", coupling_log_det_unmasked, PUBLIC_SAFE),
        ("the inverse scales before it shifts: the forward map scales then shifts, so its inverse is "
         "(y - t) * exp(-s)", coupling_inverse_scale_first, PUBLIC_SAFE)],
    "planar_flow": [
        ("1 - tanh for the derivative of tanh: tanh'(a) = 1 - tanh(a)^2", planar_one_minus_tanh, PUBLIC_SAFE),
        ("no absolute value: 1 + u . psi(z) may be negative, the log-density change is log|det|",
         planar_without_abs, PUBLIC_SAFE)],
    "radial_flow": [
        ("D log(1 + beta h): only the D - 1 directions orthogonal to z - z0 are scaled by 1 + beta h; "
         "the radial one has its own factor", radial_d_directions, PUBLIC_SAFE),
        ("r = ||z - z0||^2: r is the norm itself (a square root of the sum of squares)",
         radial_r_squared, PUBLIC_SAFE)],
    "radial_flow_inverse": [
        ("the other root of the quadratic: check which of its two roots is non-negative for every rho >= 0",
         radial_inverse_minus_root, PUBLIC_SAFE),
        ("z0 left out: the result is z, not z - z0", radial_inverse_without_z0, PUBLIC_SAFE),
        ("the forward map with its sign flipped and rho for r: the factor 1 + beta / (alpha + r) needs r = "
         "||z - z0||, found from rho = ||y - z0||", radial_inverse_forward_map, PUBLIC_SAFE)],
    "sigmoidal_flow": [
        ("a factor 1/ln 10 in the derivative: the logit is log(p / (1 - p)) with the natural log, "
         "whose derivative is 1 / (p (1 - p))", sigmoidal_log10, PUBLIC_SAFE)],
    "flow_log_prob": [
        ("the log-determinants subtracted: the layers map x to u, so log p(x) = log N(u) + their sum",
         log_prob_det_sign, PUBLIC_SAFE),
        ("no -D/2 log(2 pi): the base density is the normalized N(0, I)", log_prob_without_constant, PUBLIC_SAFE),
        ("the layers in reverse order: they are given in the order they apply to x",
         log_prob_layers_reversed, PUBLIC_SAFE)],
    "reverse_kl_loss": [
        ("the log-determinants added: log p_F(x) = log N(u) - their sum for the forward layers",
         reverse_kl_det_sign, PUBLIC_SAFE),
        ("the target evaluated at u: it must be evaluated at x = F(u)", reverse_kl_target_at_u, PUBLIC_SAFE)],
    "radial_r": [
        ("the minus root, which is negative: r >= 0 is the root with + sqrt", radial_r_minus_root)],
}
