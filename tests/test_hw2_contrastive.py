"""hw2_contrastive: every check catches realistic mistakes, and differently written correct answers
get full marks (other torch calls, masks, loops, sympy forms, tuples, the table's spelling).

Grading a submission starts a worker (seconds), so submissions are shared: a round holds at most one
mutant (or one variant) per function, and the reference's functions do not call each other, so each
mutant is judged by its own function's checks alone."""
from __future__ import annotations

import pytest

from conftest import assert_caught, assert_full_marks, grade_functions, make_submission

# another CPU's kernels compute other last bits: CI runs these again under another kernel set
pytestmark = pytest.mark.float_sensitive

HW2 = "hw2_contrastive"
SIGNATURES = {
    "mse_loss": "x_hat, x", "contrastive_logits": "z, z_pos, tau=0.07", "contrastive_loss": "logits",
    "nt_xent": "z1, z2, tau=0.5", "unified_contrastive_loss": "z, z_aug, phi, psi", "unit_distance": "dot",
    "logit_range": "", "logit_range_with_temperature": "tau", "contrastive_decomposition": "M",
    "mc_perfect_accuracy_condition": "", "invariance_table": "",
}
LOSSES_FILE = {"mse_loss", "contrastive_logits", "contrastive_loss", "nt_xent", "unified_contrastive_loss"}

NT_XENT = """
    b = z1.shape[0]
    e = F.normalize(torch.cat([z1, z2]), dim=1)
    s = e @ e.T / tau
    targets = torch.arange(2 * b).roll(b)
    self_pairs = torch.eye(2 * b, dtype=torch.bool)"""
UNIFIED = """
    eye = torch.eye(z.shape[0], dtype=torch.bool)
    pos = 0.5 * (z - z_aug).pow(2).sum(1)
    neg = 0.5 * (z[:, None] - z[None]).pow(2).sum(2)"""
MASKED_AFTER_PSI = "\n    return phi(psi(pos[:, None] - neg).masked_fill(eye, 0).sum(1)).sum()"   # with a CPU mask
TABLE = {"A": ("sensitive", "sensitive", "invariant"), "B": ("sensitive", "invariant", "sensitive"),
         "C": ("sensitive", "invariant", "invariant")}


def table(**rows):
    """The key with some rows replaced (each a tuple of shape, location, color)."""
    return "return " + repr({row: dict(zip(("shape", "location", "color"), cells))
                             for row, cells in {**TABLE, **rows}.items()})


# (function, mistake, body or whole definition, failing check, message fragment)
MUTANTS = [
    ("mse_loss", "summed instead of averaged", "return ((x_hat - x) ** 2).sum()", "values and gradients", "expected"),
    ("mse_loss", "absolute instead of squared", "return (x_hat - x).abs().mean()", "values and gradients", "expected"),
    ("mse_loss", "the root of the mean square", "return ((x_hat - x) ** 2).mean().sqrt()", "values and gradients",
     "expected"),
    ("mse_loss", "mean over the last dimension only", "return ((x_hat - x) ** 2).mean(-1)", "values and gradients",
     "has shape (7,), expected ()"),
    ("mse_loss", "zeros on the CPU", "return ((x_hat - x) ** 2 + torch.zeros(x.shape)).mean()", "device probe",
     "created on the CPU"),
    ("contrastive_logits", "transposed", "return z_pos @ z.T / tau", "values and gradients", "the transpose"),
    ("contrastive_logits", "temperature missing", "return z @ z_pos.T", "values and gradients", "expected"),
    ("contrastive_logits", "temperature multiplied", "return z @ z_pos.T * tau", "values and gradients", "expected"),
    ("contrastive_logits", "only the positives", "return (z * z_pos).sum(1) / tau", "values and gradients",
     "has shape (5,), expected (5, 5)"),
    ("contrastive_loss", "summed instead of averaged",
     "return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device), reduction='sum')",
     "log b when all logits are equal", "a mean over the rows, not a sum?"),
    ("contrastive_loss", "target 0 for every row",
     "return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))",
     "values and gradients", "expected"),
    ("contrastive_loss", "target 0 for every row, by the property",
     "return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))",
     "invariant to permuting the pairs", "are the positives on the diagonal?"),
    ("contrastive_loss", "softmax over the wrong axis", "return -torch.log_softmax(logits, 0).diagonal().mean()",
     "values and gradients", "expected"),
    ("contrastive_loss", "exponentials without the max trick",
     "return (torch.log(torch.exp(logits).sum(1)) - logits.diagonal()).mean()",
     "stable at |logits| up to 1e4 in float32", "use torch.logsumexp"),
    ("contrastive_loss", "exponentials without the max trick, in bfloat16",
     "return (torch.log(torch.exp(logits).sum(1)) - logits.diagonal()).mean()",
     "finite in bfloat16 at large logits", "not stable in bfloat16"),
    ("contrastive_loss", "labels on the CPU", "return F.cross_entropy(logits, torch.arange(len(logits)))",
     "device probe", "created on the CPU"),
    ("nt_xent", "positive left out of the denominator", NT_XENT + """
    positives = s[torch.arange(2 * b), targets]
    others = self_pairs | F.one_hot(targets, 2 * b).bool()
    return (torch.logsumexp(s.masked_fill(others, float("-inf")), 1) - positives).mean()""",
     "values and gradients", "expected"),
    ("nt_xent", "self-similarity left in the denominator", NT_XENT + "\n    return F.cross_entropy(s, targets)",
     "values and gradients", "expected"),
    ("nt_xent", "rows not normalized", NT_XENT.replace("F.normalize(torch.cat([z1, z2]), dim=1)", "torch.cat([z1, z2])")
     + "\n    return F.cross_entropy(s.masked_fill(self_pairs, float('-inf')), targets)",
     "invariant to positive scaling of each row", "are the rows normalized?"),
    ("nt_xent", "divided by b instead of 2b", NT_XENT
     + "\n    return F.cross_entropy(s.masked_fill(self_pairs, float('-inf')), targets, reduction='sum') / b",
     "values and gradients", "expected"),
    ("nt_xent", "the temperature forgotten", NT_XENT.replace("e @ e.T / tau", "e @ e.T")
     + "\n    return F.cross_entropy(s.masked_fill(self_pairs, float('-inf')), targets)",
     "values and gradients", "expected"),
    ("nt_xent", "the temperature applied to the loss", NT_XENT.replace("e @ e.T / tau", "e @ e.T")
     + "\n    return F.cross_entropy(s.masked_fill(self_pairs, float('-inf')), targets) / tau",
     "values and gradients", "expected"),
    ("nt_xent", "wrong tau default", "def nt_xent(z1, z2, tau=0.07):" + NT_XENT
     + "\n    return F.cross_entropy(s.masked_fill(self_pairs, float('-inf')), targets)",
     "values and gradients", "expected"),
    ("nt_xent", "anchors of the first view only", NT_XENT
     + "\n    return F.cross_entropy(s.masked_fill(self_pairs, float('-inf'))[:b], targets[:b])",
     "symmetric in z1 and z2", "both views is an anchor"),
    ("unified_contrastive_loss", "j running over i too", UNIFIED + "\n    return phi(psi(pos[:, None] - neg).sum(1)).sum()",
     "values and gradients", "expected"),
    ("unified_contrastive_loss", "the 1/2 missing", UNIFIED.replace("0.5 * ", "") + MASKED_AFTER_PSI,
     "values and gradients", "expected"),
    ("unified_contrastive_loss", "phi inside the sum", UNIFIED
     + "\n    return phi(psi(pos[:, None] - neg)).masked_fill(eye, 0).sum()",
     "values and gradients", "expected"),
    ("unified_contrastive_loss", "negatives from z_aug", UNIFIED.replace("z[None]", "z_aug[None]") + MASKED_AFTER_PSI,
     "values and gradients", "expected"),
    ("unified_contrastive_loss", "phi and psi swapped", UNIFIED
     + "\n    return psi(phi(pos[:, None] - neg).masked_fill(eye, 0).sum(1)).sum()",
     "NT-Xent for φ = log, ψ(x) = exp(x / τ), unit vectors", "must equal NT-Xent"),
    ("unified_contrastive_loss", "mask on the CPU", UNIFIED + MASKED_AFTER_PSI,
     "device probe", "created on the CPU"),
    ("unit_distance", "the squared distance", "return 2 - 2 * dot", "answer key", "but the correct value is"),
    ("unit_distance", "a symbol of its own", "return sympy.sqrt(2 - 2 * sympy.Symbol('cos'))",
     "a sympy expression of the arguments", "not one of the function's arguments"),
    ("logit_range", "[0, 1]", "return [0, 1]", "answer key", "entry [0, 0]"),
    ("logit_range", "a number", "return 1", "a list [low, high]", "expected a 2 matrix"),
    ("logit_range_with_temperature", "temperature multiplied", "return [-tau, tau]", "answer key", "entry [0, 0]"),
    ("contrastive_decomposition", "wrong sign", "return [1, 1, sympy.log(M)]", "answer key", "entry [0, 0]"),
    ("contrastive_decomposition", "log M missing", "return [-1, 1, 0]", "answer key", "entry [2, 0]"),
    ("contrastive_decomposition", "two values", "return [-1, 1]", "a list [a, b, c]", "expected 3 entries"),
    ("contrastive_decomposition", "log 2M: both views' negatives", "return [-1, 1, sympy.log(2 * M)]", "answer key",
     "entry [2, 0]"),
    ("mc_perfect_accuracy_condition", "answers a", 'return {"a"}', "answer key", "not the key"),
    ("mc_perfect_accuracy_condition", "answers c", 'return {"c"}', "answer key", "not the key"),
    ("mc_perfect_accuracy_condition", "answers d", 'return {"d"}', "well-formed", "single letters among a, b, c"),
    ("invariance_table", "B read as A", table(B=TABLE["A"]), "answer key",
     "B/location should not be 'sensitive'; B/color should not be 'invariant'"),
    ("invariance_table", "translation taken for a change of shape", table(B=("invariant", "invariant", "sensitive"),
                                                                          C=("invariant", "invariant", "invariant")),
     "answer key", "B/shape should not be 'invariant'; C/shape should not be 'invariant'"),
    ("invariance_table", "a row missing", 'return {"A": {"shape": "sensitive", "location": "sensitive", "color": "invariant"}}',
     "well-formed", "row 'B' is missing"),
    ("invariance_table", "a word not allowed", table(C=("sensitive", "invariant", "yes")), "well-formed",
     "C/color is 'yes'; every value must be one of 'invariant', 'sensitive'"),
    ("invariance_table", "a column missing", 'return {r: {"shape": "sensitive", "color": "invariant"} for r in "ABC"}',
     "well-formed", "row 'A': column 'location' is missing"),
    ("invariance_table", "a list of rows", "return [['sensitive'] * 3] * 3", "well-formed",
     "must be a dict of dicts such as {'A': {'shape': ..., 'location': ..., 'color': ...}, ...}, got a list"),
]

# The likely cause (checks/diagnoses.py) each mutant must get, by (function, mistake); a mutant
# not listed must get none (its checks' own messages say what is wrong, or nothing fits).
CAUSES = {
    ("mse_loss", "summed instead of averaged"): "did you sum where a mean is asked for?",
    ("mse_loss", "absolute instead of squared"): "known mistake: the absolute error",
    ("mse_loss", "mean over the last dimension only"): ("(of size 7) is the expected one: is that mean missing?",
                                                        "right but shaped (1,) instead of ()"),
    ("contrastive_logits", "transposed"): "the transpose of the expected ones",
    ("contrastive_logits", "temperature missing"): "known mistake: the dot products without the temperature",
    ("contrastive_logits", "temperature multiplied"): "known mistake: the dot products multiplied by tau",
    ("contrastive_logits", "only the positives"): "your result is the diagonal of the expected matrix",
    ("contrastive_loss", "summed instead of averaged"): "did you sum where a mean is asked for?",
    ("contrastive_loss", "target 0 for every row"): "known mistake: target 0 for every row",
    ("contrastive_loss", "target 0 for every row, by the property"): "known mistake: target 0 for every row",
    ("contrastive_loss", "softmax over the wrong axis"): "known mistake: the softmax taken down the columns",
    ("nt_xent", "positive left out of the denominator"): "known mistake: the positive left out of the denominator",
    ("nt_xent", "self-similarity left in the denominator"): "known mistake: each anchor's similarity with itself",
    ("nt_xent", "divided by b instead of 2b"): "twice the expected ones",
    ("nt_xent", "wrong tau default"): "known mistake: tau = 0.07 as the default",
    ("unified_contrastive_loss", "j running over i too"): "known mistake: j running over every row, i included",
    ("unified_contrastive_loss", "the 1/2 missing"): "known mistake: the distances without their factor 1/2",
    ("unified_contrastive_loss", "phi inside the sum"): "known mistake: phi applied to each term",
    ("unified_contrastive_loss", "negatives from z_aug"): "known mistake: the negatives d_ij taken from z_aug",
    ("unit_distance", "the squared distance"): "known mistake: the squared distance",
    ("contrastive_decomposition", "wrong sign"): "opposite sign",
    ("nt_xent", "rows not normalized"): "known mistake: dot products of the raw rows",
    ("nt_xent", "anchors of the first view only"): "known mistake: the anchors of the first view only",
    ("unified_contrastive_loss", "phi and psi swapped"): "known mistake: phi and psi swapped",
    ("logit_range", "[0, 1]"): "known mistake: [0, 1]: the dot product of two unit vectors is a cosine",
    ("logit_range_with_temperature", "temperature multiplied"): "known mistake: the temperature multiplied",
    ("contrastive_decomposition", "log M missing"): "known mistake: c = 0",
    ("contrastive_loss", "exponentials without the max trick, in bfloat16"): "not stable in bfloat16 at |logits| up to",
    ("mse_loss", "the root of the mean square"): "the square roots of the expected ones",
    # the property's own message names logsumexp; the bfloat16 check, its values right elsewhere, the cause
    ("contrastive_loss", "exponentials without the max trick"): "not stable in bfloat16 at |logits| up to",
    ("nt_xent", "the temperature applied to the loss"): "with tau = 1, then divided by tau",
    ("nt_xent", "the temperature forgotten"): "those of the expected result with tau = 1: is tau left out?",
    ("contrastive_decomposition", "log 2M: both views' negatives"): "a factor 2 (or 1/2) inside a log",
}
# Mutants without a likely cause whose failing check names the mistake itself (the table's
# fragment): the device probe, the overflow checks, the form of an answer.
NAMED_BY_THE_CHECK = {
    ("mse_loss", "zeros on the CPU"),
    ("contrastive_loss", "labels on the CPU"),
    ("unified_contrastive_loss", "mask on the CPU"), ("unit_distance", "a symbol of its own"),
    ("logit_range", "a number"), ("contrastive_decomposition", "two values")}

# (function, body or whole definition): correct answers written differently from the reference
VARIANTS = [
    ("mse_loss", "return F.mse_loss(x_hat, x)"),
    ("mse_loss", "return torch.mean(torch.square(x - x_hat))"),
    ("mse_loss", "d = (x_hat - x).flatten()\n    return d.dot(d) / d.numel()"),
    ("mse_loss", "return ((x_hat.double() - x.double()) ** 2).mean().to(x_hat.dtype)"),   # float64, cast back
    ("mse_loss", "d = x_hat.clone()\n    d.sub_(x).pow_(2)\n    return d.mean()"),   # in-place ops on a copy
    ("mse_loss", "return sum(((x_hat[i] - x[i]) ** 2).sum() for i in range(len(x))) / x.numel()"),   # a loop, Python's sum
    ("contrastive_logits", "return torch.einsum('id,jd->ij', z, z_pos) / tau"),
    ("contrastive_logits", "return torch.matmul(z / tau, z_pos.transpose(0, 1))"),
    ("contrastive_logits", "return (z[:, None, :] * z_pos[None, :, :]).sum(-1) / tau"),
    # the rows normalized again (they have unit norm already)
    ("contrastive_logits", "return F.normalize(z, dim=1) @ F.normalize(z_pos, dim=1).T / tau"),
    ("contrastive_logits", "return (z.double() @ z_pos.double().T / tau).to(z.dtype)"),   # float64, cast back
    ("contrastive_logits", "s = z @ z_pos.T\n    s.div_(tau)\n    return s"),   # in place on a fresh tensor
    ("contrastive_loss", "return (torch.logsumexp(logits, 1) - logits.diagonal()).mean()"),
    ("contrastive_loss", "return -torch.log_softmax(logits, dim=-1).diagonal().mean()"),
    ("contrastive_loss", "m = logits.max(1, keepdim=True).values.detach()\n"
                         "    return (m.squeeze(1) + torch.log(torch.exp(logits - m).sum(1)) - torch.diagonal(logits)).mean()"),
    ("contrastive_loss", "targets = torch.arange(len(logits), device=logits.device)\n"   # torch.distributions
                         "    return -torch.distributions.Categorical(logits=logits).log_prob(targets).mean()"),
    ("contrastive_loss", "eye = torch.eye(len(logits), dtype=torch.bool, device=logits.device)\n"   # torch.where for the diagonal
                         "    positives = torch.where(eye, logits, torch.zeros_like(logits)).sum(1)\n"
                         "    return (torch.logsumexp(logits, 1) - positives).mean()"),
    ("contrastive_loss", "targets = torch.arange(logits.shape[0], device=logits.device)\n"   # float64, cast back
                         "    return F.cross_entropy(logits.double(), targets).to(logits.dtype)"),
    ("contrastive_loss", "s = logits.clone()\n"   # in-place ops on a copy
                         "    s.sub_(s.amax(1, keepdim=True).detach())\n"
                         "    return (s.exp().sum(1).log() - s.diagonal()).mean()"),
    ("nt_xent", """
    n = len(z1)
    e = torch.cat([z1 / z1.norm(dim=1, keepdim=True), z2 / z2.norm(dim=1, keepdim=True)])
    s = e @ e.T / tau
    exp = torch.exp(s) * (1 - torch.eye(2 * n, dtype=s.dtype, device=s.device))
    positives = torch.cat([s.diagonal(n), s.diagonal(-n)])
    return (torch.log(exp.sum(1)) - positives).mean()"""),
    ("nt_xent", """
    n = len(z1)
    a, b = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    def half(x, y):
        same = x @ x.T / tau - 1e9 * torch.eye(n, dtype=x.dtype, device=x.device)
        logits = torch.cat([x @ y.T / tau, same], 1)
        return F.cross_entropy(logits, torch.arange(n, device=x.device), reduction='sum')
    return (half(a, b) + half(b, a)) / (2 * n)"""),
    ("nt_xent", """
    n = len(z1)
    e = F.normalize(torch.cat([z1, z2]), dim=1)
    s = e @ e.T / tau
    self_pairs = torch.eye(2 * n, dtype=torch.bool, device=s.device)
    s = torch.where(self_pairs, torch.full_like(s, float("-inf")), s)
    return F.cross_entropy(s, torch.cat([torch.arange(n, 2 * n, device=s.device), torch.arange(n, device=s.device)]))"""),   # torch.where
    ("nt_xent", """
    n = len(z1)
    e = F.normalize(torch.cat([z1, z2]).double(), dim=1)
    s = (e @ e.T / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool, device=e.device), float("-inf"))
    return F.cross_entropy(s, torch.arange(2 * n, device=e.device).roll(n)).to(z1.dtype)"""),   # float64, cast back
    ("nt_xent", """
    n = len(z1)
    e = torch.cat([z1, z2])
    e = e / e.norm(dim=1, keepdim=True).clamp_min(1e-12)
    s = e @ e.T
    s.div_(tau).fill_diagonal_(float("-inf"))
    return F.cross_entropy(s, torch.arange(2 * n, device=s.device).roll(n))"""),   # in place on a fresh tensor
    ("nt_xent", """
    n = len(z1)
    e = torch.cat([z1, z2])
    s = F.cosine_similarity(e[:, None, :], e[None, :, :], dim=-1) / tau
    losses = []
    for k in range(2 * n):
        others = torch.cat([s[k, :k], s[k, k + 1:]])
        losses.append(torch.logsumexp(others, 0) - s[k, (k + n) % (2 * n)])
    return torch.stack(losses).mean()"""),   # a loop over the anchors, cosine_similarity
    ("unified_contrastive_loss", """
    b = len(z)
    pos = ((z - z_aug) ** 2).sum(-1) / 2
    neg = torch.cdist(z, z) ** 2 / 2
    others = torch.stack([torch.cat([row[:i], row[i + 1:]]) for i, row in enumerate(pos[:, None] - neg)])
    return phi(psi(others).sum(1)).sum()"""),
    ("unified_contrastive_loss", """
    total = 0
    for i in range(len(z)):
        d_pos = 0.5 * ((z[i] - z_aug[i]) ** 2).sum()
        d_neg = 0.5 * ((z[i] - torch.cat([z[:i], z[i + 1:]])) ** 2).sum(1)
        total = total + phi(psi(d_pos - d_neg).sum())
    return total"""),
    ("unified_contrastive_loss", UNIFIED.replace("torch.bool)", "torch.bool, device=z.device)") + MASKED_AFTER_PSI),
    ("unified_contrastive_loss", """
    sq = (z * z).sum(1)
    neg = 0.5 * (sq[:, None] + sq[None, :] - 2 * z @ z.T)
    pos = 0.5 * ((z - z_aug) ** 2).sum(1)
    others = ~torch.eye(len(z), dtype=torch.bool, device=z.device)
    return phi(psi((pos[:, None] - neg)[others].view(len(z), -1)).sum(1)).sum()"""),
    ("unified_contrastive_loss", """
    total = 0
    for i in range(len(z)):
        d_pos = 0.5 * (z[i] - z_aug[i]).pow(2).sum()
        inner = sum(psi(d_pos - 0.5 * (z[i] - z[j]).pow(2).sum()) for j in range(len(z)) if j != i)
        total = total + phi(torch.as_tensor(inner, dtype=z.dtype, device=z.device))
    return total"""),   # Python's sum, 0 for b = 1 (no gradient path then: the gradient is 0)
    ("unified_contrastive_loss", """
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    pos = 0.5 * (z - z_aug).pow(2).sum(1)
    neg = 0.5 * (z[:, None] - z[None]).pow(2).sum(2)
    diff = torch.where(eye, torch.zeros_like(neg), pos[:, None] - neg)
    return phi(torch.where(eye, torch.zeros_like(neg), psi(diff)).sum(1)).sum()"""),   # torch.where, twice
    ("unified_contrastive_loss", """
    b = z.shape[0]
    z64, a64 = z.double(), z_aug.double()
    others = (torch.arange(b, device=z.device)[:, None] + torch.arange(1, b, device=z.device)) % b
    pos = 0.5 * (z64 - a64).pow(2).sum(-1)
    neg = 0.5 * (z64[:, None, :] - z64[others]).pow(2).sum(-1)
    return phi(psi(pos[:, None] - neg).sum(1)).sum().to(z.dtype)"""),   # float64, cast back
    ("unit_distance", "return sympy.sqrt(2) * sympy.sqrt(1 - dot)"),
    ("unit_distance", "return sympy.sqrt(2 * (1 - dot))"),
    ("unit_distance", "return (2 - 2 * dot) ** 0.5"),
    ("unit_distance", "return sympy.sqrt((1 - dot) ** 2 + sympy.sqrt(1 - dot ** 2) ** 2)"),   # u = (1, 0), v = (dot, sin)
    ("logit_range", "return (-1, 1)"),
    ("logit_range", "return [-1.0, 1.0]"),
    ("logit_range", "return sympy.Matrix([-1, 1])"),
    ("logit_range_with_temperature", "return (-tau ** -1, 1.0 / tau)"),
    ("logit_range_with_temperature", "return sympy.Matrix([[-1 / tau, 1 / tau]])"),
    ("logit_range_with_temperature", "return list(sympy.Matrix([-1, 1]) / tau)"),
    ("contrastive_decomposition", "return (-1.0, 1.0, sympy.log(M))"),
    ("contrastive_decomposition", "return [-1, 1, -sympy.log(1 / M)]"),
    ("contrastive_decomposition", "return sympy.Matrix([-1, 1, sympy.log(M ** 2) / 2])"),
    ("mc_perfect_accuracy_condition", 'return "B"'),
    ("mc_perfect_accuracy_condition", 'return [" b "]'),
    ("mc_perfect_accuracy_condition", 'return ("b",)'),
    ("invariance_table", 'return {" a": {"Shape": " Sensitive", "LOCATION": "sensitive ", "color": "Invariant"},\n'
                         '            "C ": {"color": "invariant", "location": "invariant", "shape": "sensitive"},\n'
                         '            "b": {"shape": "SENSITIVE", "location": "Invariant", "color": "sensitive"}}'),
    ("invariance_table", 'rows = {"A": "color", "B": "location", "C": "location color"}\n'
                         '    return {r: {f: "invariant" if f in rows[r] else "sensitive" for f in ("shape", "location", "color")}\n'
                         '            for r in rows}'),
]


def rounds(entries):
    """Round k holds the k-th distinct code of each function (a mistake caught by two checks is
    graded once)."""
    codes = {}
    for function, code in entries:
        known = codes.setdefault(function, [])
        if code not in known:
            known.append(code)
        yield known.index(code)


SUBMISSIONS = {"mutants": [(m[0], m[2]) for m in MUTANTS], "variants": VARIANTS}   # (function, code)
ROUNDS = {kind: list(rounds(entries)) for kind, entries in SUBMISSIONS.items()}


def definition(function, code):
    code = code.strip("\n")
    return code if code.startswith("def ") else f"def {function}({SIGNATURES[function]}):\n    {code.strip()}\n"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """graded(kind, round) -> {check name: CheckResult} of that round's submission, graded once."""
    cache = {}

    def results(kind, round_number):
        if (kind, round_number) not in cache:
            chosen = dict(e for e, k in zip(SUBMISSIONS[kind], ROUNDS[kind]) if k == round_number)
            files = {"losses": {}, "answers": {}}
            for function, code in chosen.items():
                files["losses" if function in LOSSES_FILE else "answers"][function] = definition(function, code)
            folder = make_submission(tmp_path_factory.mktemp(kind), HW2, **files)
            cache[kind, round_number] = grade_functions(folder, set(chosen), HW2)
        return cache[kind, round_number]

    return results


@pytest.mark.parametrize("index", range(len(MUTANTS)), ids=[f"{m[0]}: {m[1]}" for m in MUTANTS])
def test_mutants_are_caught(graded, index):
    function, mistake, _, check, fragment = MUTANTS[index]
    results = {n: r for n, r in graded("mutants", ROUNDS["mutants"][index]).items() if n.startswith(f"{function}:")}
    assert_caught(results, function, check, fragment, CAUSES.get((function, mistake)))


def test_the_table_gives_credit_per_row_without_a_mistake(graded):
    index = next(i for i, m in enumerate(MUTANTS) if m[1] == "B read as A")
    result = graded("mutants", ROUNDS["mutants"][index])["invariance_table: answer key"]
    assert (result.score, result.max_score) == (2, 3)
    assert "credit for the 2 of 3 rows without a mistake" in result.message


@pytest.mark.parametrize("index", range(len(VARIANTS)), ids=[f"{v[0]}-{i}" for i, v in enumerate(VARIANTS)])
def test_correct_variants_get_full_marks(graded, index):
    function = VARIANTS[index][0]
    results = {n: r for n, r in graded("variants", ROUNDS["variants"][index]).items() if n.startswith(f"{function}:")}
    assert_full_marks(results)


# The mutants whose feedback tests/test_diagnoses.py counts (answer-key letters, cells and grids aside,
# which have no cause to name): (assignment, mutants, CAUSES, NAMED_BY_THE_CHECK).
DIAGNOSED = (
    HW2, [(f, m) for f, m, *_ in MUTANTS if not f.startswith(("mc_", "invariance_table"))], CAUSES, NAMED_BY_THE_CHECK)
