"""What the report notebooks display that is not a table: the procedure's diagram, figures as
PNG images, and the small formatting helpers the scenario and audit helpers share.

Each helper returns something to display (an IPython image or HTML block, text), so that the
notebooks define nothing. Figures are returned as PNG images (not matplotlib figures) so that
they show the same whatever matplotlib backend the kernel has.
"""

from __future__ import annotations

import base64
import io
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lscb.reporting.markup import html
from model.errors import LscbError

if TYPE_CHECKING:
    from model.procedure import Procedure

__all__ = ["given", "number", "percent", "png_bytes_image", "png_image", "png_width", "procedure_diagram"]


def procedure_diagram(procedure: Procedure, page: str | None = None, scale: float = 1.0) -> Any:
    """One page of the procedure's swimlane diagram (``model.picture``: the overview when
    ``page`` is None, else the sub-process of that id) to display in a notebook: an embedded PNG
    at ``scale`` of its drawn size, in a box that scrolls sideways when the screen is narrower
    (``templates/diagram.html.j2``)."""
    from model.picture import draw

    with tempfile.TemporaryDirectory(prefix="lscb-picture-") as work:
        target = Path(work) / "procedure.png"
        draw(procedure, target, "png", page)
        data = target.read_bytes()
    return html(
        "diagram.html.j2",
        png_base64=base64.b64encode(data).decode("ascii"),
        width=round(png_width(data) * scale),
        title=procedure.title,
    )


def png_width(data: bytes) -> int:
    """The width in pixels that a PNG's header gives."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise LscbError("the procedure picture is not a PNG image")
    return int.from_bytes(data[16:20], "big")


def png_image(figure: Any) -> Any:
    """A matplotlib figure as an IPython PNG image (drawn at twice the resolution it shows at,
    without the software stamp, so the same figure gives the same bytes)."""
    from IPython.display import Image
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=200, metadata={"Software": None}, bbox_inches="tight")
    return Image(  # type: ignore[no-untyped-call]
        data=buffer.getvalue(), format="png", retina=True
    )


def png_bytes_image(data: bytes) -> Any:
    """PNG bytes as an IPython image, shown at their own size."""
    from IPython.display import Image

    return Image(  # type: ignore[no-untyped-call]
        data=data, format="png"
    )


def number(value: Any) -> float:
    """A table's value as a float: NaN when missing.

    >>> number(None), number("0.5")
    (nan, 0.5)
    """
    return math.nan if value is None or pd.isna(value) else float(value)


def given(value: Any) -> bool:
    """Whether a table's value is there (not None, NA or NaN).

    >>> given(0.0), given(None), given(float("nan")), given(pd.NA)
    (True, False, False, False)
    """
    return value is not None and value is not pd.NA and not (
        isinstance(value, float) and math.isnan(value))


def percent(value: Any) -> str:
    """A share as a whole percentage, '-' when missing.

    >>> percent(0.725), percent(None)
    ('72%', '-')
    """
    share = number(value)
    return "-" if math.isnan(share) else f"{100 * share:.0f}%"

