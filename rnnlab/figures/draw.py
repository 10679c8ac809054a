"""Drawing the book's diagrams: the canvas, the labelled box and the arrow every diagram module
uses (``figures.forward``, ``figures.bptt``, ``figures.shapes``, ``figures.cells``, ...).

Colours are the callers' (the roles named in :mod:`rnnlab.figures`); this module only draws.
"""
import matplotlib.pyplot as plt
from matplotlib import patheffects
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch


def canvas(ax=None, figsize=(7.0, 3.0)):
    """The axes to draw in (new ones of ``figsize`` when ``ax`` is None), on a white figure,
    so that the diagram reads on a dark page too, without axes lines, with equal scales so
    that boxes keep their shape."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.figure.set_facecolor("white")
    ax.set_facecolor("white")
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def node(ax, xy, text, colour, width=0.8, height=0.5, fontsize=11):
    """A rounded box of ``colour`` centred at ``xy`` with ``text`` (a symbol: x_t, h_t, y_t)."""
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05", facecolor=colour, edgecolor="black",
                                linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, colour="black", dash="-", label="", label_xy=None, rad=0.0,
          width=1.2, fontsize=9, hop=False, label_colour=None, label_offset=(0.0, 0.0),
          head=12, shrink=0.0, style="-|>"):
    """An arrow from ``start`` to ``end`` (curved by ``rad``), with an optional ``label`` at
    ``label_xy`` (default: the middle moved by ``label_offset``), in ``label_colour``
    (default: the arrow's); ``hop`` draws a white band under it, so that a line it crosses is
    visibly interrupted. ``head`` sizes the arrowhead, ``shrink`` (points) leaves a gap at
    both ends, ``style`` is matplotlib's arrow style ("-" for a plain line)."""
    effects = ([patheffects.Stroke(linewidth=width + 5, foreground="white"), patheffects.Normal()]
               if hop else None)
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=head,
                                 connectionstyle=f"arc3,rad={rad}", linewidth=width,
                                 color=colour, linestyle=dash, shrinkA=shrink, shrinkB=shrink,
                                 path_effects=effects, zorder=2.5 if hop else 2))
    if label:
        x, y = label_xy or ((start[0] + end[0]) / 2 + label_offset[0],
                            (start[1] + end[1]) / 2 + label_offset[1])
        ax.text(x, y, label, ha="center", va="center", fontsize=fontsize,
                color=label_colour or colour,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.4}, zorder=3)
