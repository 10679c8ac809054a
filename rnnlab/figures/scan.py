"""Chapter 12's diagram: a linear recurrence as a chain of T steps and as a scan of log2 T rounds.

Top: the loop, h_t = a_t h_{t-1} + b_t, one step after another (T steps deep). Bottom: the
Hillis-Steele scan over the same pairs (a_t, b_t): in the round of distance d every position
t > d combines its partial product with the one d places to its left, (A_{t-d}, B_{t-d}) o
(A_t, B_t), so after ceil(log2 T) rounds position t holds (A_t, B_t) for steps 1..t and
h_t = A_t h_0 + B_t.
"""
import matplotlib.pyplot as plt
from matplotlib.patches import Circle

from rnnlab.figures import PALETTE
from rnnlab.figures.draw import arrow, node

INPUT, STATE, COMBINE = PALETTE[2], PALETTE[1], PALETTE[3]   # sky blue, orange, bluish green


def draw_chain(ax, steps: int = 8):
    """The loop: (a_t, b_t) enter h_t, and each h_t waits for h_{t-1}."""
    gap = 1.25
    node(ax, (0, 1.3), "$h_0$", PALETTE[4], width=0.7)
    for t in range(1, steps + 1):
        x = gap * t
        node(ax, (x, 0), f"$a_{{{t}}}, b_{{{t}}}$", INPUT, width=1.0)
        node(ax, (x, 1.3), f"$h_{{{t}}}$", STATE, width=0.7)
        arrow(ax, (x, 0.3), (x, 1.0))
        arrow(ax, (x - gap + 0.4, 1.3), (x - 0.4, 1.3))
    ax.text(gap * (steps + 0.6), 1.3, f"{steps} steps,\none after another", va="center",
            fontsize=10)
    ax.set_xlim(-0.6, gap * (steps + 2.6))
    ax.set_ylim(-0.5, 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("The loop: $h_t = a_t\\, h_{t-1} + b_t$, depth $T$", fontsize=11)


def draw_hillis_steele(ax, steps: int = 8):
    """The scan: round r combines positions d = 2^(r-1) apart; depth ceil(log2 T)."""
    gap, rise = 1.25, 1.1
    rounds = max(1, (steps - 1).bit_length())
    for t in range(1, steps + 1):
        node(ax, (gap * t, 0), f"$a_{{{t}}}, b_{{{t}}}$", INPUT, width=1.0)
    for r in range(1, rounds + 1):
        d, y = 2 ** (r - 1), rise * r
        ax.text(-0.2, y, f"$d = {d}$", ha="right", va="center", fontsize=10)
        for t in range(1, steps + 1):
            x = gap * t
            if t > d:   # (A_{t-d}, B_{t-d}) o (A_t, B_t): one combine
                ax.add_patch(Circle((x, y), 0.2, facecolor=COMBINE, edgecolor="black", zorder=3))
                ax.text(x, y, "$\\circ$", ha="center", va="center", fontsize=15, zorder=4)
                arrow(ax, (gap * (t - d), y - rise), (x, y), PALETTE[6], width=1.0, head=9,
                      shrink=9)
            else:       # already complete: passed up unchanged
                ax.add_patch(Circle((x, y), 0.07, facecolor="black", zorder=3))
            arrow(ax, (x, y - rise), (x, y), "grey", width=0.8, style="-", head=9, shrink=9)
    top = rise * (rounds + 1)
    for t in range(1, steps + 1):
        node(ax, (gap * t, top), f"$h_{{{t}}}$", STATE, width=0.7)
        arrow(ax, (gap * t, top - rise), (gap * t, top - 0.28), "grey", width=0.8, head=9,
              shrink=9)
    ax.text(gap * (steps + 0.6), top, "$h_t = A_t h_0 + B_t$", va="center", fontsize=10)
    ax.text(gap * (steps + 0.6), rise * (rounds + 1) / 2,
            f"{rounds} rounds,\neach one array\noperation", va="center", fontsize=10)
    ax.set_xlim(-1.3, gap * (steps + 2.6))
    ax.set_ylim(-0.5, top + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("The scan (Hillis–Steele): $(A_{t-d}, B_{t-d}) \\circ (A_t, B_t)$, "
                 "depth $\\lceil \\log_2 T \\rceil$", fontsize=11)


def draw_scan(steps: int = 8):
    """Both diagrams, the loop above the scan, for ``steps`` time steps; returns the figure."""
    rounds = max(1, (steps - 1).bit_length())
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 3.0 + 1.0 * rounds),
                                      gridspec_kw={"height_ratios": [2.3, 1.1 * (rounds + 1.9)]})
    draw_chain(top, steps)
    draw_hillis_steele(bottom, steps)
    fig.tight_layout()
    return fig
