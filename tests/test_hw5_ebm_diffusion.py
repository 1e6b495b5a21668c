"""hw5_ebm_diffusion: every check catches realistic mistakes with a message that names them, and
differently written correct code gets full marks (loops, other algebra for alpha_bar and the
posterior, the mean through the predicted x0, torch.where, F.mse_loss, torch.distributions, erf and
log_ndtr for the normal CDF, softplus and BCE-with-logits for NCE, sympy forms, floats like 0.5).
The variants are graded in rounds (conftest's VariantRounds)."""
from __future__ import annotations

import pytest

from conftest import VariantRounds, assert_caught, assert_full_marks, grade_functions, make_submission

# another CPU's kernels compute other last bits: CI runs these again under another kernel set
pytestmark = pytest.mark.float_sensitive

HW5 = "hw5_ebm_diffusion"
SIGNATURES = {
    "linear_beta_schedule": "T, beta_start=1e-4, beta_end=0.02", "cosine_beta_schedule": "T, s=0.008, max_beta=0.999",
    "q_sample": "x0, t, noise, betas", "q_posterior_mean_variance": "x0, xt, t, betas",
    "predict_x0_from_eps": "xt, t, eps, betas", "p_mean_from_eps": "xt, t, eps, betas",
    "p_sample": "xt, t, eps, noise, betas", "ddpm_simple_loss": "model, x0, t, noise, betas",
    "normal_kl": "mean1, logvar1, mean2, logvar2", "vlb_term": "x0, xt, t, model_mean, model_logvar, betas",
    "nce_loss": "logit_data, logit_noise",
    "nce_optimal_logit": "p_d, p_n", "marginal_variance": "beta_1, beta_2",
    "posterior_coef_x0": "alpha_t, alpha_bar_prev", "posterior_coef_xt": "alpha_t, alpha_bar_prev",
    "posterior_variance": "alpha_t, alpha_bar_prev", "loss_weight": "alpha_t, alpha_bar_t, sigma_t",
    "score_from_eps": "eps, alpha_bar_t", "mc_joint_posterior": "", "mc_vae_ddpm_decomposition": "",
}
FILES = {"nce": {"nce_loss"},
         "answers": {"nce_optimal_logit", "marginal_variance", "posterior_coef_x0", "posterior_coef_xt",
                     "posterior_variance", "loss_weight", "score_from_eps", "mc_joint_posterior",
                     "mc_vae_ddpm_decomposition"}}


def file_of(function: str) -> str:
    return next((stem for stem, names in FILES.items() if function in names), "diffusion")


AB = "ab = torch.cumprod(1 - betas, 0)\n    "
PREV = AB + "prev = torch.cat([ab.new_ones(1), ab[:-1]])\n    "
MEAN = "mean = p_mean_from_eps(xt, t, eps, betas)\n    "
NONZERO = "nonzero = (t != 0).to(xt.dtype).reshape(-1, *([1] * (xt.dim() - 1)))\n    "
XT = "xt = q_sample(x0, t, noise, betas)\n    "
CDF = ("inv = torch.exp(-0.5 * model_logvar)\n    c = x0 - model_mean\n"
       "    plus, minus = torch.special.ndtr(inv * (c + 1 / 255)), torch.special.ndtr(inv * (c - 1 / 255))\n    ")
POSTERIOR_KL = ("mean, _, logvar = q_posterior_mean_variance(x0, xt, t, betas)\n"
                "    kl = normal_kl(mean, logvar, model_mean, model_logvar).flatten(1).sum(1)\n    ")
DECODER = ("lp = torch.where(x0 < -0.999, torch.log(plus.clamp(min=1e-12)), torch.where(x0 > 0.999, "
           "torch.log((1 - minus).clamp(min=1e-12)), torch.log((plus - minus).clamp(min=1e-12))))\n    ")

# (function, mistake, body, failing check, message fragment)
MUTANTS = [
    ("linear_beta_schedule", "rescaled by 1000 / T",
     "k = 1000 / T\n    return torch.linspace(k * beta_start, k * beta_end, T, dtype=torch.float64)", "values", "expected"),
    ("linear_beta_schedule", "float32", "return torch.linspace(beta_start, beta_end, T)", "values", "dtype"),
    ("linear_beta_schedule", "float32 cast to float64", "return torch.linspace(beta_start, beta_end, T).double()",
     "values", "expected"),
    ("cosine_beta_schedule", "cos not squared",
     "u = torch.arange(T + 1, dtype=torch.float64)\n    f = torch.cos((u / T + s) / (1 + s) * math.pi / 2)\n"
     "    return (1 - f[1:] / f[:-1]).clamp(max=max_beta)", "values", "expected"),
    ("cosine_beta_schedule", "not clipped",
     "u = torch.arange(T + 1, dtype=torch.float64)\n    f = torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2\n"
     "    return 1 - f[1:] / f[:-1]", "values", "expected"),
    ("cosine_beta_schedule", "float32 steps",
     "u = torch.arange(T + 1)\n    f = torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2\n"
     "    return (1 - f[1:] / f[:-1]).clamp(max=max_beta).double()", "values", "expected"),
    ("cosine_beta_schedule", "T points of alpha_bar",
     "u = torch.arange(T, dtype=torch.float64)\n    f = torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2\n"
     "    return (1 - f[1:] / f[:-1]).clamp(max=max_beta)", "values", "shape"),
    ("q_sample", "one step's coefficients",
     "return gather((1 - betas).sqrt(), t, x0) * x0 + gather(betas.sqrt(), t, x0) * noise", "values and gradients", "expected"),
    ("q_sample", "alpha_bar_(t-1)",
     PREV + "return gather(prev.sqrt(), t, x0) * x0 + gather((1 - prev).sqrt(), t, x0) * noise", "values and gradients", "expected"),
    ("q_sample", "t[0] for the batch",
     AB + "a = ab[t[0]].to(x0.dtype)\n    return a.sqrt() * x0 + (1 - a).sqrt() * noise", "values and gradients", "expected"),
    ("q_sample", "the variance scales the noise",
     AB + "return gather(ab.sqrt(), t, x0) * x0 + gather(1 - ab, t, x0) * noise", "values and gradients", "expected"),
    ("q_sample", "the variance scales the noise, by the property",
     AB + "return gather(ab.sqrt(), t, x0) * x0 + gather(1 - ab, t, x0) * noise",
     "affine in the noise, with q(x_t | x_0)'s mean and variance", "sqrt(1 - alpha_bar_t)"),
    ("q_sample", "a cumulative sum",
     "ab = 1 - torch.cumsum(betas, 0)\n    return gather(ab.sqrt(), t, x0) * x0 + gather((1 - ab).sqrt(), t, x0) * noise",
     "values and gradients", "expected"),
    ("q_sample", "the schedule indexed on the CPU",
     AB + "shape = (-1,) + (1,) * (x0.dim() - 1)\n    a = ab[t].to(x0.dtype).reshape(shape)\n"
     "    return a.sqrt() * x0 + (1 - a).sqrt() * noise", "device probe", "betas may stay on the CPU"),
    ("q_posterior_mean_variance", "coefficients swapped",
     PREV + "var = betas * (1 - prev) / (1 - ab)\n    logvar = torch.log(torch.cat([var[1:2], var[1:]]))\n"
     "    mean = gather(betas * prev.sqrt() / (1 - ab), t, xt) * xt + gather((1 - prev) * (1 - betas).sqrt() / (1 - ab), t, xt) * x0\n"
     "    o = torch.ones_like(xt)\n    return mean, gather(var, t, xt) * o, gather(logvar, t, xt) * o",
     "values and gradients", "expected"),
    ("q_posterior_mean_variance", "coefficients swapped, by Bayes' rule",
     PREV + "var = betas * (1 - prev) / (1 - ab)\n    logvar = torch.log(torch.cat([var[1:2], var[1:]]))\n"
     "    mean = gather(betas * prev.sqrt() / (1 - ab), t, xt) * xt + gather((1 - prev) * (1 - betas).sqrt() / (1 - ab), t, xt) * x0\n"
     "    o = torch.ones_like(xt)\n    return mean, gather(var, t, xt) * o, gather(logvar, t, xt) * o",
     "Bayes' rule", "Bayes' rule"),
    ("q_posterior_mean_variance", "alpha_bar_t in the x0 coefficient",
     PREV + "var = betas * (1 - prev) / (1 - ab)\n    logvar = torch.log(torch.cat([var[1:2], var[1:]]))\n"
     "    mean = gather(betas * ab.sqrt() / (1 - ab), t, xt) * x0 + gather((1 - prev) * (1 - betas).sqrt() / (1 - ab), t, xt) * xt\n"
     "    o = torch.ones_like(xt)\n    return mean, gather(var, t, xt) * o, gather(logvar, t, xt) * o",
     "values and gradients", "expected"),
    ("q_posterior_mean_variance", "variance beta_t",
     PREV + "mean = gather(betas * prev.sqrt() / (1 - ab), t, xt) * x0 + gather((1 - prev) * (1 - betas).sqrt() / (1 - ab), t, xt) * xt\n"
     "    o = torch.ones_like(xt)\n    return mean, gather(betas, t, xt) * o, gather(betas.log(), t, xt) * o",
     "values and gradients", "expected"),
    ("q_posterior_mean_variance", "log-variance not clipped",
     PREV + "var = betas * (1 - prev) / (1 - ab)\n"
     "    mean = gather(betas * prev.sqrt() / (1 - ab), t, xt) * x0 + gather((1 - prev) * (1 - betas).sqrt() / (1 - ab), t, xt) * xt\n"
     "    o = torch.ones_like(xt)\n    return mean, gather(var, t, xt) * o, gather(var.log(), t, xt) * o",
     "values and gradients", "a log of 0"),
    ("q_posterior_mean_variance", "variance per row only",
     PREV + "var = betas * (1 - prev) / (1 - ab)\n    logvar = torch.log(torch.cat([var[1:2], var[1:]]))\n"
     "    mean = gather(betas * prev.sqrt() / (1 - ab), t, xt) * x0 + gather((1 - prev) * (1 - betas).sqrt() / (1 - ab), t, xt) * xt\n"
     "    return mean, gather(var, t, xt), gather(logvar, t, xt)", "values and gradients", "shape"),
    ("predict_x0_from_eps", "the noise added",
     AB + "return (xt + gather((1 - ab).sqrt(), t, xt) * eps) / gather(ab.sqrt(), t, xt)", "inverts q_sample",
     "does not give x0 back"),
    ("predict_x0_from_eps", "t counted from 1", "ab = torch.cumprod(1 - betas, 0)[t - 1]\n"
     "    ab = ab.to(xt.dtype).reshape(-1, *([1] * (xt.dim() - 1)))\n    return (xt - (1 - ab).sqrt() * eps) / ab.sqrt()",
     "values and gradients", "expected"),
    ("predict_x0_from_eps", "one step's alpha",
     "a = 1 - betas\n    return (xt - gather((1 - a).sqrt(), t, xt) * eps) / gather(a.sqrt(), t, xt)", "values and gradients",
     "expected"),
    ("p_mean_from_eps", "divided by sqrt(alpha_bar_t)",
     AB + "return (xt - gather(betas / (1 - ab).sqrt(), t, xt) * eps) / gather(ab.sqrt(), t, xt)",
     "values and gradients", "expected"),
    ("p_mean_from_eps", "sqrt(1 - alpha_bar_t) as the noise's coefficient",
     AB + "return (xt - gather((1 - ab).sqrt(), t, xt) * eps) / gather((1 - betas).sqrt(), t, xt)",
     "values and gradients", "expected"),
    ("p_sample", "eps and noise exchanged", "mean = p_mean_from_eps(xt, t, noise, betas)\n    " + NONZERO
     + "return mean + nonzero * gather(betas.sqrt(), t, xt) * eps", "values and gradients", "expected"),
    ("p_sample", "noise at t = 0", MEAN + "return mean + gather(betas.sqrt(), t, xt) * noise", "values and gradients",
     "expected"),
    ("p_sample", "noise at t = 0, by the property", MEAN + "return mean + gather(betas.sqrt(), t, xt) * noise",
     "noise sqrt(beta_t) except at t = 0", "noise added at t = 0"),
    ("p_sample", "sigma^2 used as sigma", MEAN + NONZERO + "return mean + nonzero * gather(betas, t, xt) * noise",
     "values and gradients", "expected"),
    ("p_sample", "the posterior's variance",
     MEAN + NONZERO + PREV + "var = betas * (1 - prev) / (1 - ab)\n    return mean + nonzero * gather(var.sqrt(), t, xt) * noise",
     "values and gradients", "expected"),
    ("p_sample", "t[0] decides for the batch",
     MEAN + "if t[0] == 0:\n        return mean\n    return mean + gather(betas.sqrt(), t, xt) * noise",
     "values and gradients", "expected"),
    ("ddpm_simple_loss", "target x0", XT + "return ((x0 - model(xt, t)) ** 2).mean()", "values and gradients", "expected"),
    ("ddpm_simple_loss", "target x0, by the oracle", XT + "return ((x0 - model(xt, t)) ** 2).mean()",
     "0 for a network that predicts the noise exactly", "x0 as the target?"),
    ("ddpm_simple_loss", "a sum", XT + "return ((noise - model(xt, t)) ** 2).sum()", "values and gradients", "expected"),
    ("ddpm_simple_loss", "the network fed x0", "return ((noise - model(x0, t)) ** 2).mean()", "values and gradients",
     "expected"),
    ("ddpm_simple_loss", "L1", XT + "return (noise - model(xt, t)).abs().mean()", "values and gradients", "expected"),
    ("ddpm_simple_loss", "the network without gradients",
     XT + "with torch.no_grad():\n        pred = model(xt, t)\n    return ((noise - pred) ** 2).mean()",
     "values and gradients", "gradient"),
    ("ddpm_simple_loss", "the timestep left out", XT + "return ((noise - model(xt, torch.zeros_like(t))) ** 2).mean()",
     "values and gradients", "expected"),
    ("normal_kl", "arguments swapped",
     "return 0.5 * (-1.0 + logvar1 - logvar2 + torch.exp(logvar2 - logvar1) + (mean1 - mean2) ** 2 * torch.exp(-logvar1))",
     "values and gradients", "expected"),
    ("normal_kl", "std ratio for the variance ratio",
     "return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(0.5 * (logvar1 - logvar2)) + (mean1 - mean2) ** 2 * torch.exp(-logvar2))",
     "values and gradients", "expected"),
    ("normal_kl", "no -1",
     "return 0.5 * (logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * torch.exp(-logvar2))",
     "values and gradients", "expected"),
    ("vlb_term", "KL arguments swapped",
     CDF + DECODER + "mean, _, logvar = q_posterior_mean_variance(x0, xt, t, betas)\n"
     "    kl = normal_kl(model_mean, model_logvar, mean, logvar).flatten(1).sum(1)\n"
     "    return torch.where(t == 0, -lp.flatten(1).sum(1), kl)", "values and gradients", "expected"),
    ("vlb_term", "bits", CDF + DECODER + POSTERIOR_KL + "return torch.where(t == 0, -lp.flatten(1).sum(1), kl) / math.log(2)",
     "values and gradients", "expected"),
    ("vlb_term", "bits per dimension",
     CDF + DECODER + POSTERIOR_KL + "return torch.where(t == 0, -lp.flatten(1).sum(1), kl) / math.log(2) / x0[0].numel()",
     "values and gradients", "expected"),
    ("vlb_term", "the tanh CDF",
     "inv = torch.exp(-0.5 * model_logvar)\n    c = x0 - model_mean\n"
     "    def cdf(x):\n        return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))\n"
     "    plus, minus = cdf(inv * (c + 1 / 255)), cdf(inv * (c - 1 / 255))\n    "
     + DECODER + POSTERIOR_KL + "return torch.where(t == 0, -lp.flatten(1).sum(1), kl)", "values and gradients", "expected"),
    ("vlb_term", "the decoder's density",
     "nll = 0.5 * (math.log(2 * math.pi) + model_logvar + (x0 - model_mean) ** 2 * torch.exp(-model_logvar))\n    "
     + POSTERIOR_KL + "return torch.where(t == 0, nll.flatten(1).sum(1), kl)", "values and gradients", "expected"),
    ("vlb_term", "the decoder for every row", CDF + DECODER + "return -lp.flatten(1).sum(1)", "values and gradients",
     "expected"),
    ("vlb_term", "an unclamped log inside torch.where",
     CDF + "lp = torch.where(x0 < -0.999, torch.log(plus), torch.where(x0 > 0.999, torch.log(1 - minus), "
     "torch.log(plus - minus)))\n    " + POSTERIOR_KL + "return torch.where(t == 0, -lp.flatten(1).sum(1), kl)",
     "finite gradients where the decoder's bin has probability 0", "log 0 in a branch of torch.where"),
    ("nce_loss", "one mean over both", "return -torch.cat([F.logsigmoid(logit_data), F.logsigmoid(-logit_noise)]).mean()",
     "values and gradients", "expected"),
    ("nce_loss", "one mean over both, by the property",
     "return -torch.cat([F.logsigmoid(logit_data), F.logsigmoid(-logit_noise)]).mean()",
     "least at the optimal logit", "one mean over data and noise together?"),
    ("nce_loss", "signs swapped", "return -(F.logsigmoid(-logit_data).mean() + F.logsigmoid(logit_noise).mean())",
     "values and gradients", "expected"),
    ("nce_loss", "not negated", "return F.logsigmoid(logit_data).mean() + F.logsigmoid(-logit_noise).mean()",
     "values and gradients", "expected"),
    ("nce_loss", "log of a sigmoid",
     "return -(torch.log(torch.sigmoid(logit_data)).mean() + torch.log(1 - torch.sigmoid(logit_noise)).mean())",
     "finite at logits of size 200 in float32", "not stable in float32"),
    ("nce_optimal_logit", "inverted", "return sympy.log(p_n / p_d)", "equals the maximiser", "the correct value is"),
    ("nce_optimal_logit", "the probability", "return p_d / (p_d + p_n)", "equals the maximiser", "the correct value is"),
    ("nce_optimal_logit", "the seed's argmin, E = log p_n - log p_d plus a constant",
     "return sympy.log(p_n) - sympy.log(p_d) + 1", "equals the maximiser", "the correct value is"),
    ("marginal_variance", "betas added", "return beta_1 + beta_2", "equals Var[x_2 | x_0]", "the correct value is"),
    ("marginal_variance", "the second step's variance only", "return beta_2", "equals Var[x_2 | x_0]", "the correct value is"),
    ("posterior_coef_x0", "alpha_bar_t", "return sympy.sqrt(alpha_t * alpha_bar_prev) * (1 - alpha_t) / (1 - alpha_t * alpha_bar_prev)",
     "equals the coefficient", "the correct value is"),
    ("posterior_coef_x0", "swapped", "return sympy.sqrt(alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_t * alpha_bar_prev)",
     "equals the coefficient", "the correct value is"),
    ("posterior_coef_xt", "swapped", "return sympy.sqrt(alpha_bar_prev) * (1 - alpha_t) / (1 - alpha_t * alpha_bar_prev)",
     "equals the coefficient", "the correct value is"),
    ("posterior_variance", "beta_t", "return 1 - alpha_t", "equals the variance", "the correct value is"),
    ("loss_weight", "sigma for sigma^2", "return (1 - alpha_t) ** 2 / (2 * sigma_t * alpha_t * (1 - alpha_bar_t))",
     "equals lambda_t", "the correct value is"),
    ("loss_weight", "no 1/2", "return (1 - alpha_t) ** 2 / (sigma_t ** 2 * alpha_t * (1 - alpha_bar_t))",
     "equals lambda_t", "the correct value is"),
    ("score_from_eps", "divided by the variance", "return -eps / (1 - alpha_bar_t)", "equals the score",
     "the correct value is"),
    ("score_from_eps", "the sign", "return eps / sympy.sqrt(1 - alpha_bar_t)", "equals the score", "the correct value is"),
    ("score_from_eps", "not a sympy expression", "return 'eps / sqrt(1 - alpha_bar_t)'",
     "a sympy expression of the arguments", "sympy"),
    ("mc_joint_posterior", "the prior for the encoder", 'return {"d"}', "answer key", "not the key"),
    ("mc_vae_ddpm_decomposition", "the seed's answer, logs missing", 'return {"b"}', "answer key", "not the key"),
    ("mc_vae_ddpm_decomposition", "a letter out of range", 'return "e"', "well-formed", "options are"),
]

# The likely cause (checks/diagnoses.py) each mutant must get, by (function, mistake); a mutant
# not listed must get none (its checks' own messages say what is wrong, or nothing fits).
CAUSES = {
    ("linear_beta_schedule", "rescaled by 1000 / T"): "known mistake: the betas rescaled by 1000 / T",
    # a float64 result right to float32's precision only: the generic cause, the same on every CPU
    ("linear_beta_schedule", "float32"): "only to float32's precision",
    ("linear_beta_schedule", "float32 cast to float64"): "only to float32's precision",
    ("cosine_beta_schedule", "cos not squared"): "known mistake: cos instead of cos^2",
    ("cosine_beta_schedule", "not clipped"): "known mistake: no clipping",
    ("cosine_beta_schedule", "T points of alpha_bar"): "without its last row",
    ("cosine_beta_schedule", "float32 steps"): "only to float32's precision",
    ("q_sample", "one step's coefficients"): "known mistake: one step's coefficients",
    ("q_sample", "alpha_bar_(t-1)"): "known mistake: alpha_bar_{t-1} for alpha_bar_t",
    ("q_sample", "t[0] for the batch"): "known mistake: t[0] for the whole batch",
    ("q_sample", "the variance scales the noise"): "known mistake: the variance 1 - alpha_bar_t multiplies the noise",
    ("q_sample", "the variance scales the noise, by the property"):
        "known mistake: the variance 1 - alpha_bar_t multiplies the noise",
    ("q_posterior_mean_variance", "coefficients swapped"): "known mistake: the coefficients of x0 and x_t swapped",
    ("q_posterior_mean_variance", "coefficients swapped, by Bayes' rule"):
        "known mistake: the coefficients of x0 and x_t swapped",
    ("q_posterior_mean_variance", "alpha_bar_t in the x0 coefficient"):
        "known mistake: the wrong alpha_bar in the coefficient of x0",
    ("q_posterior_mean_variance", "variance beta_t"): "known mistake: the variance beta_t",
    ("q_posterior_mean_variance", "log-variance not clipped"): "known mistake: the log-variance not clipped",
    ("p_mean_from_eps", "divided by sqrt(alpha_bar_t)"): "known mistake: divided by sqrt(alpha_bar_t)",
    ("p_sample", "noise at t = 0"): "known mistake: noise added at t = 0",
    ("p_sample", "noise at t = 0, by the property"): "known mistake: noise added at t = 0",
    ("p_sample", "sigma^2 used as sigma"): "known mistake: beta_t multiplies the noise",
    ("p_sample", "the posterior's variance"): "known mistake: the posterior's variance for sigma_t^2",
    # case 52 has t[0] = 6: the row with t = 0 gets noise, exactly the known mistake
    ("p_sample", "t[0] decides for the batch"): "known mistake: noise added at t = 0",
    ("ddpm_simple_loss", "target x0"): "known mistake: the target x0",
    ("ddpm_simple_loss", "target x0, by the oracle"): "known mistake: the target x0",
    ("ddpm_simple_loss", "a sum"): "known mistake: a sum instead of a mean",
    ("ddpm_simple_loss", "L1"): "known mistake: the mean absolute error",
    ("normal_kl", "arguments swapped"): "known mistake: the arguments swapped",
    ("normal_kl", "std ratio for the variance ratio"): "known mistake: the standard deviations' ratio",
    ("normal_kl", "no -1"): "½ above the expected ones",
    ("vlb_term", "KL arguments swapped"): "known mistake: the KL's arguments swapped",
    ("vlb_term", "bits"): "known mistake: bits instead of nats",
    ("vlb_term", "bits per dimension"): "known mistake: bits per dimension",
    ("vlb_term", "the tanh CDF"): "known mistake: the tanh approximation",
    ("vlb_term", "the decoder's density"): "known mistake: the decoder's density at x0",
    ("vlb_term", "the decoder for every row"): "known mistake: the decoder's NLL for every row",
    ("nce_loss", "one mean over both"): "known mistake: one mean over data and noise together",
    ("nce_loss", "one mean over both, by the property"): "known mistake: one mean over data and noise together",
    ("nce_loss", "signs swapped"): "known mistake: the signs swapped",
    ("nce_loss", "not negated"): "known mistake: not negated",
    ("nce_optimal_logit", "inverted"): "known mistake: the ratio inverted",
    ("nce_optimal_logit", "the probability"): "known mistake: the probability sigma(G*)",
    ("marginal_variance", "betas added"): "known mistake: the betas added",
    ("posterior_coef_x0", "alpha_bar_t"): "known mistake: sqrt(alpha_bar_t) for sqrt(alpha_bar_(t-1))",
    ("posterior_coef_x0", "swapped"): "known mistake: the coefficient of x_t",
    ("posterior_coef_xt", "swapped"): "known mistake: the coefficient of x0",
    ("posterior_variance", "beta_t"): "known mistake: beta_t",
    ("loss_weight", "sigma for sigma^2"): "known mistake: sigma_t for sigma_t^2",
    ("loss_weight", "no 1/2"): "known mistake: the 1/2 left out",
    ("score_from_eps", "divided by the variance"): "known mistake: divided by the variance",
    ("score_from_eps", "the sign"): "known mistake: the sign",
    ("nce_loss", "log of a sigmoid"): "not stable in float32 at |logit_data| up to 200",
    ("ddpm_simple_loss", "the network fed x0"): "with model fed x0",
    ("p_sample", "eps and noise exchanged"): "with eps and noise exchanged",
    ("predict_x0_from_eps", "t counted from 1"): "at t - 1: is t counted from 1 where the contract counts from 0?",
    ("q_posterior_mean_variance", "variance per row only"): "which broadcasts to the expected shape",
}
# Mutants without a likely cause whose failing check names the mistake itself: the device probe,
# shapes, round trips, missing gradients, NaN gradients, the overflow check, the form of an answer.
NAMED_BY_THE_CHECK = {
    ("q_sample", "the schedule indexed on the CPU"),
    ("predict_x0_from_eps", "the noise added"), ("ddpm_simple_loss", "the network without gradients"),
    ("vlb_term", "an unclamped log inside torch.where"),
    ("score_from_eps", "not a sympy expression"), ("mc_vae_ddpm_decomposition", "a letter out of range"),
}

VARIANTS = [
    ("linear_beta_schedule",
     "return torch.tensor([beta_start + (beta_end - beta_start) * i / (T - 1) for i in range(T)], dtype=torch.float64)"),
    ("linear_beta_schedule", "import numpy as np\n    return torch.from_numpy(np.linspace(beta_start, beta_end, T))"),
    ("cosine_beta_schedule",
     "def alpha_bar(u):\n        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2\n"
     "    return torch.tensor([min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), max_beta) for i in range(T)],"
     " dtype=torch.float64)"),
    ("cosine_beta_schedule",
     "steps = torch.linspace(0, T, T + 1, dtype=torch.float64)\n"
     "    ab = torch.cos(((steps / T) + s) / (1 + s) * torch.pi * 0.5).pow(2)\n    ab = ab / ab[0]\n"
     "    return torch.clip(1 - ab[1:] / ab[:-1], 0, max_beta)"),
    ("q_sample",
     "out = torch.empty_like(x0)\n    for i in range(len(t)):\n"
     "        ab = torch.prod(1 - betas[: int(t[i]) + 1])\n"
     "        out[i] = ab.sqrt().item() * x0[i] + (1 - ab).sqrt().item() * noise[i]\n    return out"),
    ("q_sample",
     "ab = torch.exp(torch.cumsum(torch.log1p(-betas), 0)).to(x0.device)[t].to(x0.dtype)\n"
     "    ab = ab.view(-1, *[1] * (x0.dim() - 1))\n    return torch.sqrt(ab) * x0 + torch.sqrt(1.0 - ab) * noise"),
    ("q_posterior_mean_variance",
     "alphas = 1 - betas\n    ab = torch.cumprod(alphas, dim=0)\n    prev = ab / alphas\n"
     "    var = (1 - prev) / (1 - ab) * betas\n"
     "    c0 = gather(torch.sqrt(prev) * betas / (1 - ab), t, x0)\n"
     "    ct = gather(torch.sqrt(alphas) * (1 - prev) / (1 - ab), t, x0)\n"
     "    v = gather(var, t, x0).expand_as(xt)\n"
     "    lv = gather(torch.log(torch.where(torch.arange(len(var)) == 0, var[1], var)), t, x0).expand_as(xt)\n"
     "    return c0 * x0 + ct * xt, v.clone(), lv.clone()"),
    ("q_posterior_mean_variance",   # alpha_bar in logs, and alpha_bar_(t-1) by division: a variance of 1e-17 at t = 0
     "alphas = 1 - betas\n    ab = torch.exp(torch.cumsum(torch.log1p(-betas), 0))\n    prev = ab / alphas\n"
     "    var = betas * (1 - prev) / (1 - ab)\n    logvar = torch.log(torch.cat([var[1:2], var[1:]]))\n"
     "    mean = gather(betas * prev.sqrt() / (1 - ab), t, xt) * x0 + gather((1 - prev) * alphas.sqrt() / (1 - ab), t, xt) * xt\n"
     "    return mean, gather(var, t, xt).expand_as(xt).clone(), gather(logvar, t, xt).expand_as(xt).clone()"),
    ("q_posterior_mean_variance",
     "means, variances, logs = [], [], []\n    for i, step in enumerate(t.tolist()):\n"
     "        ab = torch.prod(1 - betas[: step + 1]).item()\n"
     "        prev = torch.prod(1 - betas[:step]).item() if step > 0 else 1.0\n        b = betas[step].item()\n"
     "        means.append(math.sqrt(prev) * b / (1 - ab) * x0[i] + math.sqrt(1 - b) * (1 - prev) / (1 - ab) * xt[i])\n"
     "        v = b * (1 - prev) / (1 - ab)\n"
     "        if step == 0:\n            ab1 = torch.prod(1 - betas[:2]).item()\n"
     "            v_log = math.log(betas[1].item() * betas[0].item() / (1 - ab1))\n"
     "        else:\n            v_log = math.log(v)\n"
     "        variances.append(torch.full_like(xt[i], v))\n        logs.append(torch.full_like(xt[i], v_log))\n"
     "    return torch.stack(means), torch.stack(variances), torch.stack(logs)"),
    ("predict_x0_from_eps",
     AB + "a = gather(ab, t, xt)\n    return (xt - torch.sqrt(1 - a) * eps) / torch.sqrt(a)"),
    ("p_mean_from_eps",
     "x0 = predict_x0_from_eps(xt, t, eps, betas)\n    mean, _, _ = q_posterior_mean_variance(x0, xt, t, betas)\n    return mean"),
    ("p_mean_from_eps",
     "alphas = 1 - betas\n    ab = torch.cumprod(alphas, 0)\n    a, b, abar = (gather(v, t, xt) for v in (alphas, betas, ab))\n"
     "    return 1 / a ** 0.5 * (xt - b / (1 - abar) ** 0.5 * eps)"),
    ("p_sample",
     MEAN + "sigma = gather(betas, t, xt) ** 0.5\n"
     "    return torch.where((t == 0).reshape(-1, *[1] * (xt.dim() - 1)), mean, mean + sigma * noise)"),
    ("p_sample",
     "out = p_mean_from_eps(xt, t, eps, betas).clone()\n    for i in range(len(t)):\n"
     "        if t[i] > 0:\n            out[i] = out[i] + betas[t[i]].sqrt().to(xt.dtype) * noise[i]\n    return out"),
    ("ddpm_simple_loss", "return torch.nn.functional.mse_loss(model(q_sample(x0, t, noise, betas), t), noise)"),
    ("ddpm_simple_loss", XT + "return torch.nn.MSELoss()(noise, model(xt, t))"),
    ("ddpm_simple_loss",   # the network called row by row
     XT + "pred = torch.cat([model(xt[i:i + 1], t[i:i + 1]) for i in range(len(t))])\n    return ((pred - noise) ** 2).mean()"),
    ("normal_kl",
     "v1, v2 = torch.exp(logvar1), torch.exp(logvar2)\n    return 0.5 * (torch.log(v2 / v1) + (v1 + (mean1 - mean2) ** 2) / v2 - 1)"),
    ("normal_kl",
     "from torch.distributions import Normal, kl_divergence\n"
     "    return kl_divergence(Normal(mean1, torch.exp(0.5 * logvar1)), Normal(mean2, torch.exp(0.5 * logvar2)))"),
    ("vlb_term",
     "def cdf(x):\n        return 0.5 * (1 + torch.erf(x / math.sqrt(2)))\n"
     "    std = torch.exp(0.5 * model_logvar)\n"
     "    plus, minus = cdf((x0 + 1 / 255 - model_mean) / std), cdf((x0 - 1 / 255 - model_mean) / std)\n    "
     + DECODER + "nll = -lp.sum(dim=tuple(range(1, x0.dim())))\n"
     "    mean, _, logvar = q_posterior_mean_variance(x0, xt, t, betas)\n"
     "    kl = normal_kl(mean, logvar, model_mean, model_logvar).sum(dim=tuple(range(1, x0.dim())))\n"
     "    out = kl.clone()\n    out[t == 0] = nll[t == 0]\n    return out"),
    ("vlb_term",
     "z_plus = (x0 + 1 / 255 - model_mean) * torch.exp(-0.5 * model_logvar)\n"
     "    z_minus = (x0 - 1 / 255 - model_mean) * torch.exp(-0.5 * model_logvar)\n"
     "    log_mid = torch.log(torch.clamp(torch.special.ndtr(z_plus) - torch.special.ndtr(z_minus), min=1e-12))\n"
     "    lp = torch.where(x0 <= -1 + 1e-3, torch.special.log_ndtr(z_plus).clamp(min=math.log(1e-12)),\n"
     "                     torch.where(x0 >= 1 - 1e-3, torch.special.log_ndtr(-z_minus).clamp(min=math.log(1e-12)), log_mid))\n"
     "    " + POSTERIOR_KL + "return torch.where(t == 0, -lp.flatten(1).sum(-1), kl)"),
    ("nce_loss", "return F.softplus(-logit_data).mean() + F.softplus(logit_noise).mean()"),
    ("nce_loss",   # for a batch of one, autograd's gradient is an expanded view (stride 0)
     "return -(F.logsigmoid(logit_data).sum() / logit_data.shape[0] + F.logsigmoid(-logit_noise).sum() / logit_noise.shape[0])"),
    ("nce_loss",
     "data = F.binary_cross_entropy_with_logits(logit_data, torch.ones_like(logit_data))\n"
     "    noise = F.binary_cross_entropy_with_logits(logit_noise, torch.zeros_like(logit_noise))\n    return data + noise"),
    ("nce_optimal_logit", "return sympy.log(p_d / p_n)"),
    ("nce_optimal_logit", "return 2 * sympy.atanh((p_d - p_n) / (p_d + p_n))"),
    ("nce_optimal_logit", "G = sympy.Symbol('G')\n    objective = p_d * sympy.log(1 / (1 + sympy.exp(-G))) + p_n * sympy.log(1 / (1 + sympy.exp(G)))\n"
     "    return sympy.solve(sympy.diff(objective, G), G)[0]"),
    ("marginal_variance", "return beta_1 + beta_2 - beta_1 * beta_2"),
    ("marginal_variance", "return (1 - beta_2) * beta_1 + beta_2"),
    ("posterior_coef_x0", "beta = 1 - alpha_t\n    return beta * alpha_bar_prev ** 0.5 / (1 - alpha_t * alpha_bar_prev)"),
    ("posterior_coef_xt", "alpha_bar = alpha_t * alpha_bar_prev\n    return (1 - alpha_bar_prev) * sympy.sqrt(alpha_t) / (1 - alpha_bar)"),
    ("posterior_variance", "alpha_bar = alpha_t * alpha_bar_prev\n    return 1 / (alpha_t / (1 - alpha_t) + 1 / (1 - alpha_bar_prev))"),
    ("loss_weight", "beta = 1 - alpha_t\n    return beta ** 2 / (2 * sigma_t ** 2 * alpha_t * (1 - alpha_bar_t))"),
    ("loss_weight", "return 0.5 * (1 - alpha_t) ** 2 / sigma_t ** 2 / alpha_t / (1 - alpha_bar_t)"),
    ("score_from_eps", "return -eps * (1 - alpha_bar_t) ** sympy.Rational(-1, 2)"),
    ("score_from_eps", "return -eps / (1 - alpha_bar_t) ** 0.5"),
    ("mc_joint_posterior", 'return "A"'),
    ("mc_vae_ddpm_decomposition", 'return ["a"]'),
]


def submission(tmp_path, function, code):
    source = f"def {function}({SIGNATURES[function]}):\n    {code}\n"
    return make_submission(tmp_path / "s", HW5, **{file_of(function): {function: source}})


@pytest.mark.parametrize("function,mistake,code,check,fragment", MUTANTS, ids=[f"{m[0]}: {m[1]}" for m in MUTANTS])
def test_mutants_are_caught(tmp_path, function, mistake, code, check, fragment):
    results = grade_functions(submission(tmp_path, function, code), {function}, HW5)
    assert_caught(results, function, check, fragment, CAUSES.get((function, mistake)))


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    """Variants graded in rounds (one submission holds the k-th variant of every function)."""
    entries = [(file_of(function), function, f"def {function}({SIGNATURES[function]}):\n    {code}\n")
               for function, code in VARIANTS]
    return VariantRounds(HW5, entries, tmp_path_factory.mktemp)


@pytest.mark.parametrize("index", range(len(VARIANTS)), ids=[f"{v[0]}-{i}" for i, v in enumerate(VARIANTS)])
def test_correct_variants_get_full_marks(rounds, index):
    results = rounds.results(index)
    assert_full_marks(results)


# The mutants whose feedback tests/test_diagnoses.py counts (answer-key letters, cells and grids aside,
# which have no cause to name): (assignment, mutants, CAUSES, NAMED_BY_THE_CHECK).
DIAGNOSED = (
    HW5, [(f, m) for f, m, *_ in MUTANTS if not f.startswith("mc_")], CAUSES,
    {m for m in NAMED_BY_THE_CHECK if not m[0].startswith("mc_")})
