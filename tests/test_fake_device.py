"""The simulated GPU (autograder/fake_device.py) and the device probe that falls back on it when
meta tensors cannot decide (checks.numeric.MetaProbe): correct code that reads tensor values
passes, code that mixes a CPU tensor into the inputs' device fails, and nothing else fails.

Most tests call the probe in this process through the same encode/decode/invoke path as the
worker (fast); two gradings go through the engine and a real worker."""
from __future__ import annotations

import pytest
import torch

from autograder import calls, fake_device, runner, wire, worker
from autograder.checks.numeric import MetaProbe
from conftest import ASSIGNMENTS, grade_functions, make_submission

KL = "0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)"
# a correct gaussian_kl that reads the inputs' values (a mask of the finite entries, all ones here)
READS_VALUES = """
def gaussian_kl(mu, logvar):
    finite = torch.tensor([[1.0 if v == v else 0.0 for v in row] for row in mu.reshape(-1, mu.shape[-1]).tolist()],
                          dtype=mu.dtype){to}
    return 0.5 * ((mu.pow(2) + logvar.exp() - 1 - logvar) * finite.reshape(mu.shape)).sum(-1)
"""
KL_READS_VALUES = READS_VALUES.format(to=".to(mu.device)")
KL_READS_VALUES_ON_CPU = READS_VALUES.format(to="")   # the mask stays on the CPU


def fake(*shape):
    return fake_device.place(torch.rand(*shape) + 0.25)


def simulated(fn, *args):
    with fake_device.simulation():
        return fn(*args)


# ---------------------------------------------------------------- the simulated GPU itself

def test_tensors_on_the_fake_device_look_like_cuda_tensors():
    x = fake(3, 4)
    seen = simulated(lambda: (x.device, x.is_cuda, x.is_cpu, x.get_device(), torch.zeros(2, device=x.device).device))
    assert seen == (torch.device("cuda", 0), True, False, 0, torch.device("cuda", 0))
    assert x.device.type == "cpu"   # outside the simulation it is the CPU tensor it is


def test_mixing_with_a_cpu_tensor_raises_like_cuda_but_a_0_dim_one_mixes():
    x = fake(3, 4)
    for mixed in (lambda: x + torch.zeros(3, 4), lambda: x @ torch.ones(4, 2), lambda: torch.cat([x, torch.ones(1, 4)]),
                  lambda: torch.nn.functional.cross_entropy(x, torch.arange(3))):
        with pytest.raises(fake_device.DeviceMismatch, match="Expected all tensors to be on the same device"):
            simulated(mixed)
    y = simulated(lambda: x * torch.tensor(2.0) + 1)
    assert fake_device.on_fake_device(y) and torch.equal(y, x * 2 + 1)


def test_values_read_out_and_brought_back_to_the_inputs_device():
    x = fake(3, 4)
    back = simulated(lambda: [torch.tensor(x.tolist()).to(x.device) + x,
                              torch.tensor(x.tolist(), device=x.device) + x,
                              torch.from_numpy(x.cpu().numpy()).to(x.device) + x,
                              torch.zeros(3, 4).to(x) + x.sum().item()])
    assert all(fake_device.on_fake_device(t) for t in back)
    cpu = simulated(lambda: x.cpu())
    assert not fake_device.on_fake_device(cpu) and fake_device.on_fake_device(x)   # x itself stays on the GPU
    with pytest.raises(fake_device.DeviceMismatch, match="numpy"):   # as on CUDA: .cpu() first
        simulated(lambda: x.numpy())


def test_autograd_works_through_the_simulation():
    def loss(mu, logvar):
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)
        (g,) = torch.autograd.grad(kl.sum(), mu, create_graph=True)   # a gradient penalty, as in R1
        total = kl.mean() + g.pow(2).sum()
        total.backward()
        return total, g, mu.grad

    mu, logvar = fake(3, 4).requires_grad_(), fake(3, 4).requires_grad_()
    on_gpu = simulated(loss, mu, logvar)
    on_cpu = loss(mu.detach().clone().requires_grad_(), logvar.detach().clone().requires_grad_())
    assert all(fake_device.on_fake_device(t) for t in on_gpu)
    assert all(torch.allclose(a, b) for a, b in zip(on_gpu, on_cpu))


def test_a_call_with_fake_inputs_returns_a_result_on_the_fake_device_over_the_wire():
    data = wire.TensorInfo(torch.rand(3, 4), "float32", (3, 4), fake_device.WIRE_NAME)
    args, _ = calls.decode_arguments([wire.encode(data)], {})
    assert fake_device.on_fake_device(args[0])
    for fn, device in ((lambda x: x.exp().sum(-1), fake_device.WIRE_NAME), (lambda x: x.sum(-1).cpu(), "cpu")):
        output, _ = calls.invoke(fn, args, {}, seed=0)
        assert wire.decode(wire.encode(output)).device == device


# ---------------------------------------------------------------- the probe, in this process

class InProcess:
    """A student runner that calls `fn` the way the worker does (wire, decode, invoke, describe)."""

    def __init__(self, fn):
        self.fn = fn

    def call(self, module, function, args=(), kwargs=None, **options):
        encoded_args, encoded_kwargs = runner.encode_arguments(args, kwargs)
        try:
            live_args, live_kwargs = calls.decode_arguments(encoded_args, encoded_kwargs)
            output, _ = calls.invoke(self.fn, live_args, live_kwargs, options.get("seed", 0))
        except Exception as error:  # noqa: BLE001 - as the worker
            reply = {"ok": False, "stage": "call", "error": worker.describe(error, "/nowhere")}
            raise runner.StudentError(runner.explain_error(reply, function)) from None
        return runner.Result(wire.decode(wire.encode(output)), None)


def probe(source: str, shapes=((3, 4), (3, 4))):
    namespace = {"torch": torch, "F": torch.nn.functional}
    exec(source, namespace)   # noqa: S102 - our own test code
    check = MetaProbe("f: device probe", "vae", "f", shapes=[list(s) for s in shapes])
    prepared = check.prepare(InProcess(lambda mu, logvar: mu * logvar), "cpu")   # a (3, 4) float32 result
    return check.run(InProcess(namespace["f"]), prepared, "cpu")


@pytest.mark.parametrize("body", [
    "return torch.tensor(mu.tolist()).to(mu.device) * logvar",
    "return torch.tensor(mu.tolist(), device=mu.device) * logvar",
    "return torch.from_numpy(mu.detach().cpu().numpy()).to(mu.device) * logvar",
    "return mu * logvar if mu.abs().max().item() < 1e9 else mu",
    "return torch.unique(mu, return_inverse=True)[1].to(mu.dtype) * logvar",   # no meta kernel
])
def test_correct_code_that_reads_values_passes_on_the_simulated_gpu(body):
    verdict = probe(f"def f(mu, logvar):\n    {body}\n")
    assert verdict.passed and "simulated GPU" in verdict.message, verdict.message


@pytest.mark.parametrize("body,fragment", [
    ("return torch.tensor(mu.tolist()) * logvar", "created on the CPU"),
    ("v = mu.tolist()\n    return mu + torch.randn(mu.shape)", "created on the CPU"),
    ("return (mu * logvar).cpu() if mu.abs().max().item() < 1e9 else mu", "the result is on cpu"),
    ("return torch.from_numpy(mu.numpy()) * logvar", "converted to numpy"),
    ("return mu + torch.zeros(mu.shape)", "created on the CPU"),   # caught on meta, as before
])
def test_code_that_leaves_a_tensor_on_the_cpu_fails(body, fragment):
    verdict = probe(f"def f(mu, logvar):\n    {body}\n")
    assert not verdict.passed and fragment in verdict.message, verdict.message


def test_what_the_simulation_cannot_follow_is_inconclusive_and_passes():
    verdict = probe("def f(mu, logvar):\n    mu.tolist()\n"
                    "    return torch.func.grad(lambda m: (m * logvar).sum())(mu)\n")
    assert verdict.passed and verdict.message.startswith("inconclusive"), verdict.message


def test_an_error_the_function_raises_on_the_cpu_too_is_the_students():
    verdict = probe("def f(mu, logvar):\n    raise NotImplementedError\n")
    assert not verdict.passed and "not implemented yet" in verdict.message, verdict.message


# ---------------------------------------------------------------- graded through the engine

@pytest.fixture(scope="module")
def hw1_results(tmp_path_factory):
    """gaussian_kl reads values correctly; iwae_bound reads values and leaves a tensor on the CPU;
    reparameterize hard-wires its noise to the CPU (caught on meta tensors, as before)."""
    folder = make_submission(tmp_path_factory.mktemp("hw1"), vae={
        "gaussian_kl": KL_READS_VALUES,
        "iwae_bound": "def iwae_bound(log_weights):\n"
                      "    k = torch.tensor([float(len(log_weights))] * log_weights.shape[-1])\n"
                      "    m = log_weights.max(0).values.tolist()\n"
                      "    return torch.logsumexp(log_weights, 0) - torch.log(k)\n",
        "reparameterize": "def reparameterize(mu, logvar):\n"
                          "    return mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, dtype=mu.dtype)\n"})
    return grade_functions(folder, {"gaussian_kl", "iwae_bound", "reparameterize"})


def test_graded_a_function_that_reads_values_gets_full_marks(hw1_results):
    kl = {n: r for n, r in hw1_results.items() if n.startswith("gaussian_kl:")}
    assert all(r.passed for r in kl.values()), {n: r.message for n, r in kl.items()}
    assert "simulated GPU" in kl["gaussian_kl: device probe"].message


def test_graded_a_cpu_tensor_after_reading_values_fails_the_probe_only(hw1_results):
    probe_result = hw1_results["iwae_bound: device probe"]
    assert not probe_result.passed
    assert "created on the CPU" in probe_result.message and "DeviceMismatch" in probe_result.message
    assert hw1_results["iwae_bound: values and gradients"].passed   # right on a CPU-only grader


def test_graded_meta_catchable_mutants_still_fail(hw1_results):
    result = hw1_results["reparameterize: device probe"]
    assert not result.passed and "created on the CPU" in result.message, result.message


def test_graded_hw2_losses_that_read_values(tmp_path):
    """contrastive_loss: a stable InfoNCE whose row maxima are read as values and brought back to
    the inputs' device (bfloat16 included: numpy has no bfloat16, .tolist() does); mse_loss reads
    values and leaves what it made of them on the CPU."""
    folder = make_submission(tmp_path / "s", "hw2_contrastive", losses={
        "contrastive_loss": "def contrastive_loss(logits):\n"
                            "    m = torch.tensor(logits.detach().amax(1, keepdim=True).tolist(), dtype=logits.dtype)\n"
                            "    m = m.to(logits.device)\n"
                            "    return (m.squeeze(1) + torch.log(torch.exp(logits - m).sum(1)) - logits.diagonal()).mean()\n",
        "mse_loss": "def mse_loss(x_hat, x):\n"
                    "    finite = torch.tensor([v == v for v in x.flatten().tolist()]).reshape(x.shape)\n"
                    "    return ((x_hat - x) ** 2 * finite).mean()\n"})
    results = grade_functions(folder, {"contrastive_loss", "mse_loss"}, "hw2_contrastive")
    infonce = {n: r for n, r in results.items() if n.startswith("contrastive_loss:")}
    assert all(r.passed for r in infonce.values()), {n: r.message for n, r in infonce.items()}
    assert "simulated GPU" in infonce["contrastive_loss: device probe"].message
    mse = results["mse_loss: device probe"]
    assert not mse.passed and "created on the CPU" in mse.message, mse.message
    assert results["mse_loss: values and gradients"].passed


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_reference_runs_on_the_simulated_gpu_as_on_the_cpu(assignment):
    """The simulation must not break correct code: each probed reference function gives the same
    values there as on the CPU, on the fake device."""
    from autograder import engine
    from autograder.runner import Reference
    from conftest import ROOT

    suite = engine.load_suite(ROOT / "solutions" / assignment)
    reference = Reference(ROOT / "solutions" / assignment, suite.files)
    probes = [c for c in suite.checks if isinstance(c, MetaProbe) and not c.carries_modules]
    assert probes
    for check in probes:
        fn = getattr(reference.modules[check.module], check.function)
        on_cpu = check._args("cpu")
        on_gpu = [fake_device.place(a.clone()) if isinstance(a, torch.Tensor) else a for a in on_cpu]
        expected, _ = calls.invoke(fn, on_cpu, {}, seed=3)
        actual, _ = calls.invoke(fn, on_gpu, {}, seed=3)
        for got, want in zip(actual, expected) if isinstance(expected, list) else [(actual, expected)]:
            assert isinstance(got, wire.TensorInfo) and got.device == fake_device.WIRE_NAME, check.name
            assert torch.allclose(got.tensor, want), check.name
