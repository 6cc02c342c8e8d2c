"""Reading the report's inputs: CSV or parquet tables and the schema file that maps their
columns (for instance Chinese column names) onto retailcrm's roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from retailcrm.data import (
    CustomerSchema,
    EventSchema,
    ResponseSchema,
    SpendSchema,
    SurveySchema,
    TransactionSchema,
)
from retailcrm.exceptions import ConfigError, InvalidDataError, RetailCRMError

__all__ = ["SCHEMA_KEYS", "Schemas", "read_schemas", "read_table"]

#: The schema file's top-level keys and the schema class each one is read into.
SCHEMA_KEYS: dict[str, type[Any]] = {
    "transactions": TransactionSchema,
    "customers": CustomerSchema,
    "responses": ResponseSchema,
    "survey": SurveySchema,
    "spend": SpendSchema,
    "events": EventSchema,
}

_ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (with or without Excel's BOM), then GBK files


@attrs.frozen(kw_only=True)
class Schemas:
    """One schema per input table; a table without a section uses the schema's defaults."""

    transactions: TransactionSchema = attrs.field(factory=TransactionSchema)
    customers: CustomerSchema = attrs.field(factory=CustomerSchema)
    responses: ResponseSchema = attrs.field(factory=ResponseSchema)
    survey: SurveySchema = attrs.field(factory=SurveySchema)
    spend: SpendSchema = attrs.field(factory=SpendSchema)
    events: EventSchema = attrs.field(factory=EventSchema)

    def to_dict(self) -> dict[str, Any]:
        """The schema file's content as a plain dict (see :meth:`from_dict`)."""
        return {key: getattr(self, key).to_dict() for key in SCHEMA_KEYS}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "schema") -> Schemas:
        """Read ``{"transactions": {...}, "customers": {...}, ...}``; every problem is a
        :class:`~retailcrm.exceptions.ConfigError` naming the section."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(
                f"{source}: expected a mapping of table name to column mapping, got "
                f"{type(data).__name__}. Fix: write sections such as 'transactions:' with "
                "'customer_id: 客户编号' lines under them."
            )
        unknown = sorted(str(k) for k in set(data) - set(SCHEMA_KEYS))
        if unknown:
            raise ConfigError(
                f"{source}: unknown section(s) {unknown}. Known sections: {list(SCHEMA_KEYS)}."
            )
        built = {}
        for key, value in data.items():
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{source}: section {key!r} must map roles to column names, got "
                    f"{value!r}. Fix: e.g. '{key}:' then '  customer_id: 客户编号'."
                )
            try:
                built[key] = SCHEMA_KEYS[key].from_dict(dict(value))
            except TypeError as exc:  # a bad value type reaching the attrs class
                raise ConfigError(f"{source}: section {key!r}: {exc}") from None
            except ConfigError as exc:
                raise ConfigError(f"{source}: section {key!r}: {exc}") from None
        return cls(**built)


def read_schemas(path: str | Path) -> Schemas:
    """Read a YAML (or JSON) schema file into :class:`Schemas`."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidDataError(
            f"--schema {path}: cannot read the file ({exc.strerror or exc}). Fix: pass the "
            "path of an existing YAML file."
        ) from None
    try:
        import yaml
    except ImportError:  # pragma: no cover - pyyaml is a dependency of the report
        raise ConfigError(
            "reading --schema needs PyYAML. Fix: pip install pyyaml (or retailcrm[report])."
        ) from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InvalidDataError(
            f"--schema {path}: not valid YAML{line} ({getattr(exc, 'problem', exc)}). Fix: "
            "check the indentation and colons of that line."
        ) from None
    return Schemas.from_dict(data, source=f"--schema {path}")


def read_table(path: str | Path, *, option: str, text_columns: tuple[str, ...] = ()) -> Any:
    """Read a CSV or parquet file into a pandas DataFrame.

    ``text_columns`` (keys such as the customer id) are read as text from CSV, so ids like
    ``007`` keep their zeros and match across files. CSV is read as UTF-8 (an Excel byte-order
    mark is fine) or, failing that, as GB18030 (files saved by Chinese Excel).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InvalidDataError(
            f"{option} {path}: no such file. Fix: pass the path of a CSV or parquet file."
        )
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt", ".tsv", ".csv.gz", ".tsv.gz"):
            sep = "\t" if ".tsv" in suffix else ","
            dtype = dict.fromkeys(text_columns, "string")
            for encoding in _ENCODINGS:
                try:
                    return pd.read_csv(path, sep=sep, dtype=dtype, encoding=encoding)
                except UnicodeDecodeError:
                    continue
            raise InvalidDataError(
                f"{option} {path}: the file is neither UTF-8 nor GB18030 text. Fix: save it as "
                "UTF-8 CSV."
            )
    except RetailCRMError:
        raise
    except (ValueError, OSError, ImportError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidDataError(
            f"{option} {path}: cannot read the file ({first}). Fix: pass a readable CSV "
            "(comma-separated, header row) or parquet file."
        ) from None
    raise InvalidDataError(
        f"{option} {path}: unknown file type {path.suffix!r}. Fix: pass a .csv or .parquet file."
    )
