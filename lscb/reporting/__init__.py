"""Reports: the project's notebooks run with parameters and written as one self-contained HTML
file each (``lscb report procedure | scenario | audit | calibration``).

- :mod:`lscb.reporting.runner`, whose names (its ``__all__``) are the package's: find a
  notebook, run it with papermill, write the HTML page with its title page.
- :mod:`lscb.reporting.figures`, :mod:`lscb.reporting.procedures`,
  :mod:`lscb.reporting.scenarios`, :mod:`lscb.reporting.evidence`,
  :mod:`lscb.reporting.audits`, :mod:`lscb.reporting.calibrations`: what the notebooks
  display, so that they define nothing themselves. A notebook imports those it needs (``from lscb.reporting import audits``) and
  otherwise calls only the packages' fronts (``model.load_procedure``, ``simulation.run``,
  ``conformance.check``...).
- :mod:`lscb.reporting.markup`: how they display it with every value from a log, a scenario, a
  procedure or a file name escaped: tables (``markup.table``), text in Markdown
  (``markup.markdown_text``) and HTML from the templates in ``lscb/reporting/templates``,
  rendered by Jinja2 with autoescape.

>>> from lscb import reporting
>>> sorted(reporting.NOTEBOOKS)
['audit', 'calibration', 'procedure', 'scenario']
"""

from lscb.reporting import runner
from lscb.reporting.runner import *  # noqa: F403 (the runner's __all__, listed once there)

__all__ = runner.__all__
