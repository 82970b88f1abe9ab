"""One check of an event log: read it, judge every case against the rules, measure how well its
steps fit the model, and return the :class:`~conformance.report.CheckReport` that every output
(terminal summary, JSON, CSV, HTML, the audit report) is built from.

``lscb check`` and the audit report both call :func:`check` (``conformance.check``), so they
read, judge and measure a log the same way::

    import conformance

    report = conformance.check("log.csv", mapping="local.yaml", config="check.toml")
    report.summary            # per rule: counts per status and compliance
    report.deviations         # one row per violated rule per case

Errors in the inputs (the log, the procedure, a rules, mapping or configuration file, an
``as_of`` that is not a time) raise ``model.errors.InputError`` naming every problem.

The package ``conformance`` binds the name ``check`` to the function, so
``conformance.check`` is the function and this module is reached as ``conformance.check``
only through ``from conformance.check import ...`` (which Python resolves by module name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import pandas as pd

from conformance.config import CheckConfig, config_with_overrides, load_check_config
from conformance.engine import judge
from conformance.fitness import DEFAULT_ALIGNMENT_SECONDS, DEFAULT_MAX_ALIGNMENT_VARIANTS
from conformance.logio import ColumnMap, EventLog, ReadOptions, read_log
from conformance.logio.censusfile import census_rules
from conformance.logio.limits import DEFAULT_LIMITS, Limits
from conformance.logio.mapping import column_map, load_log_settings, load_mapping_file
from conformance.logio.schema import BAD_ROWS
from conformance.report import CheckReport
from model.errors import InputError, Problem
from model.procedure import Procedure, load_procedure
from model.rules import Rule, load_rules_file

if TYPE_CHECKING:
    from conformance.engine import Judgement
    from conformance.fitness import FitnessResult

__all__ = [
    "FITNESS_METHODS",
    "CheckProgress",
    "LogFormat",
    "check",
    "read_options",
    "rules_to_judge",
]

FITNESS_METHODS: Final = ("auto", "alignments", "token-replay", "none")
"""How control-flow fitness is measured: ``auto`` (exact replay of every distinct variant;
alignments of the unfit ones, up to 100,000, for their explanation; token replay beyond),
``alignments``, ``token-replay``, or ``none`` (not measured)."""

BUILT_IN_PROCEDURE: Final = "built-in (1.4.9)"


@dataclass(frozen=True)
class LogFormat:
    """How a log's file is laid out when it is not in the contract's schema. The defaults read
    the contract's schema.

    ``mapping``: a YAML file of column names, local activity names, steps to ignore, flag
    words and reading options (``conformance.logio.mapping``); every other field overrides the
    mapping's: the ``*_column`` fields name a column; ``timestamp_format``: one strptime
    format, several tried in order, or ``auto`` (None: the mapping's, else automatic: ISO 8601
    and UK dates, day first unless the column proves otherwise); ``date_order``: ``auto``,
    ``day-first`` or ``month-first``; ``delimiter``: the CSV separator (None: guessed);
    ``encoding``: the file's encoding (None: UTF-8, or cp1252 with a warning); ``sheet``: an
    Excel sheet's name or position from 1 (None: the first); ``on_bad_rows``: ``fail`` (every
    problem listed) or ``skip`` (rows that cannot be read are left out and listed in
    ``EventLog.rejects``). ``settings_file``: a settings file (``--config``) whose ``[log]``
    table gives reading options the mapping file and the fields above do not. ``limits``: what
    the file may make the reader do (``conformance.logio.Limits``).
    """

    mapping: Path | None = None
    case_column: str | None = None
    activity_column: str | None = None
    timestamp_column: str | None = None
    resource_column: str | None = None
    timestamp_format: str | tuple[str, ...] | None = None
    delimiter: str | None = None
    encoding: str | None = None
    date_order: str | None = None
    sheet: str | int | None = None
    on_bad_rows: str = "fail"
    settings_file: Path | None = None
    limits: Limits = DEFAULT_LIMITS


@dataclass(frozen=True)
class FitnessBudget:
    """How much control-flow fitness may cost: the distinct variants aligned, and the seconds
    spent aligning (past either, token replay and then exact replay judge the rest, and the
    report says so)."""

    max_aligned_variants: int = DEFAULT_MAX_ALIGNMENT_VARIANTS
    alignment_seconds: float = DEFAULT_ALIGNMENT_SECONDS


class CheckProgress(Protocol):
    """What :func:`check` reports while it works (for a progress bar)."""

    def stage(self, name: str) -> None:
        """A stage begins: 'reading the log', 'judging the rules', 'control-flow fitness'."""

    def variants(self, done: int, total: int) -> None:
        """Control-flow fitness has judged ``done`` of ``total`` distinct variants."""


def rules_to_judge(
    procedure: Procedure,
    rules_files: Sequence[Path | str] = (),
    *,
    contract_rules: bool = True,
) -> tuple[tuple[Rule, ...], frozenset[str]]:
    """The rules to judge (the procedure's unless ``contract_rules`` is False, then those of
    each rules file) and the activity names the model and those files know (the names the
    files declare under ``activities:`` and those their rules use). Raises InputError when
    there is no rule at all."""
    rules: list[Rule] = list(procedure.rules) if contract_rules else []
    vocabulary = set(procedure.activities)
    for path in rules_files:
        loaded = load_rules_file(path, set(procedure.activities),
                                 set(procedure.boolean_attributes),
                                 known_ids={r.id for r in rules},
                                 categories=procedure.categories)
        rules.extend(loaded.rules)
        vocabulary |= loaded.activities
        for rule in loaded.rules:
            vocabulary |= rule.activities()
    if not rules:
        raise InputError("options", [Problem(
            "--no-contract-rules", "at least one rules file (--rules FILE.yaml) to judge",
            "no rules at all")])
    return tuple(rules), frozenset(vocabulary)


def read_options(
    procedure: Procedure,
    log_format: LogFormat = LogFormat(),
    *,
    vocabulary: frozenset[str] | None = None,
    as_of: pd.Timestamp | None = None,
) -> ReadOptions:
    """How to read a log for ``procedure``: its case attributes, the activity names known
    (``vocabulary``; default: the procedure's), the columns and local names of ``log_format``
    (its mapping file is read here) and the as-of time (None: the log's latest timestamp)."""
    known = frozenset(procedure.activities) if vocabulary is None else vocabulary
    attributes = (*procedure.boolean_attributes, *procedure.categories)
    mapping = (load_mapping_file(log_format.mapping, known, attributes)
               if log_format.mapping is not None else None)
    columns = column_map(mapping) if mapping is not None else ColumnMap()
    given: dict[str, Any] = {
        "case_id": log_format.case_column,
        "activity": log_format.activity_column,
        "timestamp": log_format.timestamp_column,
        "resource": log_format.resource_column,
    }
    columns = replace(columns, **{k: v for k, v in given.items() if v is not None})
    if log_format.on_bad_rows not in BAD_ROWS:
        raise InputError("options", [Problem("--on-bad-rows", "one of " + ", ".join(BAD_ROWS),
                                             repr(log_format.on_bad_rows))])
    settings = (load_log_settings(log_format.settings_file)
                if log_format.settings_file is not None else None)
    formats: str | tuple[str, ...] | None = log_format.timestamp_format
    if isinstance(formats, list):
        formats = tuple(formats)
    for layer in (mapping, settings):
        if formats is None and layer is not None and layer.timestamp_formats is not None:
            formats = layer.timestamp_formats or "auto"

    def either(option: Any, from_mapping: Any) -> Any:
        """The command line's value, else the mapping file's, else the settings file's."""
        return option if option is not None else from_mapping

    return ReadOptions(
        columns=columns,
        activity_map=dict(mapping.activities) if mapping is not None else {},
        vocabulary=known,
        attributes=attributes,
        categories=procedure.categories,
        timestamp_format=formats,
        delimiter=either(log_format.delimiter, either(mapping.delimiter if mapping else None,
                                                      settings.delimiter if settings else None)),
        encoding=either(log_format.encoding, either(mapping.encoding if mapping else None,
                                                    settings.encoding if settings else None)),
        as_of=None if as_of is None else as_of.to_pydatetime(),
        date_order=either(log_format.date_order, either(
            mapping.date_order if mapping else None, settings.date_order if settings else None))
        or "auto",
        sheet=either(log_format.sheet, either(mapping.sheet if mapping else None,
                                              settings.sheet if settings else None)),
        ignore=mapping.ignore if mapping is not None else (),
        value_maps=dict(mapping.values) if mapping is not None else {},
        on_bad_rows=log_format.on_bad_rows,
        as_of_reason="given with --as-of or in the settings file" if as_of is not None else "",
        mapping=mapping,
        limits=log_format.limits,
    )


def check(
    log: Path | str | EventLog,
    *,
    mapping: Path | str | None = None,
    config: CheckConfig | Path | str | None = None,
    procedure: Path | str | None = None,
    rules_files: Sequence[Path | str] = (),
    contract_rules: bool = True,
    log_format: LogFormat | None = None,
    as_of: str | None = None,
    fitness: str = "auto",
    progress: CheckProgress | None = None,
    fitness_budget: FitnessBudget = FitnessBudget(),  # frozen: safe to share
) -> CheckReport:
    """Check an event log against the procedure's rules and model: the package's front door.

    Parameters
    ----------
    log
        The log: a file (CSV, Parquet or XES; in the contract's schema, or as ``mapping`` or
        ``log_format`` describe it), or an ``EventLog`` already read (``read_log``,
        ``log_from_frame``).
    mapping
        A mapping file (YAML) naming the log's columns and local activity names
        (``load_mapping``): a shorthand for ``log_format=LogFormat(mapping=...)``.
    config
        The check's settings: a ``CheckConfig``, or a TOML file that ``load_check_config``
        reads (None: the defaults).
    procedure
        A procedure file (None: the built-in procedure 1.4.9).
    rules_files
        Local rules files, judged like the procedure's rules (which are left out when
        ``contract_rules`` is False).
    contract_rules
        Whether the procedure's own rules are judged.
    log_format
        How the log's file is laid out (``LogFormat``) when it is not the contract's schema.
    as_of
        When the log was extracted (ISO 8601 text, as on the command line); overrides the
        configuration's.
    fitness
        How control-flow fitness is measured: one of ``FITNESS_METHODS``.
    progress
        Told each stage, and how far fitness has got (for a progress bar).
    fitness_budget
        How many distinct variants may be aligned, and for how long (``FitnessBudget``).

    Returns
    -------
    CheckReport
        The log, the judgement of every rule on every case and the control-flow fitness;
        every output (terminal summary, JSON, CSV, HTML, the audit report) is built from it.

    Raises
    ------
    model.errors.InputError
        When an input (the log, the procedure, a rules, mapping or configuration file, an
        ``as_of`` that is not a time) cannot be used, naming every problem.

    Examples
    --------
    >>> import conformance
    >>> report = conformance.check(conformance.sample_log_path(), as_of="2024-12-31T12:00",
    ...                            fitness="none")
    >>> report.judgement.cases, report.judgement.events
    (271, 2528)
    >>> print(report.summary.loc[:1, ["rule_id", "satisfied", "violated"]].to_string(index=False))
                                  rule_id  satisfied  violated
               escalated-same-working-day         14         3
    line-manager-bypassed-when-implicated          3         0
    >>> len(report.deviations), report.exit_status  # 1: a rule of severity violation broken
    (43, 1)
    """
    if fitness not in FITNESS_METHODS:
        raise ValueError(f"fitness must be one of {', '.join(FITNESS_METHODS)}; got {fitness!r}")
    layout = log_format if log_format is not None else LogFormat()
    if mapping is not None:
        if layout.mapping is not None:
            raise ValueError("give the mapping file once: mapping= or log_format.mapping")
        layout = replace(layout, mapping=Path(mapping))
    if (config is not None and not isinstance(config, CheckConfig)
            and layout.settings_file is None and not isinstance(log, EventLog)):
        layout = replace(layout, settings_file=Path(config))
    if isinstance(log, EventLog) and layout != LogFormat():
        raise ValueError("mapping and log_format describe a file to read; this log is read")
    loaded = load_procedure(procedure)
    rules, vocabulary = rules_to_judge(loaded, rules_files, contract_rules=contract_rules)
    if config is None:
        settings = CheckConfig()
    elif isinstance(config, CheckConfig):
        settings = config
    else:
        settings = load_check_config(config)
    if as_of is not None:
        settings = config_with_overrides(settings, as_of=as_of)
    if isinstance(log, EventLog):
        read = log
    else:
        options = read_options(loaded, layout, vocabulary=vocabulary, as_of=settings.as_of)
        if progress is not None:
            progress.stage("reading the log")
        read = read_log(Path(log), options)
    not_judged: dict[str, str] = {}
    if read.census is not None:
        rules, not_judged = census_rules(rules)
        if not rules:
            raise InputError(read.source, [Problem(
                Path(read.source).name, "a rule whose steps a Children in Need census records",
                "none among the rules to judge: " + "; ".join(
                    f"{r}: {why}" for r, why in not_judged.items()))])
    if progress is not None:
        progress.stage("judging the rules")
    judgement = judge(read, rules, settings)
    _enough_evidence(read, judgement, contract_rules)
    if progress is not None:
        progress.stage("control-flow fitness")
    result, note = _fitness(fitness, read, loaded, progress, fitness_budget)
    described = _settings(procedure, rules_files, contract_rules, layout, settings, fitness)
    return CheckReport(read, judgement, result, note, described, not_judged=not_judged)


MAPPED_SHARE_NEEDED: Final = 0.5
"""Under this share of events named as the procedure's (or the rules') activities, a check stops:
its figures would rest on a log that is mostly something else."""


def _enough_evidence(log: EventLog, judgement: Judgement, contract_rules: bool) -> None:
    """Stop (``InputError``, exit status 2) when the log cannot support a verdict: under half of
    its events are named as activities the procedure or the rules know, or no rule was judged
    (satisfied, violated or pending) on any case."""
    events = len(log.events)
    if log.coverage is None or events == 0:
        return
    name = Path(log.source).name
    how = ("map its local step names onto the procedure's activities with a mapping file "
           "(--mapping FILE: 'activities:' for the steps of the procedure, 'ignore:' for the "
           "others; docs/logs.md), or, if it records another process, judge it with rules of "
           "your own: --no-contract-rules --rules FILE.yaml")
    mapped = log.coverage.mapped
    if mapped < MAPPED_SHARE_NEEDED * events:
        others = ", ".join(f"{a!r} ({c:,})" for a, c in list(log.unknown_activities.items())[:8])
        more = (f", ... ({len(log.unknown_activities):,} names)"
                if len(log.unknown_activities) > 8 else "")
        share = f"{100 * mapped / events:.0f}%" if mapped else "none"
        raise InputError(log.source, [Problem(
            name,
            "at least half of the events named as the procedure's activities, or mapped onto "
            "them, before its figures can mean anything",
            f"{share} of the log's events ({mapped:,} of {events:,}) have such a name; the most "
            f"common other names are {others}{more}. To judge it, {how}")],
            summary=f"{log.source}: not judged: the log's activities are mostly not the "
                    "procedure's")
    summary = judgement.summary()
    judged = summary["satisfied"] + summary["violated"] + summary["pending"]
    if int(judged.sum()) == 0:
        raise InputError(log.source, [Problem(
            name, "at least one rule that applies to at least one case",
            f"no rule applies to any of its {len(log.cases):,} cases (every judgement is not "
            f"applicable or not assessable): the figures would say nothing. To judge it, {how}")],
            summary=f"{log.source}: not judged: no rule could be judged on any case")


def _fitness(method: str, log: EventLog, procedure: Procedure, progress: CheckProgress | None,
             budget: FitnessBudget) -> tuple[FitnessResult | None, str]:
    """The fitness result (None when not computed) and, then, why not."""
    from conformance.fitness import fitness

    if method == "none":
        return None, "switched off with --fitness none"
    if log.events.empty:
        return None, "the log has no events"
    in_flow = {task.activity for task in procedure.tasks()}
    if method == "auto" and not log.events["activity"].isin(in_flow).any():
        return None, "no event of the log is a step of the model"
    return fitness(log, procedure, method,
                   max_alignment_variants=budget.max_aligned_variants,
                   alignment_seconds=budget.alignment_seconds,
                   progress=None if progress is None else progress.variants), ""


def _settings(procedure: Path | str | None, rules_files: Sequence[Path | str],
              contract_rules: bool, log_format: LogFormat, config: CheckConfig, fitness: str
              ) -> dict[str, str]:
    """The settings that shaped the check, for the report's reader (file names, not paths)."""
    cal = config.calendar
    names = [Path(p).name for p in rules_files]
    rules = "the procedure's" if contract_rules else ""
    if names and contract_rules:
        rules += " + "
    settings = {
        "procedure": Path(procedure).name if procedure else BUILT_IN_PROCEDURE,
        "rules": rules + ", ".join(names),
        "close of business": cal.close_of_business.strftime("%H:%M"),
        "the same day": str(cal.same_day),
        "day counting": str(cal.day_counting),
        "bank holidays": "working days" if not cal.bank_holidays else "closed",
        "extra closures": ", ".join(d.isoformat() for d in cal.extra_closures) or "none",
        "immediately": _duration(cal.immediately.total_seconds()),
        "ICPC clock": config.icpc_clock,
        **({"trigger occurrences": "; ".join(f"{rule}: {occurrence}" for rule, occurrence
                                             in sorted(config.trigger_occurrences.items()))}
           if config.trigger_occurrences else {}),
        "control-flow fitness": fitness,
    }
    if log_format.mapping is not None:
        settings["mapping"] = Path(log_format.mapping).name
    return settings


def _duration(seconds: float) -> str:
    whole = int(seconds)
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if whole % size == 0:
            n = whole // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"
