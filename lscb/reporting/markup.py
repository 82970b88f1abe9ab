"""HTML and Markdown for the report notebooks, with every value escaped.

A notebook report is the notebook's outputs as nbconvert writes them, and nbconvert copies an
HTML output, and any HTML inside Markdown, into the page as it is. So whatever a helper shows
that holds a value from a log, a scenario, a procedure or a file name goes through one of these:

- :func:`table`: a DataFrame as a pandas Styler whose cells and headers are HTML-escaped;
- :func:`markdown_text`: a value to put into Markdown, shown exactly as written (its HTML and
  Markdown characters escaped, so that it can neither open a tag nor make a link or an image);
- :func:`render` and :func:`html`: a template of ``lscb/reporting/templates`` rendered by the
  project's one HTML engine, Jinja2 with autoescape (``conformance.report.template_environment``).
"""

from __future__ import annotations

import html as _html
import itertools
import re
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from markupsafe import Markup

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

__all__ = ["TEMPLATES", "html", "markdown_text", "render", "table"]

TEMPLATES: Final = "lscb.reporting"
"""The package whose ``templates`` folder holds the notebook reports' templates."""

# HTML's special characters as entities, and every other ASCII punctuation character (each of
# which may start Markdown: emphasis, code, links, images, math, headings, tables) behind a
# backslash, which Markdown (CommonMark, as nbconvert's mistune reads it) shows as the character.
_MARKDOWN_ESCAPES: Final = {
    **{c: "\\" + c for c in string.punctuation},
    **{c: _html.escape(c, quote=True) for c in "&<>\"'"},
}
_LINE_BREAKS: Final = re.compile(r"\s*[\r\n]\s*")


def markdown_text(value: Any) -> str:
    """``value`` as text to put into Markdown: it shows exactly as written, and none of its
    characters is read as HTML or as Markdown; line breaks become spaces (a value cannot start
    a new paragraph, list or heading).

    >>> markdown_text("<script>alert(1)</script>")
    '&lt;script&gt;alert\\\\(1\\\\)&lt;\\\\/script&gt;'
    >>> markdown_text("*not bold* [not a link](x)")
    '\\\\*not bold\\\\* \\\\[not a link\\\\]\\\\(x\\\\)'
    >>> markdown_text(None)
    ''
    """
    text = "" if value is None else _LINE_BREAKS.sub(" ", str(value))
    return "".join(_MARKDOWN_ESCAPES.get(c, c) for c in text)


def table(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    precision: int | None = None,
) -> Styler:
    """``frame`` to display as a table without its index: every cell and column header
    HTML-escaped (pandas' Styler shows them raw otherwise), numbers formatted by ``formats``
    (column: format string, such as ``"{:.0%}"``) or to ``precision`` decimals.

    >>> import pandas as pd
    >>> html = table(pd.DataFrame({"<b>case</b>": ["<script>x</script>"]})).to_html()
    >>> "&lt;script&gt;x&lt;/script&gt;" in html and "&lt;b&gt;case&lt;/b&gt;" in html
    True
    >>> "<script>" in html or "<b>" in html
    False

    Each table's HTML ids are numbered in the order the tables are made (pandas gives each a
    random id otherwise), so that a report run again is the same file byte for byte:

    >>> first, second = (table(pd.DataFrame({"a": [1]})).to_html() for _ in range(2))
    >>> first.split("_")[1] != second.split("_")[1]
    True
    """
    return (
        frame.style.format(dict(formats or {}), precision=precision, escape="html")
        .format_index(escape="html", axis=1)
        .hide(axis="index")
        .set_uuid(f"lscb{next(_TABLE_NUMBERS)}")
    )


_TABLE_NUMBERS: Final = itertools.count(1)
"""The next table's number, for its HTML ids: a report runs in a kernel of its own, so its
tables are numbered from 1 in the order the notebook shows them."""


def render(name: str, /, **values: Any) -> Markup:
    """The template ``name`` of ``lscb/reporting/templates`` filled with ``values``, each
    escaped unless it is markup a template made."""
    # conformance.report holds the HTML engine; imported here because it brings pandas, which
    # the command line does not load until a report runs.
    from conformance.report import template_environment

    return Markup(template_environment(TEMPLATES).get_template(name).render(**values))


def html(name: str, /, **values: Any) -> Any:
    """The template ``name`` rendered (:func:`render`) as an IPython HTML block to display."""
    from IPython.display import HTML

    return HTML(  # type: ignore[no-untyped-call]
        str(render(name, **values))
    )
