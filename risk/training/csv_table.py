"""Reading a lender's own historical table for `train_model --from-csv`: any columns, numbers
or text, gaps anywhere, and a target named by the lender with the value that means "bad"."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .crossval import FOLDS

# Each class needs this many rows: 5 folds, each fold's model holding some back for early
# stopping (on a small table: its training rows split again into 3 inner folds), and a 20 %
# held-out split that must contain both classes.
MIN_ROWS_PER_CLASS = 2 * FOLDS
# XGBoost refuses these characters in feature names.
_NAME_FORBIDDEN = {"[": "(", "]": ")", "<": "lt"}


class TableError(ValueError):
    """The table cannot be trained on; the message says why, for the person who supplied it."""


@dataclass
class CreditTable:
    features: pd.DataFrame
    y: np.ndarray
    target: str
    bad_value: str
    dropped_identifiers: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    rows_without_target: int = 0

    def columns(self) -> list[dict]:
        """Each feature column as the model reads it: numbers, or text with its categories
        (their order is the code XGBoost learned)."""
        described = []
        for name in self.features.columns:
            column = self.features[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                described.append({"name": name, "kind": "text",
                                  "categories": [str(c) for c in column.cat.categories]})
            else:
                described.append({"name": name, "kind": "number"})
        return described

    def summary(self) -> dict:
        bads = int(self.y.sum())
        return {
            "source": "csv", "rows": int(len(self.y)), "bads": bads,
            "bad_rate": bads / len(self.y), "target": self.target, "bad_value": self.bad_value,
            "columns": self.columns(), "dropped_identifiers": self.dropped_identifiers,
            "renamed_columns": self.renamed, "rows_without_target": self.rows_without_target,
        }


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise TableError(f"No such file: {path}.")
    if not path.read_bytes().strip():
        raise TableError(f"{path} is empty.")
    try:
        # Everything as text first: each column's type is decided below from its values, and
        # the target is compared as the lender wrote it ("1" stays "1", not 1.0).
        return pd.read_csv(path, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TableError(f"{path} could not be read as a CSV table: {exc}") from None


def _typed(column: pd.Series) -> pd.Series:
    """A column of numbers if every value present reads as one, else text categories."""
    stripped = column.str.strip().replace("", np.nan)
    numbers = pd.to_numeric(stripped, errors="coerce")
    if numbers.notna().sum() == stripped.notna().sum():
        return numbers.astype(np.float64)
    return stripped.astype("category")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_credit_table(path, *, target: str, bad_value: str) -> CreditTable:
    path = Path(path)
    frame = _read(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise TableError(f"{path} has a header but no rows.")
    if target not in frame.columns:
        raise TableError(f"No column named {target!r}. The columns are: "
                         f"{', '.join(frame.columns)}.")
    if len(frame.columns) == 1:
        raise TableError(f"{target!r} is the only column: there is nothing to predict it from.")

    outcome = frame.pop(target).str.strip()
    known = outcome.notna() & (outcome != "")
    bad_value = str(bad_value).strip()
    values = sorted(outcome[known].unique())
    if len(values) == 1:
        raise TableError(f"Every row has {target} = {values[0]!r}: a model needs both goods "
                         "and bads.")
    frame, outcome = frame[known.to_numpy()].reset_index(drop=True), outcome[known]
    is_bad = outcome == bad_value
    if not is_bad.any():
        # A numeric outcome written as 1.0/0.0 (a column with gaps, saved by pandas) still
        # matches --bad-value 1.
        numbers, wanted = pd.to_numeric(outcome, errors="coerce"), _number(bad_value)
        if wanted is not None and numbers.notna().all():
            is_bad = numbers == wanted
    if not is_bad.any():
        shown = ", ".join(repr(v) for v in values[:10]) + (" ..." if len(values) > 10 else "")
        raise TableError(f"No row has {target} = {bad_value!r}. Its values are: {shown}.")
    y = is_bad.to_numpy().astype(np.int64)
    bads, goods = int(y.sum()), int(len(y) - y.sum())
    if min(bads, goods) < MIN_ROWS_PER_CLASS:
        raise TableError(f"Too few rows for {FOLDS}-fold cross-validation: {bads} bad and "
                         f"{goods} good; at least {MIN_ROWS_PER_CLASS} of each are needed.")

    features = pd.DataFrame({name: _typed(frame[name]) for name in frame.columns})
    # A text column with a different value on every row is an identifier (a customer or
    # application number): it can only memorise rows, never generalise.
    identifiers = [name for name in features.columns
                   if isinstance(features[name].dtype, pd.CategoricalDtype)
                   and features[name].notna().all() and features[name].nunique() == len(y)]
    features = features.drop(columns=identifiers)
    if features.columns.empty:
        raise TableError(f"No column is left to predict {target!r} from once identifiers "
                         f"({', '.join(identifiers)}) are dropped.")
    renamed = {}
    for name in features.columns:
        safe = name
        for forbidden, replacement in _NAME_FORBIDDEN.items():
            safe = safe.replace(forbidden, replacement)
        if safe != name:
            renamed[name] = safe
    features = features.rename(columns=renamed)
    return CreditTable(features=features, y=y, target=target, bad_value=bad_value,
                       dropped_identifiers=identifiers, renamed=renamed,
                       rows_without_target=int((~known).sum()))
