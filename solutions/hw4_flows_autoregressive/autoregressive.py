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
    ### BEGIN SOLUTION the centre is at (k // 2, k // 2); check the arguments first
    if kernel_size % 2 == 0 or kernel_size < 1:
        raise ValueError(f"kernel_size must be odd, got {kernel_size}")
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    centre = kernel_size // 2
    mask = torch.zeros(kernel_size, kernel_size)
    mask[:centre, :] = 1
    mask[centre, :centre] = 1
    if mask_type == "B":
        mask[centre, centre] = 1
    return mask
    ### END SOLUTION


def masked_conv2d(x, weight, bias, mask_type):
    """A PixelCNN layer: F.conv2d of x [N, C_in, H, W] with weight * mask (weight
    [C_out, C_in, k, k], the mask of causal_conv_mask for every pair of channels), bias [C_out] or
    None, and padding k // 2, so that the output has the input's height and width."""
    ### BEGIN SOLUTION mask the weights (not the input), on the weights' device and dtype
    k = weight.shape[-1]
    mask = causal_conv_mask(k, mask_type).to(dtype=weight.dtype, device=weight.device)
    return F.conv2d(x, weight * mask, bias, padding=k // 2)
    ### END SOLUTION


def made_masks(in_degrees, hidden_degrees):
    """MADE's masks, one per layer, each a float tensor in nn.Linear's layout [out, in]: a hidden
    layer's unit connects to a unit of the layer below when its degree is at least that unit's
    (deg_l[out] >= deg_{l-1}[in]); an output connects to the last hidden layer's unit when the
    output's degree, that of its input, is strictly larger (in_degrees[out] > deg_last[in]).
    in_degrees: a LongTensor [D], a permutation of 1..D; hidden_degrees: a list of LongTensors
    with values in 1..D-1, one per hidden layer (possibly none)."""
    ### BEGIN SOLUTION compare degrees with broadcasting: [out, 1] against [1, in]
    degrees = [in_degrees, *hidden_degrees]
    masks = [(above[:, None] >= below[None, :]).float() for below, above in zip(degrees, degrees[1:])]
    masks.append((in_degrees[:, None] > degrees[-1][None, :]).float())
    return masks
    ### END SOLUTION
