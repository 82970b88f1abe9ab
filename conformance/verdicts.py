"""What judged a case's control-flow fitness and the verdict it gave, shared by
:mod:`conformance.fitness` and :mod:`conformance.pm4py_bridge`: the method, the verdict of a
distinct variant and its deviations in words."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = ["NOT_MEASURED", "Method", "Verdict", "describe"]


class Method(enum.StrEnum):
    ALIGNMENTS = "alignments"
    TOKEN_REPLAY = "token-replay"
    AUTO = "auto"
    REPLAY = "replay"  # exact replay: what AUTO uses for the variants that fit


@dataclass(frozen=True)
class Verdict:
    fitness: float
    is_fit: bool
    deviations: str
    method: Method


def describe(missing: Iterable[str], unexpected: Iterable[str], labels: set[str],
              *, unexpected_word: str = "unexpected") -> str:
    """'missing: A; unexpected: B; out of order: C' (a step both missing and unexpected)."""
    miss = Counter(sorted(missing))
    extra = Counter(sorted(unexpected))
    swapped = sorted(a for a in miss if a in extra)

    def names(counter: Counter[str], mark_outside: bool) -> str:
        out = []
        for name, n in counter.items():
            if name in swapped:
                continue
            text = name if n == 1 else f"{name} (×{n})"
            if mark_outside and name not in labels:
                text += " (not in the model)"
            out.append(text)
        return ", ".join(out)

    parts = []
    if text := names(miss, False):
        parts.append(f"missing: {text}")
    if text := names(extra, True):
        parts.append(f"{unexpected_word}: {text}")
    if swapped:
        parts.append("out of order: " + ", ".join(swapped))
    return "; ".join(parts)


NOT_MEASURED: Final = Verdict(
    float("nan"), False, "does not fit the model (not explained: the time budget ran out)",
    Method.REPLAY)
