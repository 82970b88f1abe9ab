"""Text columns: one dtype, ``TEXT``, under pandas 2.3 and 3 (``as_text``), and text with
surrounding spaces removed (``stripped_text``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionArray

__all__ = ["TEXT", "as_text", "stripped_text"]


TEXT: Final = pd.StringDtype(na_value=np.nan)
"""The dtype of every column of text: pandas' ``str`` (pandas 3's default), where a missing
value stays missing (NaN). It is named rather than written ``dtype="str"`` or ``astype(str)``
because under pandas 2.3 those mean NumPy strings, which turn a missing value into the text
'None' or 'nan'; named, it is the same dtype under pandas 2.3 and 3."""


def as_text(
    values: pd.Series | pd.Index | ExtensionArray | npt.NDArray[Any] | Sequence[object],
) -> pd.Series:
    """``values`` as a column of text (``TEXT``): missing values (None, NaN, NA) stay missing,
    other values become their text.

    >>> as_text(["a", None, 12]).tolist()
    ['a', nan, '12']
    """
    if isinstance(values, pd.Series):
        return values if values.dtype == TEXT else values.astype(TEXT)
    return pd.Series(values, dtype=TEXT)


def stripped_text(values: pd.Series) -> pd.Series:
    """Values as text with surrounding spaces removed; missing becomes ''."""
    return as_text(values).fillna("").str.strip()
