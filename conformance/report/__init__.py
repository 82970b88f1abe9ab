"""What a check tells its reader: a terminal summary, the JSON object of CONTRACT §6, CSV tables
and one self-contained HTML report.

Everything is built from a :class:`CheckReport` (the log, the rule engine's judgement and the
control-flow fitness), so the four outputs agree. Written for people who run services, not for
programmers, and in the spirit of the caution in the domain notes: a deadline missed by minutes
is shown apart from one missed by weeks, and what cannot be judged from the data is said, not
hidden. Nothing ranks people, and no column that looks like personal data is ever copied.

Times are shown in Europe/London local time (the calendar's zone), in JSON as ISO 8601 with the
offset. Outputs are deterministic: the same inputs give the same bytes.

The package's modules, one per output: ``result`` (``CheckReport`` and its tables), ``caveats``,
``jsonout`` (JSON), ``terminal`` (the summary), ``files`` (CSV and the ``--out`` folder),
``charts``, ``timelines`` (inline SVG) and ``htmlpage`` (HTML), over ``formatting`` (the words,
numbers and times they share). HTML is made only by Jinja2 templates with autoescape
(``templating``, the templates in ``templates/``), so every value from a log is escaped. Import
the names below from ``conformance.report`` itself.
"""

from __future__ import annotations

from conformance.report.caveats import RESTATED_TOPICS, Caveat
from conformance.report.charts import (
    compliance_figure,
    judgement_months,
    lateness_figure,
    monthly_figure,
    monthly_rates,
    png_bytes,
)
from conformance.report.files import neutralise_csv_cells, write_outputs
from conformance.report.formatting import (
    DEVIATION_COLUMNS,
    HEATMAP_MONTHS,
    LATENESS_BANDS,
    STATUS_LABELS,
    TABLE_CAP,
    TIMELINE_CAP,
    lateness_band,
    lateness_text,
)
from conformance.report.htmlpage import to_html
from conformance.report.jsonout import to_json, to_json_text
from conformance.report.result import CheckReport
from conformance.report.templating import template_environment
from conformance.report.terminal import fitness_line, summary_text
from conformance.report.timelines import (
    CaseTimeline,
    case_timelines,
    timeline_cases,
    timeline_svg,
)

__all__ = [
    "DEVIATION_COLUMNS",
    "HEATMAP_MONTHS",
    "LATENESS_BANDS",
    "RESTATED_TOPICS",
    "STATUS_LABELS",
    "TABLE_CAP",
    "TIMELINE_CAP",
    "CaseTimeline",
    "Caveat",
    "CheckReport",
    "case_timelines",
    "compliance_figure",
    "fitness_line",
    "judgement_months",
    "lateness_band",
    "lateness_figure",
    "lateness_text",
    "monthly_figure",
    "monthly_rates",
    "neutralise_csv_cells",
    "png_bytes",
    "summary_text",
    "template_environment",
    "timeline_cases",
    "timeline_svg",
    "to_html",
    "to_json",
    "to_json_text",
    "write_outputs",
]
