"""Reports: the project's notebooks run with parameters and written as one self-contained HTML
file each (``lscb report procedure | scenario | audit``).

- :mod:`lscb.reporting.runner` (exported here): find a notebook, run it with papermill, write
  the HTML page with its title page.
- :mod:`lscb.reporting.figures`, :mod:`lscb.reporting.procedures`,
  :mod:`lscb.reporting.scenarios`, :mod:`lscb.reporting.audits`: what the notebooks display, so
  that they define nothing themselves. A notebook imports the one it needs (``from
  lscb.reporting import audits``).
- :mod:`lscb.reporting.markup`: how they display it with every value from a log, a scenario, a
  procedure or a file name escaped: tables (``markup.table``), text in Markdown
  (``markup.markdown_text``) and HTML from the templates in ``lscb/reporting/templates``,
  rendered by Jinja2 with autoescape.

>>> from lscb import reporting
>>> sorted(reporting.NOTEBOOKS)
['audit', 'procedure', 'scenario']
"""

from lscb.reporting.runner import (
    EXTERNAL_REFERENCE,
    KERNEL,
    LONDON,
    NOTEBOOK_PACKAGE,
    NOTEBOOKS,
    NotebookError,
    Report,
    ReportInput,
    count_figures,
    count_tables,
    execute_notebook,
    notebook_path,
    notebooks_dir,
    render_html,
    sha256_of,
    title_page,
    write_report,
)

__all__ = [
    "EXTERNAL_REFERENCE",
    "KERNEL",
    "LONDON",
    "NOTEBOOKS",
    "NOTEBOOK_PACKAGE",
    "NotebookError",
    "Report",
    "ReportInput",
    "count_figures",
    "count_tables",
    "execute_notebook",
    "notebook_path",
    "notebooks_dir",
    "render_html",
    "sha256_of",
    "title_page",
    "write_report",
]
