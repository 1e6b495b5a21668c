"""Networks, flow layers and densities passed to graded functions, described as data.

Some graded functions take callables: a coupling layer its networks `s_net` and `t_net`, a flow
its list of layers, a loss the target density. No code crosses the wire: the judge describes such
an argument by a kind from a whitelist (KINDS), a few plain settings and named tensors, and the
worker and the reference rebuild the same torch module from that description.

- networks, called as `net(x)`: "mlp" (layer sizes and an activation);
- flow layers, called as `layer(x) -> (y, log|det dy/dx|)` per example: "affine" (elementwise
  scale and shift), "linear" (an invertible matrix), "flip" (the order of the dimensions),
  "leaky_relu" (a slope for negative inputs);
- densities, called as `log_p(x)` per example: "normal" (diagonal) and "mixture" (of diagonal
  normals);
- noise predictors of a diffusion model, called as `model(x_t, t)` with x_t [B, ...] and integer
  timesteps t [B], returning x_t's shape: "time_mlp" (an MLP of the flattened x_t and a sinusoidal
  embedding of t) and "noise_oracle" (the exact noise of x_t for known data and schedule).

The layers are deliberately not the ones students implement (coupling, planar, radial): the
package ships to students with the local check. A network's and a layer's tensors are parameters
(a graded function's gradient with respect to them is compared), a density's and an oracle's are
constants.
"""
from __future__ import annotations

import math

ACTIVATIONS = ("identity", "tanh", "relu", "softplus", "sigmoid", "elu")
MAX_SIZE = 4096   # the largest dimension of any described tensor


class DescriptionError(ValueError):
    """A module description that is not one of the kinds, or whose settings or tensors do not fit it."""


def _size(value, what: str, low: int = 1) -> int:
    if type(value) is not int or not low <= value <= MAX_SIZE:
        raise DescriptionError(f"{what} must be an integer in [{low}, {MAX_SIZE}]")
    return value


SIZE_SETTINGS = {"dim", "components", "steps"}


class Kind:
    """One kind of described module: its settings, the shapes of its tensors, how to draw them and
    how to compute with them."""

    name = ""
    role = ""            # "network", "layer", "density" or "oracle"; a layer also has stretch(module):
    # the least and the most it stretches distances, (low, high) with low |a - b| <= |f(a) - f(b)| <= high |a - b|
    trainable = True     # its tensors are parameters (gradients are taken of them), else constants
    settings: dict = {}  # setting -> default

    @classmethod
    def check_settings(cls, settings: dict) -> dict:
        """The settings with their defaults, each size ("dim", "components") checked."""
        if not isinstance(settings, dict) or not set(settings) <= set(cls.settings):
            raise DescriptionError(f"{cls.name} takes the settings {', '.join(cls.settings) or 'none'}")
        settings = {**cls.settings, **settings}
        for key in SIZE_SETTINGS & set(settings):
            _size(settings[key], f"{cls.name} {key}")
        return settings

    @classmethod
    def shapes(cls, settings: dict) -> dict:
        return {}

    @classmethod
    def draw(cls, settings: dict, generator, scale: float) -> dict:
        import torch

        return {name: scale * torch.randn(shape, generator=generator, dtype=torch.float64)
                for name, shape in cls.shapes(settings).items()}


class MLP(Kind):
    """A multilayer perceptron: Linear layers of the given sizes, the activation between them
    (and `output` after the last)."""

    name, role = "mlp", "network"
    settings = {"sizes": None, "activation": "tanh", "output": "identity"}

    @classmethod
    def check_settings(cls, settings):
        settings = super().check_settings(settings)
        sizes = settings["sizes"]
        if not isinstance(sizes, list) or not 2 <= len(sizes) <= 8:
            raise DescriptionError("mlp sizes must be a list of 2 to 8 layer widths")
        for size in sizes:
            _size(size, "an mlp layer width")
        for key in ("activation", "output"):
            if settings[key] not in ACTIVATIONS:
                raise DescriptionError(f"mlp {key} must be one of {', '.join(ACTIVATIONS)}")
        return settings

    @classmethod
    def shapes(cls, settings):
        sizes = settings["sizes"]
        out = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
            out[f"weight{i}"], out[f"bias{i}"] = (fan_out, fan_in), (fan_out,)
        return out

    @classmethod
    def draw(cls, settings, generator, scale):
        tensors = super().draw(settings, generator, scale)
        for name, t in tensors.items():   # weights scaled by 1/sqrt(fan-in): outputs of order `scale`
            if name.startswith("weight"):
                t /= math.sqrt(t.shape[1])
        return tensors

    @staticmethod
    def forward(module, x):
        return MLP.layers(module, x, len(module.settings["sizes"]) - 1, module.settings["activation"],
                          module.settings["output"])

    @staticmethod
    def layers(module, x, count: int, activation: str, output: str):
        """x through the module's Linear layers weight0/bias0 .. weight{count-1}/bias{count-1},
        `activation` between them and `output` after the last."""
        import torch.nn.functional as F

        for i in range(count):
            x = F.linear(x, getattr(module, f"weight{i}"), getattr(module, f"bias{i}"))
            x = activate(x, activation if i < count - 1 else output)
        return x


class Affine(Kind):
    """y = x * exp(log_scale) + shift, elementwise."""

    name, role = "affine", "layer"
    settings = {"dim": None}

    @classmethod
    def shapes(cls, settings):
        return {"shift": (settings["dim"],), "log_scale": (settings["dim"],)}

    @staticmethod
    def stretch(module):
        return module.log_scale.min().exp().item(), module.log_scale.max().exp().item()

    @staticmethod
    def forward(module, x):
        y = x * module.log_scale.exp() + module.shift
        return y, x.new_zeros(x.shape[:-1]) + module.log_scale.sum()   # a tensor of its own, not a view


class Linear(Kind):
    """y = x W^T + b with W = I + (drawn noise): invertible for the scales drawn here."""

    name, role = "linear", "layer"
    settings = {"dim": None}

    @classmethod
    def shapes(cls, settings):
        return {"weight": (settings["dim"], settings["dim"]), "bias": (settings["dim"],)}

    @classmethod
    def draw(cls, settings, generator, scale):
        import torch

        tensors = super().draw(settings, generator, scale / math.sqrt(settings["dim"]))
        tensors["weight"] += torch.eye(settings["dim"], dtype=torch.float64)
        return tensors

    @staticmethod
    def stretch(module):
        import torch

        values = torch.linalg.svdvals(module.weight.detach())
        return values.min().item(), values.max().item()

    @staticmethod
    def forward(module, x):
        import torch
        import torch.nn.functional as F

        log_det = torch.linalg.slogdet(module.weight).logabsdet
        return F.linear(x, module.weight, module.bias), x.new_zeros(x.shape[:-1]) + log_det


class Flip(Kind):
    """The dimensions in reverse order (a permutation: log-det 0)."""

    name, role = "flip", "layer"
    settings = {}

    @staticmethod
    def stretch(module):
        return 1.0, 1.0

    @staticmethod
    def forward(module, x):
        import torch

        return x.flip(-1), torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)


class LeakyReLU(Kind):
    """y = x for x >= 0, slope * x below: invertible for slope > 0."""

    name, role = "leaky_relu", "layer"
    settings = {"slope": 0.5}

    @classmethod
    def check_settings(cls, settings):
        settings = super().check_settings(settings)
        slope = settings["slope"]
        if type(slope) not in (int, float) or not 0.01 <= slope <= 100:
            raise DescriptionError("leaky_relu slope must be a number in [0.01, 100]")
        return {"slope": float(slope)}

    @staticmethod
    def stretch(module):
        return min(1.0, module.settings["slope"]), max(1.0, module.settings["slope"])

    @staticmethod
    def forward(module, x):
        import torch

        slope = module.settings["slope"]
        negative = x < 0
        y = torch.where(negative, slope * x, x)
        return y, (negative.to(x.dtype) * math.log(slope)).sum(-1)


class Normal(Kind):
    """log N(x; mean, diag(exp(log_std))^2), summed over the last dimension."""

    name, role, trainable = "normal", "density", False
    settings = {"dim": None}

    @classmethod
    def shapes(cls, settings):
        return {"mean": (settings["dim"],), "log_std": (settings["dim"],)}

    @staticmethod
    def forward(module, x):
        z = (x - module.mean) * (-module.log_std).exp()
        return (-0.5 * z * z - module.log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


class Mixture(Kind):
    """log of sum_k softmax(logits)_k N(x; means_k, diag(exp(log_stds_k))^2)."""

    name, role, trainable = "mixture", "density", False
    settings = {"dim": None, "components": 2}

    @classmethod
    def shapes(cls, settings):
        k, d = settings["components"], settings["dim"]
        return {"means": (k, d), "log_stds": (k, d), "logits": (k,)}

    @classmethod
    def draw(cls, settings, generator, scale):
        tensors = super().draw(settings, generator, scale)
        tensors["means"] *= 4          # separated modes
        tensors["log_stds"] *= 0.25    # widths within a factor of about 2 of 1
        return tensors

    @staticmethod
    def forward(module, x):
        import torch

        z = (x.unsqueeze(-2) - module.means) * (-module.log_stds).exp()
        per_component = (-0.5 * z * z - module.log_stds - 0.5 * math.log(2 * math.pi)).sum(-1)
        return torch.logsumexp(per_component + torch.log_softmax(module.logits, -1), -1)


def _shape(value, what: str) -> list:
    """A data shape: 1 to 4 sizes whose product is at most MAX_SIZE."""
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise DescriptionError(f"{what} must be a list of 1 to 4 sizes")
    for size in value:
        _size(size, f"a size of {what}")
    _size(math.prod(value), f"the number of elements of {what}")
    return value


class TimeMLP(Kind):
    """A noise predictor eps(x_t, t): an MLP of x_t flattened and [sin, cos](t / steps^(k / 4))
    for k = 0..3, whose output has x_t's shape. `shape` is x_t's shape without the batch."""

    name, role = "time_mlp", "network"
    settings = {"shape": None, "hidden": [16], "steps": 1000, "activation": "tanh"}
    FREQUENCIES = 4

    @classmethod
    def check_settings(cls, settings):
        settings = super().check_settings(settings)
        _shape(settings["shape"], "time_mlp shape")
        if not isinstance(settings["hidden"], list) or len(settings["hidden"]) > 6:
            raise DescriptionError("time_mlp hidden must be a list of at most 6 layer widths")
        for size in settings["hidden"]:
            _size(size, "a time_mlp layer width")
        if settings["activation"] not in ACTIVATIONS:
            raise DescriptionError(f"time_mlp activation must be one of {', '.join(ACTIVATIONS)}")
        return settings

    @classmethod
    def sizes(cls, settings) -> list:
        data = math.prod(settings["shape"])
        return [data + 2 * cls.FREQUENCIES, *settings["hidden"], data]

    @classmethod
    def shapes(cls, settings):
        return MLP.shapes({"sizes": cls.sizes(settings)})

    @classmethod
    def draw(cls, settings, generator, scale):
        return MLP.draw({"sizes": cls.sizes(settings)}, generator, scale)

    @classmethod
    def forward(cls, module, x, t):
        import torch

        steps = module.settings["steps"]
        frequencies = steps ** (-torch.arange(cls.FREQUENCIES, dtype=x.dtype, device=x.device) / cls.FREQUENCIES)
        angles = t.to(dtype=x.dtype, device=x.device).reshape(-1, 1) * frequencies
        h = torch.cat([x.reshape(len(x), -1), torch.sin(angles), torch.cos(angles)], -1)
        h = MLP.layers(module, h, len(cls.sizes(module.settings)) - 1, module.settings["activation"], "identity")
        return h.reshape(x.shape)


class NoiseOracle(Kind):
    """The noise predictor that knows the data: x_0 is x0[t] (one data point per timestep), and
    it returns (x_t - sqrt(alpha_bar_t) x_0) / sqrt(1 - alpha_bar_t), alpha_bar the cumulative
    product of 1 - betas, row by row (a batch may be called whole or in parts). A loss that noises
    x0[t] correctly is 0 with it. `shape` is one data point's shape."""

    name, role, trainable = "noise_oracle", "oracle", False
    settings = {"shape": None, "steps": 10}

    @classmethod
    def check_settings(cls, settings):
        settings = super().check_settings(settings)
        _shape(settings["shape"], "noise_oracle shape")
        return settings

    @classmethod
    def shapes(cls, settings):
        return {"x0": (settings["steps"], *settings["shape"]), "betas": (settings["steps"],)}

    @classmethod
    def draw(cls, settings, generator, scale):
        import torch

        betas = 1e-4 + 0.05 * torch.rand(settings["steps"], generator=generator, dtype=torch.float64)
        return {"x0": scale * torch.randn(cls.shapes(settings)["x0"], generator=generator, dtype=torch.float64),
                "betas": betas.sort().values}

    @staticmethod
    def forward(module, x, t):
        import torch

        rows = t.to(module.betas.device)
        alpha_bar = torch.cumprod(1 - module.betas.double(), 0)[rows]
        alpha_bar = alpha_bar.to(dtype=x.dtype, device=x.device).reshape(-1, *([1] * (x.dim() - 1)))
        x0 = module.x0[rows].to(dtype=x.dtype, device=x.device)
        return (x - alpha_bar.sqrt() * x0) / (1 - alpha_bar).sqrt()


KINDS = {kind.name: kind for kind in (MLP, Affine, Linear, Flip, LeakyReLU, Normal, Mixture, TimeMLP, NoiseOracle)}


def activate(x, name: str):
    import torch
    import torch.nn.functional as F

    return {"identity": lambda t: t, "tanh": torch.tanh, "relu": torch.relu, "softplus": F.softplus,
            "sigmoid": torch.sigmoid, "elu": F.elu}[name](x)


def kind_of(name) -> type[Kind]:
    if type(name) is not str or name not in KINDS:
        raise DescriptionError(f"unknown module kind {str(name)[:40]!r} (known: {', '.join(KINDS)})")
    return KINDS[name]


def validate(kind_name, settings, tensors: dict) -> tuple[type[Kind], dict]:
    """The kind and its complete settings, after checking that `tensors` ({name: (shape, is it a
    floating dtype)}) are exactly the kind's; DescriptionError otherwise."""
    kind = kind_of(kind_name)
    settings = kind.check_settings(settings)
    shapes = kind.shapes(settings)
    if set(tensors) != set(shapes):
        raise DescriptionError(f"{kind.name} has the tensors {', '.join(shapes) or 'none'}")
    for name, shape in shapes.items():
        if tuple(tensors[name][0]) != tuple(shape) or not tensors[name][1]:
            raise DescriptionError(f"{kind.name}'s {name} must be a floating tensor of shape {tuple(shape)}")
    return kind, settings


def build(kind_name: str, settings: dict, tensors: dict):
    """The module of a description: `tensors` maps each of the kind's tensor names to a tensor of
    its shape (any floating dtype and device, all alike)."""
    kind, settings = validate(kind_name, settings, {k: (t.shape, t.dtype.is_floating_point) for k, t in tensors.items()})
    return _module_class()(kind, settings, tensors)


def draw(recipe: dict, dtype: str, seed: int, device: str):
    """A module from a recipe {"module": kind, "scale": s, **settings}, its tensors drawn from
    N(0, s^2) (default s = 0.5; each kind may rescale them) in float64, then cast."""
    import torch

    kind = kind_of(recipe.get("module"))
    settings = kind.check_settings({k: v for k, v in recipe.items() if k not in ("module", "scale")})
    generator = torch.Generator().manual_seed(seed)
    tensors = kind.draw(settings, generator, recipe.get("scale", 0.5))
    return build(kind.name, settings, {k: t.to(dtype=getattr(torch, dtype), device=device)
                                       for k, t in tensors.items()})


_CLASS = []


def _module_class():
    """Described, made on first use: this module must import without torch (the judge's wire)."""
    if _CLASS:
        return _CLASS[0]
    import torch

    class Described(torch.nn.Module):
        """A module rebuilt from its description: kind, settings and tensors."""

        def __init__(self, kind, settings, tensors):
            super().__init__()
            self.kind, self.settings = kind, settings
            for name in kind.shapes(settings):   # the kind's order: that of the flattened gradient
                t = tensors[name]
                if not kind.trainable:
                    self.register_buffer(name, t.detach().clone())
                else:
                    self.register_parameter(name, torch.nn.Parameter(t.detach().clone()))

        def forward(self, *inputs):
            return self.kind.forward(self, *inputs)

        def tensors(self) -> dict:
            return {name: getattr(self, name) for name in self.kind.shapes(self.settings)}

        def stretch(self) -> tuple[float, float]:
            """A layer's bounds on how it stretches distances (low, high)."""
            return self.kind.stretch(self)

        def extra_repr(self):
            return ", ".join(f"{k}={v}" for k, v in self.settings.items())

        def __repr__(self):
            return f"{self.kind.name}({self.extra_repr()})"

    _CLASS.append(Described)
    return Described


def is_described(value) -> bool:
    return bool(_CLASS) and isinstance(value, _CLASS[0])
