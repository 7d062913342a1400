"""The app's pages, declared once: file, sidebar title, Material icon and what a test of the page may
expect of it. ``app.py`` builds its navigation from this list, ``tools.browser`` and the page tests read
it. Plain Python (no Streamlit)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AppPage:
    """One page: its file under ``pages/``, its sidebar title and icon; ``has_gamma``: it draws the
    guidance-scale slider; ``images``: it draws a picture with the sidebar's defaults (the field page
    asks for gmm2d first)."""

    file: str
    title: str
    icon: str
    has_gamma: bool = False
    images: bool = True

    @property
    def name(self) -> str:
        """The page's short name: its file's stem, also its URL path (``/classifier_guidance``)."""
        return Path(self.file).stem

    @property
    def path(self) -> str:
        """Its URL path as the navigation serves it: the first page lives at "/" (and at ``/<name>``)."""
        return "" if self is PAGES[0] else self.name


HOME = "home"  # the name under which the first page is declared (it is served at "/")

PAGES = (
    AppPage("pages/sampling.py", "Sampling", ":material/casino:"),
    AppPage("pages/classifier_guidance.py", "Classifier guidance", ":material/target:", has_gamma=True),
    AppPage("pages/classifier_free_guidance.py", "Classifier-free guidance", ":material/explore:", has_gamma=True),
    AppPage("pages/guidance_zoo.py", "Guidance zoo", ":material/pets:", has_gamma=True),
    AppPage("pages/high_dimensions.py", "High dimensions", ":material/square_foot:"),
    AppPage("pages/tradeoff.py", "Guidance trade-off", ":material/balance:"),
    AppPage("pages/guidance_field.py", "Guidance field", ":material/air:", images=False),
    AppPage("pages/side_by_side.py", "Side by side", ":material/compare:", has_gamma=True),
    AppPage("pages/diffusion_meets_flow.py", "Diffusion meets flow", ":material/merge:"),
    AppPage("pages/lecture.py", "Lecture", ":material/school:"),
)

__all__ = ["AppPage", "HOME", "PAGES"]
