"""ui.side_by_side: the words of the page's two compare modes (the page itself: tests/app/test_side_by_side.py)."""

from models.engine.pipeline import SampleSpec
from ui.side_by_side import COMPARE, path_heading, basis_caption


def test_a_column_heading_names_its_path_sampler_and_shift_on_flow_only():
    assert path_heading(SampleSpec(path="vp", sampler="ddim")) == "diffusion (VP) · ddim"
    assert path_heading(SampleSpec(path="flow", sampler="euler", shift=3.0)) == "flow matching · euler, shift 3"


def test_the_caption_says_which_basis_both_panels_share():
    assert set(COMPARE) == {"methods", "paths"}
    both = basis_caption("digits", "pca", "paths")
    assert "on both paths" in both and "moving the γ slider" in both
    assert "the 2-D data itself" in basis_caption("gmm2d", "pca", "methods")
    assert "exact plane of a step differs" in basis_caption("digits", "plane", "methods")
