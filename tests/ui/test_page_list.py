"""ui.page_list: the pages declared once; every file exists, names and titles are unique, the first page
is the home page, and the app's navigation and the browser helper read this list."""

from tests.robustness.conftest import ROOT
from tools import browser
from ui.page_list import HOME, PAGES


def test_every_page_is_a_file_with_a_unique_name_and_title():
    assert len(PAGES) == len(list((ROOT / "pages").glob("*.py")))
    assert all((ROOT / p.file).is_file() for p in PAGES)
    assert len({p.name for p in PAGES}) == len({p.title for p in PAGES}) == len(PAGES)
    assert PAGES[0].path == "" and all(p.path == p.name for p in PAGES[1:]) and HOME not in {p.name for p in PAGES}
    assert all(p.icon.startswith(":material/") for p in PAGES)  # no emoji: Debian's Chromium has no emoji font


def test_the_app_and_the_browser_read_it():
    assert browser.PAGES is PAGES
    assert "PAGES" in (ROOT / "app.py").read_text() and "st.Page(\"pages/" not in (ROOT / "app.py").read_text()
