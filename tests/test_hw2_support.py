"""The support code of hw2_contrastive: the dataset is deterministic and its labels say what the
images show; each augmentation set changes exactly the factors it claims to change."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "assignments" / "hw2_contrastive"))
from augmentations import augment, augmentation_rows  # noqa: E402
from shapes import CELL_CENTRES, FACTORS, PALETTE, ColoredShapes, train_val  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return ColoredShapes(300, seed=7)


def test_same_seed_same_images_and_a_larger_set_extends_a_smaller_one(data):
    again = ColoredShapes(400, seed=7)
    assert torch.equal(again.images[:300], data.images)
    assert not torch.equal(ColoredShapes(300, seed=8).images, data.images)
    train, val = train_val(50, 50)
    assert not any(torch.equal(a, b) for a in train.images for b in val.images)


def test_every_factor_value_occurs(data):
    for factor, values in FACTORS.items():
        assert set(data.labels[factor].tolist()) == set(range(len(values))), factor


def test_labels_describe_the_images(data):
    for image, labels in (data[i] for i in range(50)):
        mask = image.sum(0) > 0
        pixels = image[:, mask]
        assert torch.allclose(pixels, PALETTE[labels["color"]][:, None].expand_as(pixels)), "one colour"
        rows, cols = mask.nonzero(as_tuple=True)
        cy, cx = rows.float().mean(), cols.float().mean()
        # the centre of mass lies nearest the labelled grid cell (triangles sit a bit low)
        assert min(range(3), key=lambda r: abs(CELL_CENTRES[r] - cy)) == labels["location"] // 3
        assert min(range(3), key=lambda c: abs(CELL_CENTRES[c] - cx)) == labels["location"] % 3
        assert 0 < rows.min() and rows.max() < 63 and 0 < cols.min() and cols.max() < 63, "whole shape"


def silhouette(image):
    """The shape's mask, cropped to its bounding box: what is left after location and colour."""
    mask = image.sum(0) > 0.05
    rows, cols = mask.nonzero(as_tuple=True)
    return mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def hues(images):
    """The mean colour of each image's shape, normalized: its hue and nothing else."""
    colours = torch.stack([image[:, image.sum(0) > 0.05].mean(1) for image in images])
    return colours / colours.norm(dim=1, keepdim=True)


@pytest.mark.parametrize("name, moves, recolours", [("A", False, True), ("B", True, False), ("C", True, True)])
def test_augmentations_change_their_factors_and_keep_the_shape(data, name, moves, recolours):
    torch.manual_seed(0)
    images = data.images[:20]
    augmented = augment(images, name)
    for before, after in zip(images, augmented):
        assert torch.equal(silhouette(before), silhouette(after)), "the shape is kept whole"
    moved = [not torch.equal(b.sum(0) > 0.05, a.sum(0) > 0.05) for b, a in zip(images, augmented)]
    recoloured = (hues(images) - hues(augmented)).norm(dim=1) > 0.1
    assert sum(moved) >= (15 if moves else 0) and (moves or not any(moved))
    assert int(recoloured.sum()) >= (15 if recolours else 0) and (recolours or not recoloured.any())


def test_augmentation_rows_are_draws_of_one_image(data):
    rows = augmentation_rows(data.images[:3], "B", per_row=14)
    assert rows.shape == (3, 14, 3, 64, 64)
    assert len({tuple(image.sum(0).nonzero()[0].tolist()) for image in rows[0]}) > 1, "different draws"
