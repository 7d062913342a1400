"""The browser tests need Debian's Chromium (tools.browser.CHROMIUM) and Playwright. Where either is
missing they are skipped, and a skip in pytest's summary ("5 skipped") is easy to miss: this hook
ends the run with a loud section that says the browser was not tested, why, and how to fix it."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
FIX = ("Install Debian's Chromium (sudo apt-get install chromium; .ci/run does it) or point "
       "GUIDANCE_LAB_CHROMIUM at a Chromium, then run `make test` again.")


def browser_skips(reports) -> list[tuple[str, str]]:
    """``(test, reason)`` of every skipped test of this folder among pytest's skipped ``reports``."""
    out = []
    for report in reports:
        if not str(report.fspath).startswith(str(HERE)) and "tests/browser/" not in report.nodeid:
            continue
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        out.append((report.nodeid, reason.removeprefix("Skipped: ")))
    return out


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skips = browser_skips(terminalreporter.stats.get("skipped", []))
    if not skips:
        return
    terminalreporter.section("THE BROWSER WAS NOT TESTED", sep="!", red=True, bold=True)
    for reason in sorted({reason for _, reason in skips}):
        n = sum(1 for _, r in skips if r == reason)
        terminalreporter.write_line(f"{n} browser test{'s' if n != 1 else ''} skipped: {reason}", red=True, bold=True)
    terminalreporter.write_line(FIX, red=True, bold=True)
