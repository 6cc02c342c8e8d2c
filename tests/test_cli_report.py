"""``retailcrm report`` on the command line: files, the schema file, Chinese columns, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib", reason="the report draws figures with matplotlib (extra 'plot')")
pytest.importorskip("yaml", reason="the schema file is YAML (pyyaml)")

from retailcrm.cli import main
from retailcrm.data import sample_data
from test_report import assert_same_numbers

AS_OF = "2024-12-31"
CHINESE = {
    "customer_id": "客户编号",
    "timestamp": "下单时间",
    "amount": "金额",
    "order_id": "订单号",
    "category": "品类",
    "channel": "渠道",
}
SCHEMA = """\
# the columns of our shop's export
transactions:
  customer_id: 客户编号
  timestamp: 下单时间
  amount: 金额
  order_id: 订单号
  category: 品类
  channel: 渠道
customers:
  customer_id: 客户编号
  registered_at: 注册时间
"""


def _numbers(path: Path) -> dict[str, Any]:
    html = path.read_text(encoding="utf-8")
    found = re.search(r'id="retailcrm-numbers">(.*?)</script>', html)
    assert found is not None
    return dict(json.loads(found.group(1)))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 400-customer sample as English CSV files and as Chinese-column CSV files."""
    folder = tmp_path_factory.mktemp("report-files")
    data = sample_data(400, seed=5)
    tx = data.transactions[list(CHINESE)]
    customers = data.customers[["customer_id", "registered_at", "acquisition_channel"]]
    out = {
        "tx": folder / "sales.csv",
        "customers": folder / "customers.csv",
        "tx_zh": folder / "销售.csv",
        "customers_zh": folder / "客户.csv",
        "schema": folder / "schema.yaml",
        "survey": folder / "survey.parquet",
    }
    tx.to_csv(out["tx"], index=False)
    customers.to_csv(out["customers"], index=False)
    tx.rename(columns=CHINESE).to_csv(out["tx_zh"], index=False, encoding="utf-8-sig")
    customers.rename(columns={"customer_id": "客户编号", "registered_at": "注册时间"}).to_csv(
        out["customers_zh"],
        index=False,
        encoding="gb18030",  # as Chinese Excel saves it
    )
    out["schema"].write_text(SCHEMA, encoding="utf-8")
    data.surveys.to_parquet(out["survey"])
    return out


def test_chinese_columns_with_a_schema_file_give_the_same_numbers(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    english, chinese = tmp_path / "en.html", tmp_path / "zh.html"
    common = ["--as-of", AS_OF, "--survey", str(files["survey"])]
    assert main(["report", str(files["tx"]), "--customers", str(files["customers"]), *common,
                 "-o", str(english)]) == 0  # fmt: skip
    assert main(["report", str(files["tx_zh"]), "--customers", str(files["customers_zh"]),
                 "--schema", str(files["schema"]), *common, "-o", str(chinese),
                 "--lang", "zh"]) == 0  # fmt: skip
    out = capsys.readouterr()
    assert out.err == ""  # no progress bar when stderr is not a terminal
    assert out.out.count("wrote ") == 2 and "7 sections" in out.out
    en, zh = _numbers(english), _numbers(chinese)
    assert_same_numbers(zh, en)
    assert en["customers"] == 400 and en["nps"]["n"] > 0
    page = chinese.read_text(encoding="utf-8")
    assert "数据来自 销售.csv, 客户.csv, survey.parquet" in page


def test_the_built_in_sample_is_used_without_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sample.html"
    argv = ["report", "--as-of", AS_OF, "-o", str(out), "--sample-customers", "300"]
    assert main(argv) == 0
    numbers = _numbers(out)
    assert numbers["customers"] == 300 and numbers["nps"]["n"] > 0 and "cac" in numbers["value"]
    assert "Built-in sample retailer (300 customers)" in out.read_text(encoding="utf-8")


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("retailcrm: error: ") and err.count("\n") == 1, err
    return err


def test_a_missing_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error(["report", str(tmp_path / "nope.csv"), "--as-of", AS_OF, "-o",
                  str(tmp_path / "r.html")], capsys)  # fmt: skip
    assert "TRANSACTIONS" in err and "nope.csv: no such file" in err
    assert not (tmp_path / "r.html").exists()


def test_an_unreadable_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "sales.parquet"
    bad.write_text("this is not parquet")
    err = _error(["report", str(bad), "--as-of", AS_OF, "-o", str(tmp_path / "r.html")], capsys)
    assert "sales.parquet: cannot read the file" in err
    odd = tmp_path / "sales.xlsx"
    odd.write_text("x")
    err = _error(["report", str(odd), "--as-of", AS_OF, "-o", str(tmp_path / "r.html")], capsys)
    assert "unknown file type '.xlsx'" in err


def test_a_missing_column_names_it(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the Chinese file without the schema file: retailcrm's own MissingColumnsError
    err = _error(["report", str(files["tx_zh"]), "--as-of", AS_OF, "-o",
                  str(tmp_path / "r.html")], capsys)  # fmt: skip
    assert "missing columns 'customer_id', 'timestamp', 'amount'" in err


def test_a_bad_date_is_one_line_and_exit_2(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error(["report", str(files["tx"]), "--as-of", "31/12/2024", "-o",
                  str(tmp_path / "r.html")], capsys)  # fmt: skip
    assert "--as-of '31/12/2024' is not a date" in err
    err = _error(["report", str(files["tx"]), "--as-of", "2001-01-01", "-o",
                  str(tmp_path / "r.html")], capsys)  # fmt: skip
    assert "no purchases on or before --as-of 2001-01-01" in err


def test_bad_options_are_one_line_and_exit_2(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["-o", str(tmp_path / "r.html")]
    err = _error(["report", "--customers", str(files["customers"]), "--as-of", AS_OF, *out],
                 capsys)  # fmt: skip
    assert "--customers given without TRANSACTIONS" in err
    err = _error(["report", str(files["tx"]), "--as-of", AS_OF, "-o",
                  str(tmp_path / "missing" / "r.html")], capsys)  # fmt: skip
    assert "does not exist" in err
    schema = tmp_path / "bad.yaml"
    schema.write_text("transaction:\n  customer_id: 客户编号\n", encoding="utf-8")
    err = _error(["report", str(files["tx"]), "--schema", str(schema), "--as-of", AS_OF, *out],
                 capsys)  # fmt: skip
    assert "unknown section(s) ['transaction']" in err
    schema.write_text("transactions:\n  customer: 客户编号\n", encoding="utf-8")
    err = _error(["report", str(files["tx"]), "--schema", str(schema), "--as-of", AS_OF, *out],
                 capsys)  # fmt: skip
    assert "section 'transactions'" in err and "unknown key(s) ['customer']" in err
    schema.write_text("transactions: [a, b\n", encoding="utf-8")
    err = _error(["report", str(files["tx"]), "--schema", str(schema), "--as-of", AS_OF, *out],
                 capsys)  # fmt: skip
    assert "not valid YAML" in err


def test_the_schema_file_round_trips() -> None:
    from retailcrm._report import Schemas

    schemas = Schemas.from_dict({"transactions": dict(CHINESE), "survey": {"scale": [0, 10]}})
    assert schemas.transactions.customer_id == "客户编号"
    assert Schemas.from_dict(schemas.to_dict()) == schemas
