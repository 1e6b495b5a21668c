"""hw4_flows_autoregressive: autoregressive models by masking, PixelCNN's masked convolutions and
MADE's masked layers.

Pixels are ordered in raster order (row by row, left to right); a mask of type "A" hides the
current pixel from itself (the first layer), type "B" lets it through (the later layers).
Results follow the inputs' device; the masks are float tensors (float32 unless said otherwise).
"""
import torch
import torch.nn.functional as F


def causal_conv_mask(kernel_size, mask_type):
    """The PixelCNN mask of a kernel_size x kernel_size convolution kernel, a float tensor of shape
    [k, k]: 1 at the positions before the centre in raster order (the rows above it, and the
    positions left of it in its row), 0 after it; the centre is 1 for type "B" and 0 for type "A".
    Raises ValueError for an even kernel_size or a mask_type other than "A" and "B"."""
    # FIXME: the centre is at (k // 2, k // 2); check the arguments first
    raise NotImplementedError


def masked_conv2d(x, weight, bias, mask_type):
    """A PixelCNN layer: F.conv2d of x [N, C_in, H, W] with weight * mask (weight
    [C_out, C_in, k, k], the mask of causal_conv_mask for every pair of channels), bias [C_out] or
    None, and padding k // 2, so that the output has the input's height and width."""
    # FIXME: mask the weights (not the input), on the weights' device and dtype
    raise NotImplementedError


def made_masks(in_degrees, hidden_degrees):
    """MADE's masks, one per layer, each a float tensor in nn.Linear's layout [out, in]: a hidden
    layer's unit connects to a unit of the layer below when its degree is at least that unit's
    (deg_l[out] >= deg_{l-1}[in]); an output connects to the last hidden layer's unit when the
    output's degree, that of its input, is strictly larger (in_degrees[out] > deg_last[in]).
    in_degrees: a LongTensor [D], a permutation of 1..D; hidden_degrees: a list of LongTensors
    with values in 1..D-1, one per hidden layer (possibly none)."""
    # FIXME: compare degrees with broadcasting: [out, 1] against [1, in]
    raise NotImplementedError
