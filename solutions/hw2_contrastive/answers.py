"""hw2_contrastive: derivations (sympy), multiple-choice answers and the invariance table (see
README.md for the questions).

An expression is a sympy expression of the function's arguments, which arrive as sympy symbols.
A list of values ([low, high], [a, b, c]) is a list or tuple of sympy expressions or numbers.
A multiple-choice answer is a set of option letters, e.g. {"b"}. The invariance table is a dict
of dicts: see invariance_table().
"""
import sympy


def unit_distance(dot):
    """The Euclidean distance ||u - v||_2 between unit vectors u and v with u^T v = dot, as a
    sympy expression of dot (a real symbol, -1 < dot < 1)."""
    ### BEGIN SOLUTION expand ||u - v||^2 = u^T u - 2 u^T v + v^T v
    return sympy.sqrt(2 - 2 * dot)
    ### END SOLUTION


def logit_range():
    """[low, high]: the smallest and the largest value that a logit f(x_i)^T f(y_j) can take when
    the encoder f outputs unit vectors and there is no temperature."""
    ### BEGIN SOLUTION
    return [-1, 1]
    ### END SOLUTION


def logit_range_with_temperature(tau):
    """[low, high]: the same for the logits f(x_i)^T f(y_j) / tau, as sympy expressions of the
    temperature tau (a positive symbol)."""
    ### BEGIN SOLUTION
    return [-1 / tau, 1 / tau]
    ### END SOLUTION


def contrastive_decomposition(M):
    """[a, b, c] such that L_contr = a * L_align + b * L_unif + c, where, for N anchors z_i with
    positives y_i among M candidates y_1, ..., y_M,
        L_contr = (1/N) sum_i -log( exp(z_i^T y_i) / sum_{j=1}^M exp(z_i^T y_j) ),
        L_align = (1/N) sum_i z_i^T y_i,
        L_unif  = (1/N) sum_i log( (1/M) sum_{j=1}^M exp(z_i^T y_j) ).
    a, b and c may depend on M (a positive symbol), not on the z_i and y_j."""
    ### BEGIN SOLUTION split the log of the ratio, then bring in the 1/M of L_unif
    return [-1, 1, sympy.log(M)]
    ### END SOLUTION


def mc_perfect_accuracy_condition():
    """Multiple choice: which condition on the clusters' diameters and margins guarantees perfect
    accuracy? "a", "b" or "c" for condition (i), (ii) or (iii) of README.md. One letter."""
    ### BEGIN SOLUTION
    return {"b"}
    ### END SOLUTION


def invariance_table():
    """What an encoder trained with each augmentation set "A", "B", "C" of README.md becomes
    invariant to: a dict of dicts
        {"A": {"shape": ..., "location": ..., "color": ...}, "B": {...}, "C": {...}}
    whose values are "invariant" or "sensitive" (case and surrounding spaces do not matter)."""
    ### BEGIN SOLUTION one row per augmentation set, one column per factor
    return {"A": {"shape": "sensitive", "location": "sensitive", "color": "invariant"},
            "B": {"shape": "sensitive", "location": "invariant", "color": "sensitive"},
            "C": {"shape": "sensitive", "location": "invariant", "color": "invariant"}}
    ### END SOLUTION
