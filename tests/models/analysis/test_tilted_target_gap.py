"""models.analysis.tilted_target_gap: the sentence read off made-up numbers (the corrector closes, narrows, widens or
leaves the gap; no gap at all; mass leaving the class), the blobs' names, and the figure's record
against models.analysis.tilted_target's own numbers."""

import numpy as np
import pytest

from models.engine.data import make_gmm2d
from models.analysis.tilted_target import component_shares, exact_tv_quantile, expected_tv, target_shares, tilted_sample, tilted_tv_report
from models.analysis.tilted_target_gap import (EXACT, GapCurve, GapNumbers, GapRun, blob_names, describe_gap, describe_paths, gap_curves, gap_numbers,
                               gap_sentence, gap_view)

BLOBS = ("inner blob at the upper left", "outer blob", "inner blob at the right")
TARGET = (0.331, 0.333, 0.333)
FLOOR = 0.018


def sentence(plain: GapNumbers, corrected: GapNumbers, k: int = 5, gamma: float = 7.0) -> str:
    return describe_gap(gamma, "B", BLOBS, TARGET, plain, corrected, FLOOR, k)


# A DDPM-like gap: the outer blob takes 62 % where the target puts 33 %.
GAP = GapNumbers(0.290, 0.015, (0.19, 0.62, 0.18))


def test_the_corrector_widens_the_gap():
    s = sentence(GAP, GapNumbers(0.360, 0.015, (0.15, 0.69, 0.15)))
    assert s.startswith("At γ = 7 DDPM puts 62 % of class B's samples on its outer blob, where the exact target puts 33 %")
    assert "tilted_tv 0.290 ± 0.015" in s and "exact draws score 0.018" in s
    assert "5 Langevin corrector steps widen the gap to 0.360 ± 0.015 (69 % there)" in s
    assert s.count(".") >= 1 and s.endswith(").")  # one sentence, closed


def test_the_corrector_closes_the_gap():
    s = sentence(GAP, GapNumbers(0.020, 0.010, (0.33, 0.34, 0.33)))
    assert "5 Langevin corrector steps close the gap (0.020 ± 0.010, 34 % there)" in s
    assert "widen" not in s and "narrow" not in s


def test_the_corrector_narrows_but_does_not_close_it():
    s = sentence(GAP, GapNumbers(0.150, 0.014, (0.25, 0.48, 0.26)))
    assert "narrow the gap to 0.150 ± 0.014 (48 % there) but do not close it" in s


def test_a_change_within_the_error_leaves_the_gap():
    # 0.310 - 0.290 = 0.02 < 2 * hypot(0.015, 0.015) = 0.042: within the noise of a difference
    s = sentence(GAP, GapNumbers(0.310, 0.015, (0.18, 0.64, 0.17)))
    assert "leave the gap as it is (0.310 ± 0.015, 64 % there; the change is within the Monte Carlo error)" in s


def test_no_gap_to_close():
    s = sentence(GapNumbers(0.025, 0.010, (0.33, 0.32, 0.34)), GapNumbers(0.020, 0.010, (0.33, 0.33, 0.33)), gamma=1.0)
    assert s.startswith("At γ = 1 DDPM's samples of class B fall on the mixture's components in the exact target's shares")
    assert "there is no gap to close, and with 5 Langevin corrector steps it stays there (0.020 ± 0.010)" in s
    assert "widen" not in s


def test_no_gap_but_the_corrector_opens_one():
    s = sentence(GapNumbers(0.025, 0.010, (0.33, 0.32, 0.34)), GapNumbers(0.090, 0.012, (0.28, 0.45, 0.26)), gamma=2.0)
    assert "there is no gap to close, yet 5 Langevin corrector steps open one (0.090 ± 0.012)" in s


def test_one_corrector_step_is_singular():
    s = sentence(GAP, GapNumbers(0.360, 0.015, (0.15, 0.69, 0.15)), k=1)
    assert "1 Langevin corrector step widens the gap" in s
    s = sentence(GAP, GapNumbers(0.150, 0.014, (0.25, 0.48, 0.26)), k=1)
    assert "1 Langevin corrector step narrows the gap" in s and "but does not close it" in s


def test_mass_that_leaves_the_class_is_named():
    # Too few steps: the samples land between the blobs (in other classes' regions), no blob gains much.
    s = sentence(GapNumbers(0.400, 0.015, (0.20, 0.25, 0.15)), GapNumbers(0.410, 0.015, (0.20, 0.24, 0.15)))
    assert "puts 40 % of class B's samples off its blobs (in other classes' regions), where the exact target puts 0 %" in s
    assert "(0.410 ± 0.015, 41 % there;" in s


def test_the_gaining_blob_is_the_one_with_the_largest_excess():
    s = describe_gap(3.0, "A", ("a", "b", "c"), (0.2, 0.5, 0.3), GapNumbers(0.15, 0.01, (0.35, 0.40, 0.25)),
                     GapNumbers(0.15, 0.01, (0.35, 0.40, 0.25)), 0.02, 5)
    assert "puts 35 % of class A's samples on its a, where the exact target puts 20 %" in s  # +15, not b (-10)


def test_describe_gap_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        describe_gap(7.0, "B", BLOBS[:2], TARGET, GAP, GAP, FLOOR, 5)


def test_blob_names_of_the_mixture():
    g = make_gmm2d()
    names = [blob_names(g.means[g.comp_class == c]) for c in range(3)]
    assert names[1] == BLOBS  # class B: one outer blob (radius 0.75), two inner ones
    assert names[0] == ("outer blob at the top", "inner blob", "outer blob at the lower right")
    assert blob_names(np.array([[1.0, 0.0], [0.0, -1.0]])) == ("blob at the right", "blob at the bottom")


def run_of(points, label, gamma):
    return GapRun(points, tilted_tv_report(points, label, gamma), 0.0)


@pytest.fixture(scope="module")
def exact_runs():
    gammas = (0.0, 3.0)
    return gammas, {name: [run_of(tilted_sample(300, 1, g, seed), 1, g) for g in gammas]
                    for name, seed in (("DDPM", 1), (EXACT.name, 2))}


def test_gap_view_holds_models_tilted_numbers(exact_runs):
    gammas, runs = exact_runs
    curves = gap_curves(runs, gammas)
    assert [c.name for c in curves] == ["DDPM", EXACT.name]
    assert curves[0].tv == tuple(r.report.tv for r in runs["DDPM"]) and curves[0].se == tuple(r.report.se for r in runs["DDPM"])
    view = gap_view(1, "B", curves, 300, 3.0, runs[EXACT.name][1].samples, runs["DDPM"][1].samples, "DDPM")
    for i, g in enumerate(gammas):
        q = target_shares(1, g)
        assert view.floor[i] == pytest.approx(expected_tv(q, 300))
        assert view.band[i] == pytest.approx(exact_tv_quantile(q, 300, 0.95)) and view.band[i] > view.floor[i]
    np.testing.assert_allclose(view.target, target_shares(1, 3.0))
    np.testing.assert_allclose(view.sampled.shares, component_shares(runs["DDPM"][1].samples))
    assert list(view.blobs) == [1, 4, 7]
    # the sentence of this view reads the same numbers as describe_gap
    plain, corr = runs["DDPM"][1].report, runs[EXACT.name][1].report
    expected = describe_gap(3.0, "B", BLOBS, view.target[[1, 4, 7]], gap_numbers(plain.tv, plain.se, plain.shares, view.blobs),
                            gap_numbers(corr.tv, corr.se, corr.shares, view.blobs), view.floor[1], 5)
    assert gap_sentence(view, plain, corr) == expected


def test_gap_view_refuses_unmeasured_gammas_and_ragged_curves(exact_runs):
    gammas, runs = exact_runs
    curves = gap_curves(runs, gammas)
    pts = runs["DDPM"][0].samples
    with pytest.raises(ValueError, match="not one of the measured"):
        gap_view(1, "B", curves, 300, 7.0, pts, pts, "DDPM")
    with pytest.raises(ValueError, match="same gammas"):
        gap_view(1, "B", (curves[0], GapCurve("x", (0.0,), (0.1,), (0.01,))), 300, 0.0, pts, pts, "DDPM")
    with pytest.raises(ValueError):
        gap_curves({"DDPM": runs["DDPM"][:1]}, gammas)


# ----------------------------------------------------------------------------- the two paths' sentence

def paths(flow: tuple[float, float], vp: tuple[float, float], floor: float = FLOOR) -> str:
    return describe_paths(7.0, GapNumbers(*flow, ()), GapNumbers(*vp, ()), floor)


def test_one_ode_on_two_paths_misses_by_as_much():
    s = paths((0.259, 0.008), (0.262, 0.008))  # 0.003 apart, 2 errors of a difference are 0.023
    assert s.startswith("At γ = 7 flow Euler on the flow path scores 0.259 ± 0.008 and DDIM on the VP path 0.262 ± 0.008")
    assert "both miss the target by as much: the gap is guidance's, not the path's" in s and "exact draws score 0.018" in s


def test_both_paths_on_the_target():
    s = paths((0.020, 0.006), (0.025, 0.006))
    assert "and both land on the target" in s and "miss" not in s


def test_only_one_path_above_the_floor():
    s = paths((0.020, 0.006), (0.034, 0.006))  # 0.014 apart (within 0.017); only DDIM is 2 errors above 0.018
    assert "though only DDIM lies more than its error above what exact draws score" in s


@pytest.mark.parametrize("flow, vp, closer, further", [((0.20, 0.008), (0.26, 0.008), "flow Euler", "DDIM"),
                                                        ((0.30, 0.008), (0.26, 0.008), "DDIM", "flow Euler")])
def test_the_closer_path_is_named_with_the_difference(flow, vp, closer, further):
    s = paths(flow, vp)
    assert f"{closer} lands closer to the target by {abs(flow[0] - vp[0]):.3f}, more than the Monte Carlo error" in s
    assert f"{further}'s grid adds to the gap" in s
