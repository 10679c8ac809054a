"""Shape checks with messages that say what was expected and what arrived."""
from collections.abc import Sequence


def expect_shape(name: str, array, expected: Sequence[int | None], meaning: str = "") -> None:
    """Raise ``ValueError`` unless ``array.shape`` matches ``expected``.

    ``expected`` holds an int where the size is fixed and ``None`` where any size will do.
    ``meaning`` names the axes for the message, e.g. ``"(batch, hidden)"``::

        expect_shape("h_prev", h_prev, (B, H), "(batch, hidden)")
        ValueError: h_prev must have shape (batch, hidden) = (2, 4), got (4, 2)
    """
    shape = tuple(getattr(array, "shape", ()))
    expected = tuple(expected)
    ok = len(shape) == len(expected) and all(
        want is None or got == want for got, want in zip(shape, expected)
    )
    if not ok:
        shown = "(" + ", ".join("any" if e is None else str(e) for e in expected)
        shown += ",)" if len(expected) == 1 else ")"
        wanted = f"{meaning} = {shown}" if meaning else shown
        raise ValueError(f"{name} must have shape {wanted}, got {shape}")
