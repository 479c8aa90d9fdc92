"""No glyph the shipped font cannot draw (issue 9 item 12): an intranet PC has no emoji font, so ``✅`` showed as a
box. Every character of every message (both languages), of the code (the registry's names and units, labels,
icons written as text) and of the default data is in the cmap of Noto Sans CJK SC, the first font of the theme
(``.streamlit/config.toml``). Icons are Streamlit's own ``:material/…:`` font, which the app serves itself."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from lawstats.i18n import MESSAGES

ROOT = Path(__file__).resolve().parent.parent
FONT_FAMILY = "Noto Sans CJK SC"
SOURCES = [ROOT / "app.py", *sorted((ROOT / "lawstats").glob("*.py")),
           *sorted((ROOT / "lawstats" / "storage").glob("*.py")), *sorted((ROOT / "pages").glob("*.py")),
           *sorted((ROOT / "data").glob("*.csv"))]


@pytest.fixture(scope="module")
def cmap() -> set[int]:
    """The code points the theme's first font draws (found with fontconfig, read with fontTools)."""
    from fontTools.ttLib import TTFont

    if not shutil.which("fc-match"):
        pytest.skip("fontconfig (fc-match) not installed")
    found = subprocess.run(["fc-match", "-f", "%{family}|%{file}|%{index}", FONT_FAMILY], capture_output=True,
                           text=True, check=True).stdout
    family, file, index = found.split("|")
    if FONT_FAMILY not in family:
        pytest.skip(f"{FONT_FAMILY} not installed: apt-get install -y fonts-noto-cjk")
    return set(TTFont(file, fontNumber=int(index or 0), lazy=True).getBestCmap())


def undrawable(text: str, cmap: set[int]) -> set[str]:
    return {f"{ch} U+{ord(ch):04X} {unicodedata.name(ch, '?')}" for ch in text
            if ord(ch) > 0x7F and ord(ch) not in cmap}


def test_the_theme_font_is_the_one_checked():
    import tomllib

    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]
    assert theme["font"].startswith(f"'{FONT_FAMILY}'")


def test_every_message_is_drawn_by_the_theme_font(cmap):
    missing = {key: undrawable(zh + en, cmap) for key, (zh, en) in MESSAGES.items()}
    assert {key: chars for key, chars in missing.items() if chars} == {}


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_every_character_of_code_and_default_data_is_drawn(cmap, path):
    assert undrawable(path.read_text(encoding="utf-8-sig"), cmap) == set()
