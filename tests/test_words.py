"""What a class reads: no emoji in the app's words (Debian's Chromium has no emoji font and draws an
empty box), icons come from the Material Symbols font Streamlit ships."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: pictographs and dingbats that need an emoji font (a few plain symbols such as ◐ and ✗ draw in any font)
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2705\u274C\u26A0\u2139\uFE0F]")


def test_the_app_writes_no_emoji():
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    assert len(files) > 15
    found = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}" for p in files
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if EMOJI.search(line)]
    assert not found, "\n".join(found)


def test_the_checker_sees_an_emoji():
    assert EMOJI.search("✅ agrees") and EMOJI.search("ℹ️ note") and not EMOJI.search(":material/check_circle: agrees")
