"""The calibrated scenario as a file: every number with its sample size and uncertainty in a
comment beside it, the calibration's notes at the top and the ledger at the end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from simulation.calibration.estimate import Estimator, inline, leaf_keys
from simulation.calibration.ledger import Entry, field_key, ledger_toml, toml_key, toml_value

__all__ = ["scenario_text"]


_SECTION_ORDER: Final = ("scenario", "calendar", "routes", "roles", "tasks", "loops", "slips")


def _comment(entry: Entry | None) -> str:
    if entry is None:
        return ""
    if entry.kind == "estimated":
        text = "estimated"
        if entry.n is not None:
            text += f", n = {entry.n:,}"
        if entry.interval is not None:
            low, high = entry.interval
            text += f", 95% interval {low:g}-{high:g}" if low != high else ""
        if entry.note and entry.note.startswith("mean "):
            text += f"; {entry.note.split(';')[0]}"
        return "# " + text
    if entry.kind == "published":
        return "# published: " + entry.source
    return "# assumption" + (": " + entry.source if entry.source and not entry.source.startswith(
        "as in the base scenario") else " (as in the base scenario)")


def scenario_text(est: Estimator) -> str:
    entries = est.entries
    lines = [
        f"# A scenario calibrated from {est.source} by `lscb calibrate`.",
        "#",
        "# Every number estimated from the log has its sample size and uncertainty in a comment",
        "# beside it; every other number is the base scenario's, marked as an assumption. The",
        "# ledger at the end says where each field comes from (docs/scenario.md).",
    ]
    for note in est.notes:
        lines.append("#")
        lines.extend(_wrap("# - " + note, "#   "))
    lines.append("")

    def entry_for(keys: tuple[str, ...]) -> Entry | None:
        key = field_key(keys)
        found = entries.get(key)
        if found is not None:
            return found
        for length in range(len(keys) - 1, 0, -1):
            found = entries.get(field_key(keys[:length]))
            if found is not None:
                return found
        return None

    def write_table(keys: tuple[str, ...], table: Mapping[str, Any], header: str) -> None:
        simple = [(k, v) for k, v in table.items()
                  if not (isinstance(v, Mapping) and not inline((*keys, k), v))
                  and not (isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v))]
        if simple or all(not isinstance(v, (Mapping, list)) for v in table.values()):
            lines.append(header)
        for k, v in simple:
            here = (*keys, k)
            line = f"{toml_key(k)} = {toml_value(v)}"
            comment = _comment(entry_for(here))
            lines.append(f"{line}   {comment}" if comment else line)
        if simple:
            lines.append("")
        for k, v in table.items():
            here = (*keys, k)
            if isinstance(v, Mapping) and not inline(here, v):
                write_table(here, v, "[" + ".".join(toml_key(x) for x in here) + "]")
        for k, v in table.items():
            here = (*keys, k)
            if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
                comment = _comment(entry_for(here))
                if comment:
                    lines.append(comment)
                for item in v:
                    lines.append("[[" + ".".join(toml_key(x) for x in here) + "]]")
                    for ik, iv in item.items():
                        lines.append(f"{toml_key(ik)} = {toml_value(iv)}")
                    lines.append("")

    data = est.data
    for section in _SECTION_ORDER:
        body = data.get(section)
        if not isinstance(body, Mapping):
            continue
        if section in ("routes", "roles", "tasks"):
            for name, sub in body.items():
                if isinstance(sub, Mapping):
                    write_table((section, name), sub, f"[{section}.{toml_key(name)}]")
        else:
            write_table((section,), body, f"[{section}]")
    lines.append("# " + "-" * 77 + " ledger")
    lines.append("")
    ordered = [entries[k] for k in sorted(entries, key=_ledger_order(data))]
    return "\n".join(lines) + "\n" + ledger_toml(ordered)


def _ledger_order(data: Mapping[str, Any]) -> Any:
    position = {field_key(k): i for i, k in enumerate(leaf_keys(data))}

    def key(field: str) -> tuple[int, str]:
        if field in position:
            return position[field], field
        best = min((i for f, i in position.items() if f.startswith(field + ".")),
                   default=len(position))
        return best, field

    return key


def _wrap(text: str, indent: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, subsequent_indent=indent) or [text]

