"""The project's one HTML engine: Jinja2 templates shipped inside a package (in its
``templates`` folder), rendered with autoescape, so that every value put into a page is escaped
unless it is markup that a template of ours made (``markupsafe.Markup``).

The check's report (``lscb check --out``) is made here from ``conformance/report/templates``;
the notebook reports (``lscb report``) use the same environment for their own templates
(``lscb.reporting.markup``). Nothing that comes from a log, a rules file, a scenario or a file
name is formatted into HTML by hand: it is handed to a template as text, and escaped there.

>>> template_environment().from_string("<li><b>{{ rule }}</b>: {{ message }}</li>").render(
...     rule="<script>alert(1)</script>", message='"quoted" & more')
'<li><b>&lt;script&gt;alert(1)&lt;/script&gt;</b>: &#34;quoted&#34; &amp; more</li>'
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import jinja2
from markupsafe import Markup

__all__ = ["PACKAGE", "render", "template_environment"]

PACKAGE: Final = "conformance.report"
"""The package whose ``templates`` folder holds the check report's templates."""


@cache
def template_environment(package: str = PACKAGE) -> jinja2.Environment:
    """The templates of ``package`` (its ``templates`` folder) with autoescape on: values are
    escaped unless they are ``Markup``; a name a template uses but is not given is an error,
    not a blank."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, /, **values: Any) -> Markup:
    """The check report's template ``name`` filled with ``values`` (escaped), as markup."""
    return Markup(template_environment().get_template(name).render(**values))
