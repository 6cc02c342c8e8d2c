"""The layering of ``../shared/ARCHITECTURE.md``, checked on the source with :mod:`ast`.

Rules (a module's *package* is the first name under ``retailcrm``: ``models`` for
``retailcrm.models._bgnbd``; a top-level module such as ``_engine`` or ``cli`` is its own):

1. The analysis packages (``segmentation``, ``lifecycle``, ``loyalty``, ``metrics``, ``models``)
   never import each other, not even public names: a module that needs another's result takes
   it as an argument. The rule covers the packages that do not exist yet.
2. Any module may import

   * modules of its own package, private or not;
   * public names of ``retailcrm.data``, ``retailcrm.features`` and ``retailcrm.rules``: names in
     the ``__all__`` of the package ``__init__``, imported from the package itself;
   * the foundation: ``retailcrm.exceptions``, ``retailcrm._version`` and the shared internal
     modules ``retailcrm._engine``, ``retailcrm._dates``, ``retailcrm._clock``,
     ``retailcrm._params`` (any name that is not private);
   * the names of other packages' private modules listed in :data:`BLESSED_PRIVATE_IMPORTS`.

   Nothing else: no private module of another package outside that list, no private name at
   all, no analysis package from ``data``, ``features``, ``rules`` or ``plotting``.
3. One direction of flow: the foundation imports only the foundation, and ``data`` imports
   neither ``features`` nor ``rules``.
4. ``cli.py`` may import anything public (any package's ``__all__``) and the foundation.

Every import counts: top level, inside functions, under ``TYPE_CHECKING``, relative
(``from ..models import x``), and ``importlib.import_module("retailcrm....")`` with a literal.
"""

from __future__ import annotations

import ast
import shutil
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from helpers import REPO_ROOT

PENDING = "pending: the internal-layer refactor removes this"

# The one allow-list: the names of *another* package's private modules that a module may
# import, each with why. They are the internal layer that ARCHITECTURE.md ("The internal layer")
# names, the cores the analysis modules stand on. A reason starting with PENDING marks an import
# that breaks the layering today and that the internal-layer refactor replaces. Every entry must
# exist and be imported by another package (test_every_blessed_name_exists_and_is_used), so the
# list is exactly today's crossings: a core that becomes shared gets an entry and a reason; an
# entry whose last user goes is deleted.
BLESSED_PRIVATE_IMPORTS: dict[str, dict[str, str]] = {
    # data: "PreparedTransactions (validated once, cut at any number of dates), and the schemas
    # and validation of every input table"
    "retailcrm.data._prepare": {
        "PreparedTransactions": "internal layer: transactions validated once",
        "prepare_transactions": "internal layer: builds PreparedTransactions",
        "Duplicates": "internal layer: the duplicate-lines policy every reader takes",
        "check_duplicates": "internal layer: that policy's parameter check",
    },
    "retailcrm.data._tables": {
        "prepare_customers": "internal layer: the customers table, validated",
        "prepare_events": "internal layer: the behaviour events table, validated",
        "prepare_responses": "internal layer: the campaign responses table, validated",
        "prepare_spend": "internal layer: the marketing spend table, validated (metrics: CAC)",
        "same_engine_frame": "internal layer: a side table (segment labels) joinable with tx",
    },
    # features: "the only place lines become purchase occasions (per order for the feature table,
    # per day for the BTYD summary) ...; the feature table and the BTYD summary are built there"
    "retailcrm.features._occasions": {
        "purchase_occasions": "internal layer: lines to occasions, per order",
        "purchase_days": "internal layer: lines to occasions, per customer-day",
        "OCCASION_READS": "internal layer: the optional roles occasions read (reads=)",
    },
    "retailcrm.features._customer": {
        "customer_table": "internal layer: the feature-table core",
        "feature_needs": "internal layer: the feature-table work a set of columns needs",
        "FeatureNeeds": "internal layer: the feature-table work a set of columns needs",
        "laid_out_by_customer": "internal layer: lines laid out once for many feature tables",
        "laid_out_history": "internal layer: what many tables read of them, computed once",
        "BacktestHistory": "internal layer: what many tables read of them, computed once",
        "lines_dropped": "internal layer: a backtest that needs no line keeps none",
        "feature_reads": "internal layer: the optional roles the feature table reads (reads=)",
    },
    "retailcrm.features._btyd": {
        "btyd_table": "internal layer: the BTYD-summary core",
        "TIME_UNIT_DAYS": "internal layer: the summary's time units, shared by the models",
        "TimeUnit": "internal layer: the summary's time units, shared by the models",
        "check_time_unit": "internal layer: the summary's time units, shared by the models",
        "check_ends": "internal layer: the summary's period ends, shared by the models",
    },
}

ANALYSIS = frozenset({"segmentation", "lifecycle", "loyalty", "metrics", "models"})
BASES = frozenset({"data", "features", "rules"})
FOUNDATION = frozenset({"exceptions", "_version", "_engine", "_dates", "_clock", "_params"})
UPSTREAM = {"data": frozenset({"features", "rules"})}  # package: what it must not import

SRC = REPO_ROOT / "src" / "retailcrm"


# ----------------------------------------------------------------------------------------------
# The checker
# ----------------------------------------------------------------------------------------------
def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(root: Path, dotted: str) -> bool:
    path = root.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _package(dotted: str) -> str:
    """``models`` for ``retailcrm.models._bgnbd``; ``""`` for ``retailcrm`` itself."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _public_names(root: Path, package: str) -> frozenset[str]:
    """The literal ``__all__`` of a package's ``__init__.py`` (empty when there is none)."""
    init = root.parent.joinpath(*package.split("."), "__init__.py")
    if not init.is_file():
        return frozenset()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def _imports(root: Path, path: Path) -> Iterator[tuple[int, str, str | None]]:
    """Every ``(line, module, name)`` that ``path`` imports from retailcrm; ``name`` is None
    when a whole module is imported."""
    module = _module_name(root, path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        found: list[tuple[str, str | None]] = []
        if isinstance(node, ast.Import):
            found = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                if _is_module(root, f"{base}.{alias.name}"):
                    found.append((f"{base}.{alias.name}", None))
                else:
                    found.append((base, alias.name))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found = [(node.args[0].value, None)]
        for target, name in found:
            if target == "retailcrm" or target.startswith("retailcrm."):
                yield node.lineno, target, name


def _problem(
    root: Path,
    importer: str,
    target: str,
    name: str | None,
    blessed: Mapping[str, Mapping[str, str]],
) -> str | None:
    """Why ``importer`` may not import ``name`` from ``target`` (None when it may)."""
    mine, theirs = _package(importer), _package(target)
    what = target if name is None else f"{target}.{name}"
    if mine and mine == theirs:
        return None
    if mine in ANALYSIS and theirs in ANALYSIS:
        return (
            f"analysis packages never import each other ({mine} imports {what}); "
            "take the other's result as an argument"
        )
    if mine in FOUNDATION and theirs not in FOUNDATION:
        return f"the foundation imports only the foundation ({mine} imports {what})"
    if theirs in UPSTREAM.get(mine, ()):
        return f"{mine} is upstream of {theirs} and may not import it ({what})"
    if name is not None and _is_private(name):
        return f"{what} is a private name"
    if theirs in FOUNDATION:
        return None
    is_package = target.count(".") <= 1
    # rule 4: the application layer, cli.py and the private `_report` package behind its
    # `report` command (too large for one module), composes the public analysis packages
    if is_package and (theirs in BASES or importer == "retailcrm.cli" or mine == "_report"):
        if name is None or name == "*" or name in _public_names(root, target):
            return None
        return f"{name!r} is not a public name of {target} (not in its __all__)"
    if name is not None and name in blessed.get(target, {}):
        return None
    if target in blessed and name is None:
        return f"{what} is a private module of another package: import its blessed names"
    if target in blessed:
        return f"{what} is not in BLESSED_PRIVATE_IMPORTS"
    if any(_is_private(part) for part in target.split(".")):
        return f"{what} is in a private module of another package, not in BLESSED_PRIVATE_IMPORTS"
    return f"{mine or 'retailcrm'} may not import {what} (only data, features, rules and the foundation)"


def layering_violations(
    root: Path, blessed: Mapping[str, Mapping[str, str]] = BLESSED_PRIVATE_IMPORTS
) -> list[str]:
    """Every import under the package directory ``root`` that breaks the rules, as
    ``path:line: why``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        importer = _module_name(root, path)
        for line, target, name in _imports(root, path):
            why = _problem(root, importer, target, name, blessed)
            if why is not None:
                out.append(f"{path.relative_to(root.parent).as_posix()}:{line}: {why}")
    return out


def _top_level_names(path: Path) -> set[str]:
    """The names a module binds at its top level."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    """A fake ``retailcrm`` package under ``tmp_path`` (every folder gets an ``__init__.py``)."""
    root = tmp_path / "retailcrm"
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for folder in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return root


FAKE = {
    "retailcrm/data/__init__.py": '__all__ = ["TransactionSchema", "validate_transactions"]\n',
    "retailcrm/data/_prepare.py": "PreparedTransactions = 1\n_private_thing = 2\n",
    "retailcrm/data/_report.py": "ValidationReport = 1\n",
    "retailcrm/features/__init__.py": '__all__ = ["customer_features"]\n',
    "retailcrm/features/_customer.py": "customer_features = customer_table = 1\n",
    "retailcrm/features/_occasions.py": "purchase_occasions = 1\n",
    "retailcrm/models/__init__.py": '__all__ = ["BetaGeoModel"]\n',
    "retailcrm/models/_bgnbd.py": "BetaGeoModel = 1\n",
    "retailcrm/lifecycle/__init__.py": '__all__ = ["y"]\ny = 1\n',
    "retailcrm/_engine.py": "lazy_frame = 1\n_hidden = 2\n",
}


# ----------------------------------------------------------------------------------------------
# The library
# ----------------------------------------------------------------------------------------------
def test_the_source_follows_the_layering() -> None:
    assert layering_violations(SRC) == []


def test_every_blessed_name_exists_and_is_used() -> None:
    """The allow-list names real things and shrinks as the refactor lands: an entry nothing
    imports any more is deleted."""
    used = {
        (target, name)
        for path in SRC.rglob("*.py")
        for _, target, name in _imports(SRC, path)
        if _package(target) != _package(_module_name(SRC, path))
    }
    problems = []
    for module, names in BLESSED_PRIVATE_IMPORTS.items():
        path = SRC.parent.joinpath(*module.split(".")).with_suffix(".py")
        defined = _top_level_names(path) if path.is_file() else set()
        for name in names:
            if name not in defined:
                problems.append(f"{module}.{name} is not defined")
            elif (module, name) not in used:
                problems.append(f"{module}.{name} is imported by no other package: delete it")
    assert problems == []


# ----------------------------------------------------------------------------------------------
# The checker catches what it should
# ----------------------------------------------------------------------------------------------
def test_a_cross_import_between_analysis_packages_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            **FAKE,
            "retailcrm/segmentation/_x.py": """\
                import retailcrm.models._bgnbd
                from retailcrm.lifecycle import y
                from retailcrm.data import TransactionSchema
            """,
        },
    )
    assert layering_violations(root) == [
        "retailcrm/segmentation/_x.py:1: analysis packages never import each other "
        "(segmentation imports retailcrm.models._bgnbd); take the other's result as an argument",
        "retailcrm/segmentation/_x.py:2: analysis packages never import each other "
        "(segmentation imports retailcrm.lifecycle.y); take the other's result as an argument",
    ]


def test_a_private_name_outside_the_allow_list_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            **FAKE,
            "retailcrm/models/_summary.py": """\
                from retailcrm.data._prepare import PreparedTransactions
                from retailcrm.data._prepare import _private_thing
            """,
        },
    )
    assert layering_violations(root) == [
        "retailcrm/models/_summary.py:2: retailcrm.data._prepare._private_thing is a private name"
    ]


def test_a_deliberate_cross_import_in_a_copy_of_the_library_fails(tmp_path: Path) -> None:
    """The real tree with its real allow-list: adding one cross-import is one violation."""
    root = tmp_path / "retailcrm"
    shutil.copytree(SRC, root, ignore=shutil.ignore_patterns("__pycache__"))
    assert layering_violations(root) == []
    metrics = root / "metrics"
    metrics.mkdir(exist_ok=True)
    (metrics / "__init__.py").touch()
    (metrics / "_deliberate.py").write_text("from retailcrm.models import BetaGeoModel\n")
    assert layering_violations(root) == [
        "retailcrm/metrics/_deliberate.py:1: analysis packages never import each other "
        "(metrics imports retailcrm.models.BetaGeoModel); take the other's result as an argument"
    ]


IMPORTS = [
    # (importing module, source line, allowed)
    ("segmentation/_rfm.py", "from ..models import BetaGeoModel", False),
    ("segmentation/_rfm.py", "from ..models._bgnbd import BetaGeoModel", False),
    ("loyalty/_tiers.py", "import importlib\nimportlib.import_module('retailcrm.metrics')", False),
    ("metrics/_nps.py", "def f():\n    from retailcrm.lifecycle import y", False),
    ("models/_x.py", "if TYPE_CHECKING:\n    from retailcrm.lifecycle import y", False),
    ("models/_x.py", "from retailcrm.models._bgnbd import BetaGeoModel", True),
    ("models/_x.py", "from . import _bgnbd", True),
    ("models/_x.py", "from ._bgnbd import BetaGeoModel", True),
    ("models/_x.py", "from retailcrm.data import TransactionSchema", True),
    ("models/_x.py", "from retailcrm.data import ValidationReport", False),  # not in __all__
    ("models/_x.py", "from retailcrm.data import _prepare", False),
    ("models/_x.py", "import retailcrm.data._prepare", False),
    ("models/_x.py", "from retailcrm.data._prepare import PreparedTransactions", True),
    ("models/_x.py", "from retailcrm.data._report import ValidationReport", False),
    ("models/_x.py", "from retailcrm.features._occasions import purchase_occasions", True),
    ("models/_x.py", "from retailcrm.features._customer import customer_features", False),
    ("models/_x.py", "from retailcrm._engine import lazy_frame", True),
    ("models/_x.py", "from retailcrm._engine import _hidden", False),
    ("models/_x.py", "from retailcrm._params import check_param", True),  # not written yet
    ("models/_x.py", "from retailcrm import customer_features", False),  # from its package
    ("plotting/_rfm.py", "from retailcrm.models import BetaGeoModel", False),
    ("features/_x.py", "from retailcrm.models import BetaGeoModel", False),
    ("data/_x.py", "from retailcrm.features import customer_features", False),
    ("_engine.py", "from retailcrm.data import TransactionSchema", False),
    ("_dates.py", "from retailcrm._engine import lazy_frame", True),
    ("cli.py", "from retailcrm.models import BetaGeoModel", True),
    ("cli.py", "from retailcrm.models._bgnbd import BetaGeoModel", False),
    ("cli.py", "from retailcrm.lifecycle import y", True),
    ("cli.py", "from retailcrm._dates import parse_as_of", True),
]


@pytest.mark.parametrize(("importer", "source", "allowed"), IMPORTS)
def test_each_rule(tmp_path: Path, importer: str, source: str, allowed: bool) -> None:
    root = _tree(tmp_path, {**FAKE, f"retailcrm/{importer}": source + "\n"})
    found = layering_violations(root)
    assert (found == []) is allowed, found
