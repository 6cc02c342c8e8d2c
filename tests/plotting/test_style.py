"""The shared look: CJK font choice and its warning, colours, and matplotlib kept out of
``import retailcrm``."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pandas as pd
import pytest
from matplotlib import font_manager

from retailcrm import plotting as rp
from retailcrm.exceptions import RetailCRMWarning
from retailcrm.plotting import _style

CHINESE_TIERS = pd.DataFrame({"customer_id": [1, 2, 3], "tier": ["金卡", "普通会员", "普通会员"]})


def _fonts(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Pretend that exactly these font families are installed."""
    entries = [font_manager.FontEntry(fname=f"/nowhere/{n}.ttf", name=n) for n in names]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    monkeypatch.setattr(_style, "_warned", False)


def test_cjk_text_is_recognised() -> None:
    assert _style.has_cjk(["Champions", "流失客户"])
    assert _style.has_cjk(["ひらがな"])
    assert not _style.has_cjk(["Champions", "Café", "−12.5 %", 3])


def test_the_preferred_installed_cjk_font_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    _fonts(monkeypatch, "DejaVu Sans", "SimHei", "Noto Sans CJK JP")
    assert rp.cjk_font() == "Noto Sans CJK JP"  # before SimHei in CJK_FONTS
    _fonts(monkeypatch, "DejaVu Sans", "Some Vendor CJK Gothic")
    assert rp.cjk_font() == "Some Vendor CJK Gothic"  # not listed, but says CJK
    _fonts(monkeypatch, "DejaVu Sans", "Liberation Serif")
    assert rp.cjk_font() is None


def test_chinese_labels_are_drawn_with_the_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    _fonts(monkeypatch, "DejaVu Sans", "WenQuanYi Zen Hei")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no CJKFontWarning when a font is there
        ax = rp.tier_distribution(CHINESE_TIERS)
    label = ax.get_xticklabels()[0]
    assert label.get_text() == "普通会员"
    assert label.get_fontfamily()[0] == "WenQuanYi Zen Hei"
    latin = rp.tier_distribution(pd.DataFrame({"customer_id": [1], "tier": ["gold"]}))
    assert latin.get_xticklabels()[0].get_fontfamily()[0] != "WenQuanYi Zen Hei"


def test_without_a_cjk_font_one_warning_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    _fonts(monkeypatch, "DejaVu Sans")
    with pytest.warns(rp.CJKFontWarning, match=r"no CJK font is installed.*fonts-noto-cjk"):
        rp.tier_distribution(CHINESE_TIERS)
    assert issubclass(rp.CJKFontWarning, RetailCRMWarning)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ax = rp.tier_distribution(CHINESE_TIERS)  # once per session
    assert [w for w in seen if issubclass(w.category, rp.CJKFontWarning)] == []
    assert ax.get_xticklabels()[0].get_text() == "普通会员"


def test_categories_use_the_colour_blind_safe_palette() -> None:
    ax = rp.tier_distribution(pd.DataFrame({"customer_id": [1, 2], "tier": ["a", "b"]}))
    colours = {tuple(round(c, 3) for c in p.get_facecolor()[:3]) for p in ax.patches}
    from matplotlib.colors import to_rgb

    palette = {tuple(round(c, 3) for c in to_rgb(h)) for h in rp.PALETTE}
    assert colours <= palette
    assert len(colours) == 2
    assert _style.text_color("#F0E442") == "black"
    assert _style.text_color("#0072B2") == "white"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_retailcrm_never_imports_matplotlib() -> None:
    done = _run(
        "import sys\n"
        "import retailcrm, retailcrm.data, retailcrm.features, retailcrm.rules\n"
        "import retailcrm.segmentation, retailcrm.lifecycle, retailcrm.loyalty\n"
        "import retailcrm.metrics, retailcrm.models, retailcrm.cli\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
        "import retailcrm.plotting\n"
        "assert 'matplotlib' in sys.modules\n"
        "print('ok')\n"
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_without_matplotlib_the_error_names_the_extra() -> None:
    done = _run(
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "try:\n"
        "    import retailcrm.plotting\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    assert "pip install 'retailcrm[plot]'" in done.stdout, done.stderr
