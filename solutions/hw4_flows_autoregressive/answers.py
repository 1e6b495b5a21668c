"""hw4_flows_autoregressive: receptive fields, the direction of the KL divergence, and the
invertibility of flow layers (see README.md for the questions).

Grids are 5 x 5 lists of lists of 0 and 1 (or a tensor), row by row from the top: grid[i][j] is
the pixel numbered 10 (i + 1) + (j + 1) in the README's figure (grid[2][2] is pixel 33). Formulas
are sympy expressions of the function's arguments.
"""
import sympy


def receptive_fields():
    """The receptive field of the output at pixel 33 after two masked 3 x 3 convolutions (padding
    1), for each pair of mask types (first layer, second layer): a dict
        {("A", "A"): grid, ("A", "B"): grid, ("B", "A"): grid, ("B", "B"): grid}
    whose grid has a 1 at each input pixel the output depends on, 0 elsewhere."""
    ### BEGIN SOLUTION follow each pixel the second layer's mask lets through back through the first mask
    return {
        ("A", "A"): [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
        ("A", "B"): [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
        ("B", "A"): [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
        ("B", "B"): [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
    }
    ### END SOLUTION


def kl_direction():
    """Which objective to minimize in each scenario of Question 2.2: a dict
        {"density only": {"objective": ...}, "samples only": {"objective": ...}}
    whose values are "forward" (KL(p_X || p_F(U))) or "reverse" (KL(p_F(U) || p_X))."""
    ### BEGIN SOLUTION which expectation can you estimate: under the data, or under the flow?
    return {"density only": {"objective": "reverse"}, "samples only": {"objective": "forward"}}
    ### END SOLUTION


def relu_collision(a, b, c):
    """Two distinct real numbers [z1, z2] with a * relu(b * z1 + c) == a * relu(b * z2 + c): the
    reason g(z) = a relu(b z + c) is not invertible. a, b, c are Python numbers (any of them
    may be 0)."""
    ### BEGIN SOLUTION where is relu flat? mind the signs of b, and b == 0
    if b == 0:
        return [0.0, 1.0]
    edge = -c / b                      # b z + c = 0 there
    step = -1.0 if b > 0 else 1.0      # towards b z + c < 0
    return [edge + step, edge + 2 * step]
    ### END SOLUTION


def radial_beta_bound(alpha):
    """The bound of Question 2.4 (i): the radial flow is invertible for every beta >= this
    expression of alpha (a positive symbol)."""
    ### BEGIN SOLUTION
    return -alpha
    ### END SOLUTION


def radial_r(rho, alpha, beta):
    """The unique r >= 0 with rho = r (1 + beta / (alpha + r)), for rho >= 0, alpha > 0 and beta
    at least the bound above, as a sympy expression of rho, alpha and beta."""
    ### BEGIN SOLUTION multiply out: a quadratic in r; which of its roots is non-negative?
    p = alpha + beta - rho
    return (-p + sympy.sqrt(p**2 + 4 * alpha * rho)) / 2
    ### END SOLUTION
