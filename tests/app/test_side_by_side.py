"""The side-by-side page under AppTest: the two columns share one basis and one scale and sample
independently; the paths view, and a pair one column cannot draw."""

import ui.run_cache

from tests.apptest import image_urls, page_app


def test_side_by_side_columns_share_one_basis_and_sample_independently(sample_calls, frame_calls):
    drawn = frame_calls
    at = page_app("pages/side_by_side.py")
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "tick" not in text and "one basis" in text  # the figures have no ticks to read
    (_, left, *_, left_basis, left_pair, _), (_, right, *_, right_basis, right_pair, _) = drawn[-2:]
    # one basis for both runs (the sidebar says PCA), fitted to runs from the same noise, and one scale
    assert left_basis == right_basis == ui.run_cache.reference_runs(left)
    assert left_pair == right_pair == (("cfg", left), ("cfg", right))
    assert "one scale" in text
    assert ui.run_cache.basis_of(left_basis, "pca").kind == "pca"
    assert ui.run_cache.shared_basis((left, right), "pca_data") is None  # the data set's PCA is one basis already
    n = len(sample_calls)
    at.slider(key="sbs_right_gamma").set_value(7.5).run()
    assert not at.exception
    assert [(c.guidance, c.gamma) for c in sample_calls[n:]] == [("cfg", 7.5)]  # only the right run is new
    assert at.slider(key="sbs_left_gamma").value == 1.0
    n = len(sample_calls)
    at.selectbox(key="sbs_left_guidance").set_value("classifier").run()
    assert not at.exception and not at.error
    assert [c.guidance for c in sample_calls[n:]] == ["classifier"] and at.selectbox(key="sbs_right_guidance").value == "cfg"
    # two kinds of picture, still one basis and one scale
    assert [kind for kind, _ in drawn[-1][-2]] == ["classifier", "cfg"] and any("one scale" in c.value for c in at.caption)
    assert all(c.seed == sample_calls[0].seed for c in sample_calls)  # same seed on both sides


def test_side_by_side_paths_and_an_unsupported_pair():
    at = page_app("pages/side_by_side.py")
    at.radio(key="sbs_view").set_value("paths").run()
    assert not at.exception and not at.error and len(image_urls(at)) == 2
    at.selectbox(key="sbs_right_guidance").set_value("cfgpp").run()  # CFG++ needs DDIM; the sidebar says DDPM
    assert not at.exception
    assert len(at.error) == 1 and "ddim" in at.error[0].value and len(image_urls(at)) == 1


def test_side_by_side_compares_the_two_paths_from_the_same_noise_in_one_basis(sample_calls, frame_calls):
    from models.engine.names import PATH_NAMES
    from ui.side_by_side import path_heading

    at = page_app("pages/side_by_side.py")
    at.selectbox(key="sampler").set_value("ddim").run()
    at.radio(key="sbs_compare").set_value("paths").run()
    assert not at.exception and not at.error and len(image_urls(at)) == 2
    (_, left, *_, left_basis, left_pair, _), (_, right, *_, right_basis, right_pair, _) = frame_calls[-2:]
    assert (left.path, right.path) == PATH_NAMES and (left.sampler, right.sampler) == ("ddim", "euler")
    assert (left.guidance, left.gamma, left.seed) == (right.guidance, right.gamma, right.seed)  # same noise and method
    # one basis fitted to the reference runs of both paths, one camera over both
    assert left_basis == right_basis == ui.run_cache.reference_runs(left) + ui.run_cache.reference_runs(right)
    assert left_pair == right_pair == (("cfg", left), ("cfg", right))
    assert [h.value for h in at.subheader] == [path_heading(left), path_heading(right)]
    assert path_heading(right) == "flow matching · euler, shift 1"
    text = " ".join(c.value for c in at.caption)
    assert "DDIM with η = 0 is Euler on this path" in text and "on both paths" in text and "one scale" in text
    at.slider(key="sbs_paths_gamma").set_value(6.0).run()  # one γ for both paths
    assert not at.exception and {(c.path, c.gamma) for c in sample_calls if c.gamma == 6.0} == {("vp", 6.0), ("flow", 6.0)}
    at.radio(key="sbs_view").set_value("paths").run()
    assert not at.exception and not at.error and len(image_urls(at)) == 2
