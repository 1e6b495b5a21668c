"""hw4_flows_autoregressive: every check catches realistic mistakes with a message that names them,
and differently written correct code gets full marks (loops, raster indices, torch.where, sech²,
other algebra for the radial log-determinant, the naive root where it is accurate,
torch.distributions, grids as tensors, sympy forms). The variants are graded in rounds
(conftest's VariantRounds): one submission holds the k-th variant of every function."""
from __future__ import annotations

import pytest

from conftest import VariantRounds, assert_caught, assert_full_marks, grade_functions, make_submission

# another CPU's kernels compute other last bits: CI runs these again under another kernel set
pytestmark = pytest.mark.float_sensitive

HW4 = "hw4_flows_autoregressive"
SIGNATURES = {
    "causal_conv_mask": "kernel_size, mask_type", "masked_conv2d": "x, weight, bias, mask_type",
    "made_masks": "in_degrees, hidden_degrees",
    "affine_coupling": "x, mask, s_net, t_net, reverse=False", "planar_flow": "z, w, u, b",
    "radial_flow": "z, z0, alpha, beta", "radial_flow_inverse": "y, z0, alpha, beta",
    "sigmoidal_flow": "z, a, b, w_logits", "flow_log_prob": "x, inverse_layers",
    "reverse_kl_loss": "u, forward_layers, log_target",
    "receptive_fields": "", "kl_direction": "", "relu_collision": "a, b, c", "radial_beta_bound": "alpha",
    "radial_r": "rho, alpha, beta",
}
FILES = {"autoregressive": {"causal_conv_mask", "masked_conv2d", "made_masks"},
         "answers": {"receptive_fields", "kl_direction", "relu_collision", "radial_beta_bound", "radial_r"}}


def file_of(function: str) -> str:
    return next((stem for stem, names in FILES.items() if function in names), "flows")


CHECKS_MASK = '''if kernel_size % 2 == 0:
        raise ValueError("odd kernel sizes only")
    if mask_type not in ("A", "B"):
        raise ValueError("A or B")
    '''
MASK_BODY = '''c = kernel_size // 2
    m = torch.zeros(kernel_size, kernel_size)
    m[:c] = 1
    m[c, :c] = 1
    '''
CONV = "k = weight.shape[-1]\n    "
COUPLING_HEAD = "kept = x * mask\n    s = s_net(kept) * (1 - mask)\n    t = t_net(kept) * (1 - mask)\n    "
RADIAL_HEAD = "diff = z - z0\n    r = diff.norm(dim=-1)\n    h = 1 / (alpha + r)\n    y = z + (beta * h).unsqueeze(-1) * diff\n    "
INVERSE_HEAD = "diff = y - z0\n    rho = diff.norm(dim=-1)\n    p = alpha + beta - rho\n    "
SIGMOIDAL_HEAD = "t = z.unsqueeze(-1) * a + b\n    log_w = torch.log_softmax(w_logits, -1)\n    "
STABLE_G = ("log_p = torch.logsumexp(log_w + F.logsigmoid(t), -1)\n    "
            "log_q = torch.logsumexp(log_w + F.logsigmoid(-t), -1)\n    ")
FLOW_LOOP = "u, total = x, 0\n    for layer in inverse_layers:\n        u, ld = layer(u)\n        total = total + ld\n    "
FORWARD_LOOP = "x, total = u, 0\n    for layer in forward_layers:\n        x, ld = layer(x)\n        total = total + ld\n    "
GRIDS = {"AA": [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [0] * 5, [0] * 5],
         "AB": [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [0] * 5, [0] * 5],
         "BB": [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [0] * 5, [0] * 5]}


def grids(aa=None, ab=None, ba=None, bb=None):
    chosen = {"AA": aa or GRIDS["AA"], "AB": ab or GRIDS["AB"], "BA": ba or GRIDS["AB"], "BB": bb or GRIDS["BB"]}
    return "return {" + ", ".join(f"({k[0]!r}, {k[1]!r}): {v}" for k, v in chosen.items()) + "}"


# (function, mistake, body, failing check, message fragment)
MUTANTS = [
    ("causal_conv_mask", "types swapped", CHECKS_MASK + MASK_BODY + 'm[c, c] = float(mask_type == "A")\n    return m',
     "values", "expected"),
    ("causal_conv_mask", "transposed", CHECKS_MASK + MASK_BODY + 'm[c, c] = float(mask_type == "B")\n    return m.T',
     "values", "expected"),
    ("causal_conv_mask", "flipped", CHECKS_MASK + MASK_BODY + 'm[c, c] = float(mask_type == "B")\n    return m.flip(0, 1)',
     "values", "expected"),
    ("causal_conv_mask", "the whole centre row", CHECKS_MASK + MASK_BODY + 'm[c] = 1\n    m[c, c] = float(mask_type == "B")\n    return m',
     "values", "expected"),
    ("causal_conv_mask", "no ValueError", MASK_BODY + 'm[c, c] = float(mask_type == "B")\n    return m',
     "rejects an even kernel size or an unknown type", "must raise ValueError"),
    ("causal_conv_mask", "a boolean mask", CHECKS_MASK + MASK_BODY + 'm[c, c] = float(mask_type == "B")\n    return m.bool()',
     "values", "dtype bool"),
    ("masked_conv2d", "types swapped", CONV + 'm = causal_conv_mask(k, "B" if mask_type == "A" else "A").to(weight)\n'
     "    return F.conv2d(x, weight * m, bias, padding=k // 2)", "causal, by autograd", "depends on itself"),
    ("masked_conv2d", "no mask", "return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)",
     "causal, by autograd", "depends on"),
    ("masked_conv2d", "mask transposed", CONV + "m = causal_conv_mask(k, mask_type).T.to(weight)\n"
     "    return F.conv2d(x, weight * m, bias, padding=k // 2)", "values and gradients", "expected"),
    ("masked_conv2d", "a mask applied to the input", "x = x * causal_conv_mask(x.shape[-1], mask_type).to(x)\n"
     "    return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)", "values and gradients", "expected"),
    ("masked_conv2d", "no padding", CONV + "return F.conv2d(x, weight * causal_conv_mask(k, mask_type).to(weight), bias)",
     "values and gradients", "shape"),
    ("masked_conv2d", "bias dropped", CONV + "return F.conv2d(x, weight * causal_conv_mask(k, mask_type).to(weight), padding=k // 2)",
     "values and gradients", "expected"),
    ("masked_conv2d", "the mask left on the CPU", CONV + "return F.conv2d(x, weight * causal_conv_mask(k, mask_type), bias, padding=k // 2)",
     "device probe", "inputs' device"),
    ("made_masks", ">= in the output layer", "degrees = [in_degrees, *hidden_degrees]\n"
     "    return [(o[:, None] >= i[None, :]).float() for i, o in zip(degrees, degrees[1:] + [in_degrees])]",
     "autoregressive, by autograd", "depends on input"),
    ("made_masks", "> in the hidden layers", "degrees = [in_degrees, *hidden_degrees]\n"
     "    return [(o[:, None] > i[None, :]).float() for i, o in zip(degrees, degrees[1:] + [in_degrees])]",
     "values", "expected"),
    ("made_masks", "transposed masks", "degrees = [in_degrees, *hidden_degrees]\n"
     "    masks = [(o[None, :] >= i[:, None]).float() for i, o in zip(degrees, degrees[1:])]\n"
     "    return masks + [(in_degrees[None, :] > degrees[-1][:, None]).float()]",
     "autoregressive, by autograd", "transposed?"),
    ("affine_coupling", "log-det over the kept dimensions too", "kept = x * mask\n    s = s_net(kept)\n"
     "    t = t_net(kept) * (1 - mask)\n    if reverse:\n        return kept + (1 - mask) * ((x - t) * torch.exp(-s)), -s.sum(-1)\n"
     "    return kept + (1 - mask) * (x * torch.exp(s) + t), s.sum(-1)", "values and gradients", "expected"),
    ("affine_coupling", "log-det over the kept dimensions too, by autograd", "kept = x * mask\n    s = s_net(kept)\n"
     "    t = t_net(kept) * (1 - mask)\n    if reverse:\n        return kept + (1 - mask) * ((x - t) * torch.exp(-s)), -s.sum(-1)\n"
     "    return kept + (1 - mask) * (x * torch.exp(s) + t), s.sum(-1)", "log-determinant of the Jacobian", "by autograd"),
    ("affine_coupling", "log-det summed over the batch", COUPLING_HEAD + "if reverse:\n"
     "        return kept + (1 - mask) * ((x - t) * torch.exp(-s)), -s.sum()\n"
     "    return kept + (1 - mask) * (x * torch.exp(s) + t), s.sum()", "values and gradients", "shape"),
    ("affine_coupling", "inverse scales first", COUPLING_HEAD + "if reverse:\n"
     "        return kept + (1 - mask) * (x * torch.exp(-s) - t), -s.sum(-1)\n"
     "    return kept + (1 - mask) * (x * torch.exp(s) + t), s.sum(-1)", "reverse undoes forward", "does not undo"),
    ("affine_coupling", "inverse log-det sign", COUPLING_HEAD + "if reverse:\n"
     "        return kept + (1 - mask) * ((x - t) * torch.exp(-s)), s.sum(-1)\n"
     "    return kept + (1 - mask) * (x * torch.exp(s) + t), s.sum(-1)", "reverse", "expected"),
    ("affine_coupling", "networks run without gradients", "kept = x * mask\n    with torch.no_grad():\n"
     "        s = s_net(kept) * (1 - mask)\n        t = t_net(kept) * (1 - mask)\n    if reverse:\n"
     "        return kept + (1 - mask) * ((x - t) * torch.exp(-s)), -s.sum(-1)\n"
     "    return kept + (1 - mask) * (x * torch.exp(s) + t), s.sum(-1)", "values and gradients", "the gradient with respect to x"),
    ("planar_flow", "1 - tanh for tanh'", "a = torch.tanh(z @ w + b)\n    psi = (1 - a).unsqueeze(-1) * w\n"
     "    return z + u * a.unsqueeze(-1), torch.log(torch.abs(1 + psi @ u))", "values and gradients", "expected"),
    ("planar_flow", "1 - tanh for tanh', by autograd", "a = torch.tanh(z @ w + b)\n    psi = (1 - a).unsqueeze(-1) * w\n"
     "    return z + u * a.unsqueeze(-1), torch.log(torch.abs(1 + psi @ u))", "log-determinant of the Jacobian", "by autograd"),
    ("planar_flow", "no absolute value", "a = torch.tanh(z @ w + b)\n    psi = (1 - a**2).unsqueeze(-1) * w\n"
     "    return z + u * a.unsqueeze(-1), torch.log(1 + psi @ u)", "values and gradients", "negative number"),
    ("planar_flow", "w for psi", "a = torch.tanh(z @ w + b)\n"
     "    return z + u * a.unsqueeze(-1), torch.log(torch.abs(1 + (w @ u).expand(a.shape)))", "values and gradients", "expected"),
    ("radial_flow", "D instead of D - 1", RADIAL_HEAD +
     "return y, z.shape[-1] * torch.log1p(beta * h) + torch.log1p(beta * h - beta * h**2 * r)", "values and gradients", "expected"),
    ("radial_flow", "the radial factor missing", RADIAL_HEAD + "return y, (z.shape[-1] - 1) * torch.log1p(beta * h)",
     "log-determinant of the Jacobian", "by autograd"),
    ("radial_flow", "r squared", "diff = z - z0\n    r = (diff**2).sum(-1)\n    h = 1 / (alpha + r)\n"
     "    y = z + (beta * h).unsqueeze(-1) * diff\n"
     "    return y, (z.shape[-1] - 1) * torch.log1p(beta * h) + torch.log1p(beta * h - beta * h**2 * r)",
     "values and gradients", "expected"),
    ("radial_flow_inverse", "the minus root", INVERSE_HEAD + "r = (-p - torch.sqrt(p * p + 4 * alpha * rho)) / 2\n"
     "    return z0 + diff / (1 + beta / (alpha + r)).unsqueeze(-1)", "values and gradients", "expected"),
    ("radial_flow_inverse", "z0 forgotten", INVERSE_HEAD + "r = (torch.sqrt(p * p + 4 * alpha * rho) - p) / 2\n"
     "    return diff / (1 + beta / (alpha + r)).unsqueeze(-1)", "values and gradients", "expected"),
    ("radial_flow_inverse", "the forward map applied", INVERSE_HEAD + "h = 1 / (alpha + rho)\n"
     "    return y - (beta * h).unsqueeze(-1) * diff", "values and gradients", "expected"),
    ("sigmoidal_flow", "a naive logit", SIGMOIDAL_HEAD + "p = (log_w.exp() * torch.sigmoid(t)).sum(-1)\n"
     "    dp = (log_w.exp() * a * torch.sigmoid(t) * torch.sigmoid(-t)).sum(-1)\n"
     "    return torch.log(p / (1 - p)), torch.log(dp / (p * (1 - p)))", "stable for |z| up to 40 in float32", "not stable in float32 at |z| up to 40"),
    ("sigmoidal_flow", "1/ln 10", SIGMOIDAL_HEAD + STABLE_G +
     "log_dp = torch.logsumexp(log_w + torch.log(a) + F.logsigmoid(t) + F.logsigmoid(-t), -1)\n"
     "    return log_p - log_q, log_dp - log_p - log_q - math.log(math.log(10))", "values and gradients", "expected"),
    ("sigmoidal_flow", "weights not normalized", "t = z.unsqueeze(-1) * a + b\n    log_w = w_logits\n    " + STABLE_G +
     "log_dp = torch.logsumexp(log_w + torch.log(a) + F.logsigmoid(t) + F.logsigmoid(-t), -1)\n"
     "    return log_p - log_q, log_dp - log_p - log_q", "values and gradients", "expected"),
    ("flow_log_prob", "log-det sign", FLOW_LOOP + "return standard_normal_log_prob(u) - total", "integrates to 1", "not 1"),
    ("flow_log_prob", "log-det sign, by value", FLOW_LOOP + "return standard_normal_log_prob(u) - total",
     "values and gradients", "expected"),
    ("flow_log_prob", "no -D/2 log 2 pi", FLOW_LOOP + "return -0.5 * (u**2).sum(-1) + total", "values and gradients", "expected"),
    ("flow_log_prob", "layers in reverse order", "u, total = x, 0\n    for layer in reversed(inverse_layers):\n"
     "        u, ld = layer(u)\n        total = total + ld\n    return standard_normal_log_prob(u) + total",
     "values and gradients", "expected"),
    ("flow_log_prob", "an accumulator on the CPU", "u, total = x, torch.zeros(x.shape[0])\n    for layer in inverse_layers:\n"
     "        u, ld = layer(u)\n        total = total + ld\n    return standard_normal_log_prob(u) + total", "device probe", "inputs' device"),
    ("reverse_kl_loss", "log-det sign", FORWARD_LOOP + "return (standard_normal_log_prob(u) + total - log_target(x)).mean()",
     "values and gradients", "expected"),
    ("reverse_kl_loss", "the target at u", FORWARD_LOOP + "return (standard_normal_log_prob(u) - total - log_target(u)).mean()",
     "values and gradients", "expected"),
    ("reverse_kl_loss", "a sum over the batch", FORWARD_LOOP + "return (standard_normal_log_prob(u) - total - log_target(x)).sum()",
     "values and gradients", "expected"),
    ("reverse_kl_loss", "samples detached", FORWARD_LOOP + "return (standard_normal_log_prob(u) - total - log_target(x.detach())).mean()",
     "values and gradients", "gradient"),
    ("receptive_fields", "stacked A keeps the left pixel", grids(aa=GRIDS["AB"]), "answer key", "should not be there 24, 32"),
    ("receptive_fields", "the pixel itself in (B, A)", grids(ba=GRIDS["BB"]), "answer key", "should not be there 33"),
    ("receptive_fields", "no blind spot", grids(bb=[[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0] * 5, [0] * 5]),
     "answer key", "should not be there 25"),
    ("receptive_fields", "a 3 x 3 grid", grids(aa=[[1, 1, 1], [1, 0, 0], [0, 0, 0]]), "well-formed", "5 rows of 5 values"),
    ("receptive_fields", "a key missing", 'return {("A", "A"): ' + str(GRIDS["AA"]) + "}", "well-formed", "is missing"),
    ("kl_direction", "swapped", 'return {"density only": {"objective": "forward"}, "samples only": {"objective": "reverse"}}',
     "answer key", "should not be 'forward'"),
    ("kl_direction", "the same answer twice", 'return {"density only": {"objective": "forward"}, "samples only": {"objective": "forward"}}',
     "answer key", "should not be 'forward'"),
    ("kl_direction", "a misspelt value", 'return {"density only": {"objective": "reversed"}, "samples only": {"objective": "forward"}}',
     "well-formed", "must be one of"),
    ("relu_collision", "the wrong side of the kink", "if b == 0:\n        return [0.0, 1.0]\n    return [-c / b + 1, -c / b + 2]", "g(z1) = g(z2) for two distinct z", "differ"),
    ("relu_collision", "b = 0 not handled", "step = -1.0 if b > 0 else 1.0\n    return [-c / b + step, -c / b + 2 * step]",
     "g(z1) = g(z2) for two distinct z", "ZeroDivisionError"),
    ("relu_collision", "one point twice", "return [0.0, 0.0]", "g(z1) = g(z2) for two distinct z", "distinct"),
    ("relu_collision", "a constant pair", "return [-100.0, -200.0]", "g(z1) = g(z2) for two distinct z", "differ"),
    ("radial_beta_bound", "the sign", "return alpha", "equals the bound", "the correct value is"),
    ("radial_beta_bound", "zero", "return sympy.Integer(0) * alpha", "equals the bound", "the correct value is"),
    ("radial_r", "the minus root", "p = alpha + beta - rho\n    return (-p - sympy.sqrt(p**2 + 4 * alpha * rho)) / 2",
     "equals the non-negative root", "the correct value is"),
    ("radial_r", "rho for r", "return rho", "equals the non-negative root", "the correct value is"),
    ("radial_r", "4 forgotten", "p = alpha + beta - rho\n    return (-p + sympy.sqrt(p**2 + alpha * rho)) / 2",
     "equals the non-negative root", "the correct value is"),
]

# The likely cause (checks/diagnoses.py) each mutant must get, by (function, mistake); a mutant
# not listed must get none (its checks' own messages say what is wrong, or nothing fits).
CAUSES = {
    ("causal_conv_mask", "types swapped"): "known mistake: the types swapped",
    ("causal_conv_mask", "transposed"): "known mistake: the mask transposed",
    ("causal_conv_mask", "flipped"): "known mistake: the mask flipped",
    ("masked_conv2d", "types swapped"): "known mistake: the mask types swapped",
    ("masked_conv2d", "no mask"): "known mistake: no mask",
    ("masked_conv2d", "mask transposed"): "known mistake: the mask transposed",
    ("made_masks", ">= in the output layer"): "known mistake: '>=' in the output layer",
    ("made_masks", "> in the hidden layers"): "known mistake: '>' in a hidden layer",
    ("affine_coupling", "log-det over the kept dimensions too"): "known mistake: the log-determinant sums s over every dimension",
    ("affine_coupling", "log-det over the kept dimensions too, by autograd"):
        "known mistake: the log-determinant sums s over every dimension",
    ("affine_coupling", "inverse scales first"): "known mistake: the inverse scales before it shifts",
    ("affine_coupling", "inverse log-det sign"): "opposite sign",
    ("affine_coupling", "log-det summed over the batch"): ("summed over dimension 0", "shaped () instead of (1,)"),
    ("radial_flow", "the radial factor missing"): "0 everywhere",   # in the case D = 1
    ("sigmoidal_flow", "a naive logit"): "not stable in float32 at |z| up to 40: your values are right at moderate inputs",
    ("sigmoidal_flow", "weights not normalized"): "below the expected ones everywhere: a dropped or extra constant term?",
    ("radial_beta_bound", "the sign"): "opposite sign",
    ("planar_flow", "no absolute value"): "known mistake: no absolute value",
    ("planar_flow", "1 - tanh for tanh'"): "known mistake: 1 - tanh",
    ("planar_flow", "1 - tanh for tanh', by autograd"): "known mistake: 1 - tanh",
    ("radial_flow", "D instead of D - 1"): "known mistake: D log(1 + beta h)",
    ("radial_flow_inverse", "the minus root"): "known mistake: the other root of the quadratic",
    # a later case's square masks: the first one's shape differs
    ("made_masks", "transposed masks"): "the transpose of the expected ones",
    ("sigmoidal_flow", "1/ln 10"): "known mistake: a factor 1/ln 10",
    ("flow_log_prob", "log-det sign"): "known mistake: the log-determinants subtracted",
    ("flow_log_prob", "log-det sign, by value"): "known mistake: the log-determinants subtracted",
    ("flow_log_prob", "no -D/2 log 2 pi"): "known mistake: no -D/2 log(2 pi)",
    ("reverse_kl_loss", "log-det sign"): "known mistake: the log-determinants added",
    ("reverse_kl_loss", "the target at u"): "known mistake: the target evaluated at u",
    ("reverse_kl_loss", "a sum over the batch"): "did you sum where a mean is asked for?",
    ("radial_r", "the minus root"): "known mistake: the minus root",
    ("causal_conv_mask", "the whole centre row"): "known mistake: the whole centre row",
    ("masked_conv2d", "bias dropped"): "known mistake: no bias",
    ("radial_flow", "r squared"): "known mistake: r = ||z - z0||^2",
    ("radial_flow_inverse", "z0 forgotten"): "known mistake: z0 left out",
    ("radial_flow_inverse", "the forward map applied"): "known mistake: the forward map",
    ("flow_log_prob", "layers in reverse order"): "known mistake: the layers in reverse order",
}
# Mutants without a likely cause whose failing check names the mistake itself (the table's
# fragment): causality and log-determinants by autograd, round trips, the form of an answer,
# the overflow check, missing gradients, device probes, wrong keys and cells.
NAMED_BY_THE_CHECK = {
    ("causal_conv_mask", "no ValueError"), ("causal_conv_mask", "a boolean mask"),
    ("masked_conv2d", "no padding"), ("masked_conv2d", "the mask left on the CPU"),
    ("affine_coupling", "networks run without gradients"),
    ("flow_log_prob", "an accumulator on the CPU"), ("reverse_kl_loss", "samples detached"),
    ("receptive_fields", "stacked A keeps the left pixel"), ("receptive_fields", "the pixel itself in (B, A)"),
    ("receptive_fields", "no blind spot"), ("receptive_fields", "a 3 x 3 grid"), ("receptive_fields", "a key missing"),
    ("kl_direction", "swapped"), ("kl_direction", "the same answer twice"), ("kl_direction", "a misspelt value"),
    ("relu_collision", "the wrong side of the kink"), ("relu_collision", "b = 0 not handled"),
    ("relu_collision", "one point twice"), ("relu_collision", "a constant pair"),
}

VARIANTS = [
    ("causal_conv_mask", CHECKS_MASK + "centre = kernel_size * kernel_size // 2\n"   # raster indices
     "    index = torch.arange(kernel_size * kernel_size).reshape(kernel_size, kernel_size)\n"
     '    return ((index < centre) | ((index == centre) & (mask_type == "B"))).to(torch.float32)'),
    ("causal_conv_mask", "if kernel_size % 2 != 1:\n        raise ValueError(kernel_size)\n"   # loops, a list
     "    if mask_type != 'A' and mask_type != 'B':\n        raise ValueError(mask_type)\n"
     "    c = (kernel_size - 1) // 2\n    rows = []\n    for i in range(kernel_size):\n"
     "        rows.append([1.0 if (i < c or (i == c and (j < c or (j == c and mask_type == 'B')))) else 0.0"
     " for j in range(kernel_size)])\n    return torch.tensor(rows)"),
    ("causal_conv_mask", CHECKS_MASK + "m = torch.ones(kernel_size, kernel_size, dtype=torch.float64)\n"   # float64, zeroing the future
     "    c = kernel_size // 2\n    m[c, c + (mask_type == 'B'):] = 0\n    m[c + 1:] = 0\n    return m"),
    ("masked_conv2d", "k = weight.shape[-1]\n    m = causal_conv_mask(k, mask_type).to(weight.device)\n"   # torch.where, padding="same"
     "    w = torch.where(m.bool(), weight, torch.zeros_like(weight))\n    return F.conv2d(x, w, bias, padding='same')"),
    ("masked_conv2d", "k = weight.shape[-1]\n    c = k // 2\n    w = weight.clone()\n"   # in place on a copy
     "    w[:, :, c, c + (mask_type == 'B'):] = 0\n    w[:, :, c + 1:] = 0\n"
     "    out = F.conv2d(F.pad(x, (c, c, c, c)), w)\n"
     "    return out if bias is None else out + bias.view(1, -1, 1, 1)"),
    ("made_masks", "degrees = [in_degrees.tolist()] + [h.tolist() for h in hidden_degrees]\n"   # Python lists
     "    masks = []\n    for below, above in zip(degrees, degrees[1:]):\n"
     "        masks.append([[float(a >= b) for b in below] for a in above])\n"
     "    masks.append([[float(a > b) for b in degrees[-1]] for a in degrees[0]])\n"
     "    return [torch.tensor(m, dtype=torch.float32, device=in_degrees.device) for m in masks]"),
    ("made_masks", "layers = [in_degrees, *hidden_degrees]\n"   # torch.ge / torch.gt with unsqueeze
     "    out = [torch.ge(layers[l + 1].unsqueeze(1), layers[l].unsqueeze(0)).to(torch.get_default_dtype())"
     " for l in range(len(layers) - 1)]\n"
     "    return out + [torch.gt(in_degrees.unsqueeze(1), layers[-1].unsqueeze(0)).float()]"),
    ("affine_coupling", "keep = mask.bool()\n    s = torch.where(keep, torch.zeros_like(x), s_net(x * mask))\n"   # torch.where
     "    t = torch.where(keep, torch.zeros_like(x), t_net(x * mask))\n"
     "    if not reverse:\n        return torch.where(keep, x, x * s.exp() + t), s.sum(dim=1)\n"
     "    return torch.where(keep, x, (x - t) / s.exp()), -s.sum(dim=1)"),
    ("affine_coupling", "x_a = x * mask\n    s, t = s_net(x_a), t_net(x_a)\n"   # the mask applied to s and t where used
     "    sign = -1.0 if reverse else 1.0\n    inv = 1 - mask\n"
     "    out = x_a + inv * ((x * torch.exp(s * inv) + t) if not reverse else torch.exp(-s * inv) * (x - t))\n"
     "    return out, sign * (s * inv).sum(-1)"),
    ("planar_flow", "a = torch.einsum('bd,d->b', z, w) + b\n"   # einsum, sech²
     "    psi = (1 / torch.cosh(a) ** 2)[:, None] * w[None, :]\n"
     "    return z + u[None, :] * torch.tanh(a)[:, None], (1 + (psi * u).sum(-1)).abs().log()"),
    ("planar_flow", "lin = (z * w).sum(-1, keepdim=True) + b\n    th = torch.tanh(lin)\n"   # keepdim, a scalar u.w
     "    det = 1 + (1 - th.squeeze(-1) ** 2) * torch.dot(w, u)\n    return z + th * u, torch.log(torch.abs(det))"),
    ("radial_flow", "d = z.shape[1]\n    diff = z - z0\n    r = torch.linalg.norm(diff, dim=1, keepdim=True)\n"   # 1 + beta alpha h^2
     "    h = 1.0 / (alpha + r)\n    bh = beta * h\n"
     "    log_det = (d - 1) * torch.log(1 + bh) + torch.log(1 + beta * alpha * h ** 2)\n"
     "    return z + bh * diff, log_det.squeeze(1)"),
    ("radial_flow", "diff = z - z0\n    r = torch.sqrt((diff ** 2).sum(-1))\n    factor = 1 + beta / (alpha + r)\n"   # the factors' product
     "    radial = 1 + beta * alpha / (alpha + r) ** 2\n"
     "    return diff * factor[:, None] + z0, torch.log(factor ** (z.shape[-1] - 1) * radial)"),
    ("radial_flow_inverse", INVERSE_HEAD + "r = 0.5 * (-p + torch.sqrt(p ** 2 + 4 * alpha * rho))\n"   # the naive root
     "    return z0 + diff * ((alpha + r) / (alpha + r + beta))[:, None]"),
    ("radial_flow_inverse", "rho = torch.linalg.vector_norm(y - z0, dim=-1)\n"   # the quadratic's coefficients, float64
     "    b1 = (alpha + beta - rho).double()\n    c0 = (-alpha * rho).double()\n"
     "    r = ((-b1 + torch.sqrt(b1 * b1 - 4 * c0)) / 2).to(y.dtype)\n"
     "    return z0 + (y - z0) / (1 + beta / (alpha + r)).unsqueeze(-1)"),
    ("sigmoidal_flow", "t = a * z[:, None] + b\n    w = torch.softmax(w_logits, 0)\n"   # logaddexp of the two logs, log w
     "    log_p = torch.logsumexp(torch.log(w) - F.softplus(-t), dim=1)\n"
     "    log_q = torch.logsumexp(torch.log(w) - F.softplus(t), dim=1)\n"
     "    log_dp = torch.logsumexp(torch.log(w * a) - F.softplus(-t) - F.softplus(t), dim=1)\n"
     "    return log_p - log_q, log_dp - (log_p + log_q)"),
    ("sigmoidal_flow", SIGMOIDAL_HEAD + STABLE_G +   # float64 inside, cast back
     "g = (log_p.double() - log_q.double())\n"
     "    log_dp = torch.logsumexp((log_w + torch.log(a) + F.logsigmoid(t) + F.logsigmoid(-t)).double(), -1)\n"
     "    return g.to(z.dtype), (log_dp - log_p.double() - log_q.double()).to(z.dtype)"),
    ("flow_log_prob", "log_dets = []\n    for layer in inverse_layers:\n        x, ld = layer(x)\n"   # torch.distributions
     "        log_dets.append(ld)\n"
     "    base = torch.distributions.Normal(torch.zeros_like(x), torch.ones_like(x))\n"
     "    return base.log_prob(x).sum(-1) + sum(log_dets)"),
    ("flow_log_prob", "u = x\n    log_det = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)\n"   # in place
     "    for layer in inverse_layers:\n        u, ld = layer(u)\n        log_det += ld\n"
     "    return -0.5 * u.pow(2).sum(-1) - u.shape[-1] * math.log(math.sqrt(2 * math.pi)) + log_det"),
    ("flow_log_prob", "u, total = inverse_layers[0](x)\n    for layer in inverse_layers[1:]:\n"   # in place on a layer's log-det
     "        u, ld = layer(u)\n        total += ld\n    return standard_normal_log_prob(u) + total"),
    ("reverse_kl_loss", "import functools\n\n    def step(state, layer):\n        x, total = state\n"   # reduce
     "        y, ld = layer(x)\n        return y, total + ld\n\n"
     "    x, total = functools.reduce(step, forward_layers, (u, torch.zeros_like(u[:, 0])))\n"
     "    base = torch.distributions.Independent(torch.distributions.Normal(torch.zeros_like(u), torch.ones_like(u)), 1)\n"
     "    return torch.mean(base.log_prob(u) - total - log_target(x))"),
    ("reverse_kl_loss", FORWARD_LOOP +   # the log-density of the flow at its own samples, then minus the target
     "log_q = standard_normal_log_prob(u) - total\n    return log_q.mean() - log_target(x).mean()"),
    ("receptive_fields", "import torch\n    aa = torch.zeros(5, 5, dtype=torch.int64)\n"   # tensors
     "    aa[0] = 1\n    aa[1, :3] = 1\n    aa[2, 0] = 1\n    ab = aa.clone()\n    ab[1, 3] = 1\n    ab[2, 1] = 1\n"
     "    bb = ab.clone()\n    bb[2, 2] = 1\n    return {('A', 'A'): aa, ('A', 'B'): ab, ('B', 'A'): ab.clone(), ('b', 'b'): bb}"),
    ("receptive_fields", "pixels = {'AA': {11, 12, 13, 14, 15, 21, 22, 23, 31}, 'BB': {11, 12, 13, 14, 15, 21, 22, 23, 24, 31, 32, 33}}\n"
     "    pixels['AB'] = pixels['BA'] = pixels['BB'] - {33}\n"   # from the figure's numbering, booleans
     "    return {(k[0], k[1]): [[10 * i + j in v for j in range(1, 6)] for i in range(1, 6)] for k, v in pixels.items()}"),
    ("kl_direction", 'return {" Density only": {"objective": "Reverse "}, "SAMPLES ONLY": {"Objective": "forward"}}'),
    ("kl_direction", 'table = {}\n    table["samples only"] = {"objective": "forward"}\n'
     '    table["density only"] = {"objective": "reverse"}\n    return table'),
    ("relu_collision", "if b == 0 or a == 0:\n        return [1, 2]\n"   # integers, and the other flat side
     "    far = (abs(c) + 1) / abs(b)\n    return [-far * (1 if b > 0 else -1), -2 * far * (1 if b > 0 else -1)]"),
    ("relu_collision", "import sympy\n    if b == 0:\n        return [sympy.Integer(3), sympy.Integer(4)]\n"   # sympy rationals
     "    edge = -sympy.nsimplify(c) / sympy.nsimplify(b)\n    direction = -1 if b > 0 else 1\n"
     "    return [edge + direction, edge + 5 * direction]"),
    ("radial_beta_bound", "return -1 * alpha"),
    ("radial_beta_bound", "return sympy.Mul(-1, alpha) + 0.0 * alpha"),
    ("radial_r", "return ((rho - alpha - beta) + sympy.sqrt((rho - alpha - beta)**2 + 4 * alpha * rho)) / 2"),
    ("radial_r", "p = alpha + beta - rho\n    return 2 * alpha * rho / (p + sympy.sqrt(p**2 + 4 * alpha * rho))"),
    ("radial_r", "r = sympy.Symbol('r')\n"   # solved in sympy, the root with + sqrt picked by its value at a point
     "    roots = sympy.solve(sympy.Eq(rho, r * (1 + beta / (alpha + r))), r)\n"
     "    at = {rho: 2, alpha: 1, beta: 1}\n    return max(roots, key=lambda e: float(e.subs(at)))"),
]


def submission(tmp_path, function, code):
    source = f"def {function}({SIGNATURES[function]}):\n    {code}\n"
    return make_submission(tmp_path / "s", HW4, **{file_of(function): {function: source}})


@pytest.mark.parametrize("function,mistake,code,check,fragment", MUTANTS, ids=[f"{m[0]}: {m[1]}" for m in MUTANTS])
def test_mutants_are_caught(tmp_path, function, mistake, code, check, fragment):
    results = grade_functions(submission(tmp_path, function, code), {function}, HW4)
    assert_caught(results, function, check, fragment, CAUSES.get((function, mistake)))


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    """Variants graded in rounds (one submission holds the k-th variant of every function)."""
    entries = [(file_of(function), function, f"def {function}({SIGNATURES[function]}):\n    {code}\n")
               for function, code in VARIANTS]
    return VariantRounds(HW4, entries, tmp_path_factory.mktemp)


@pytest.mark.parametrize("index", range(len(VARIANTS)), ids=[f"{v[0]}-{i}" for i, v in enumerate(VARIANTS)])
def test_correct_variants_get_full_marks(rounds, index):
    results = rounds.results(index)
    assert_full_marks(results)


@pytest.mark.parametrize("word", ["forward", "reverse"])
def test_the_same_direction_for_both_scenarios_earns_nothing(tmp_path, word):
    """Two rows, one "forward" and one "reverse": a constant answer is right in one row for sure,
    so the key is all or nothing, and the well-formed check is not counted either."""
    code = f'return {{"density only": {{"objective": "{word}"}}, "samples only": {{"objective": "{word}"}}}}'
    results = grade_functions(submission(tmp_path, "kl_direction", code), {"kl_direction"}, HW4)
    assert sum(r.score for r in results.values()) == 0, {n: (r.score, r.message) for n, r in results.items()}


# The mutants whose feedback tests/test_diagnoses.py counts (answer-key letters, cells and grids aside,
# which have no cause to name): (assignment, mutants, CAUSES, NAMED_BY_THE_CHECK).
DIAGNOSED = (
    HW4, [(f, m) for f, m, *_ in MUTANTS if f not in ("receptive_fields", "kl_direction")], CAUSES,
    {m for m in NAMED_BY_THE_CHECK if m[0] not in ("receptive_fields", "kl_direction")})
