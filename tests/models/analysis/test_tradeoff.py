"""The trade-off's numbers (models.analysis.tradeoff): the data's own scores and the findings' verdicts."""

import re

import numpy as np
import pytest

from models.engine.data import load_digits_dataset
from models.engine.settings import GAMMA
from models.guidance import SETTINGS
from models.analysis.tradeoff import DEFAULT_GAMMAS, DEFAULT_LAMBDAS, data_reference, findings, row_scale, swept, sweep_values, trend


def rows(gammas, accuracy, diversity, nearest, samples=10):
    """Rows as ``models.analysis.evaluate.evaluate`` returns them."""
    return [dict(gamma=g, accuracy=a, diversity=d, nearest_train=n, finite=1.0, samples=samples, seconds=0.1)
            for g, a, d, n in zip(gammas, accuracy, diversity, nearest)]


def test_data_reference_is_the_leave_one_out_distance():
    x = load_digits_dataset().x
    d = np.sqrt(np.maximum((x**2).sum(1)[:, None] - 2 * x @ x.T + (x**2).sum(1)[None, :], 0))
    np.fill_diagonal(d, np.inf)
    ref = data_reference("digits")
    assert ref["nearest_train"] == pytest.approx(np.median(d.min(1)), rel=1e-9)
    assert ref["accuracy"] > 0.99 and ref["diversity"] > ref["nearest_train"]


REF = {"accuracy": 1.0, "diversity": 4.0, "nearest_train": 2.0}


def verdicts(r):
    return [f.verdict for f in findings(r, REF)]


def test_findings_agree_with_a_textbook_trade_off():
    r = rows([0, 1, 3, 7], [0.1, 0.8, 0.9, 0.95], [5.0, 4.0, 3.5, 3.0], [2.1, 2.0, 2.0, 2.0])
    assert verdicts(r) == ["agrees", "agrees", "note"]
    assert "new points, not copies" in findings(r, REF)[2].evidence


def test_findings_see_a_peak_then_a_drop_and_diversity_off_the_data():
    r = rows([0, 1, 3, 10], [0.1, 1.0, 1.0, 0.7], [5.0, 3.5, 3.6, 5.5], [2.5, 2.0, 2.0, 5.0], samples=200)
    found = findings(r, REF)
    assert [f.verdict for f in found] == ["partly", "partly", "note"]  # diversity falls to γ = 1, then rises
    assert "to a peak of 1.00 at γ = 1, holds it up to γ = 3, then drops to 0.70 at γ = 10" in found[0].evidence
    assert found[1].evidence.startswith("Diversity falls from 5 at γ = 0 to 3.5 at γ = 1, stays there up to γ = 3, "
                                        "then rises again to 5.5 at γ = 10.")
    assert "away from the data" in found[1].evidence and "leaves the data" in found[2].evidence


def test_findings_call_a_memorising_model_what_it_is():
    r = rows([0, 1, 3], [0.1, 1.0, 1.0], [6.0, 4.5, 4.2], [0.0, 0.0, 0.0])
    found = findings(r, REF)
    assert [f.verdict for f in found] == ["agrees", "agrees", "note"]
    assert "memorises" in found[2].evidence


# Made-up curves over the page's sweep, as its chart draws them: each sentence must say what the curve
# does (its shape word) and quote only points that are on the curve.
G = list(DEFAULT_GAMMAS)  # 0, 0.5, 1, 2, 3, 5, 7, 10
FLAT_NEAREST = [2.0] * len(G)
ACCURACY = {  # name: (curve, verdict, words the sentence must contain)
    "rising": ([0.10, 0.35, 0.60, 0.80, 0.88, 0.93, 0.95, 0.96], "agrees", "rises from 0.10 at γ = 0 to 0.96 at γ = 10."),
    "rising, then level": ([0.3, 0.7, 0.95, 0.96, 0.95, 0.96, 0.95, 0.96], "agrees",
                           "rises from 0.30 at γ = 0 to 0.96 at γ = 2, and stays near it up to γ = 10"),
    "falling": ([0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4], "differs", "falls from 0.90 at γ = 0 to 0.40 at γ = 10."),
    "peaked": ([0.1, 0.5, 0.8, 0.95, 0.9, 0.8, 0.7, 0.6], "partly",
               "rises from 0.10 at γ = 0 to a peak of 0.95 at γ = 2, then drops to 0.60 at γ = 10"),
    "U-shaped": ([0.9, 0.7, 0.5, 0.4, 0.5, 0.7, 0.8, 0.9], "differs",
                 "falls from 0.90 at γ = 0 to 0.40 at γ = 2, then recovers to 0.90 at γ = 10"),
    "flat": ([0.5] * 8, "differs", "does not change with γ"),
    "noisy flat": ([0.50, 0.52, 0.49, 0.51, 0.50, 0.48, 0.51, 0.50], "differs", "does not change with γ"),
    "peak with a plateau": ([0.14, 0.79, 1.0, 1.0, 1.0, 1.0, 0.99, 0.81], "partly",  # the page's own digits curve
                            "rises from 0.14 at γ = 0 to a peak of 1.00 at γ = 1, holds it up to γ = 7, then drops to "
                            "0.81 at γ = 10"),
    "flat at the ceiling": ([0.99, 1.0, 1.0, 0.99, 1.0, 1.0, 1.0, 0.99], "partly", "at its ceiling at every γ"),
}
DIVERSITY = {
    # the curve of issue 11: the chart fell from 4.97 at γ = 0 to 3.46 at γ = 2, the text said it did not fall
    "U-shaped (issue 11)": ([4.97, 4.2, 3.56, 3.46, 3.9, 4.5, 4.9, 5.26], "partly",
                            "falls from 4.97 at γ = 0 to 3.46 at γ = 2, then rises again to 5.26 at γ = 10."),
    "falling": ([5.0, 4.5, 4.0, 3.6, 3.3, 3.1, 3.0, 2.9], "agrees", "falls from 5 at γ = 0 to 2.9 at γ = 10 (-42 %)."),
    "falling, then level": ([5.0, 4.0, 3.0, 3.02, 2.98, 3.01, 3.0, 2.99], "agrees",
                            "falls from 5 at γ = 0 to 2.98 at γ = 3 (-40 %), and stays near it up to γ = 10 (2.99)."),
    "rising": ([3.0, 3.2, 3.5, 3.9, 4.3, 4.6, 4.8, 5.0], "differs", "does not fall: it rises from 3 at γ = 0 to 5 at γ = 10."),
    "peaked": ([4.0, 4.6, 5.0, 4.5, 4.0, 3.5, 3.2, 3.0], "partly",
               "first rises, from 4 at γ = 0 to 5 at γ = 1, and only then falls, to 3 at γ = 10."),
    "flat": ([4.0] * 8, "differs", "does not change with γ: 4 at γ = 0 and 4 at γ = 10."),
    "noisy flat": ([4.0, 4.1, 3.95, 4.05, 3.98, 4.08, 3.93, 4.02], "differs", "does not change with γ"),
}
POINT = re.compile(r"([-\d.]+) at γ = ([-\d.]+)")


def quoted_points_lie_on(text: str, curve) -> None:
    """Every "X at γ = G" in ``text`` is the curve's own value at G."""
    quoted = POINT.findall(text)
    assert quoted, text
    for value, gamma in quoted:  # as written: 2 decimals or 3 significant digits
        assert abs(float(value) - curve[G.index(float(gamma))]) <= 0.005 + 5e-3 * abs(float(value)), (value, gamma, text)


@pytest.mark.parametrize("name", ACCURACY)
def test_the_quality_sentence_reads_the_plotted_curve(name):
    curve, verdict, words = ACCURACY[name]
    found = findings(rows(G, curve, [4.0] * 8, FLAT_NEAREST, samples=1000), REF)[0]
    assert found.verdict == verdict and words in found.evidence, found.evidence
    quoted_points_lie_on(found.evidence, curve)


@pytest.mark.parametrize("name", DIVERSITY)
def test_the_diversity_sentence_reads_the_plotted_curve(name):
    curve, verdict, words = DIVERSITY[name]
    found = findings(rows(G, [0.9] * 8, curve, FLAT_NEAREST, samples=1000), REF)[1]
    assert found.verdict == verdict and words in found.evidence.replace("−", "-"), found.evidence
    quoted_points_lie_on(found.evidence.split(" The training data")[0], curve)


def test_a_change_within_the_sampling_noise_is_no_change():
    # the peak-then-drop curve above, from 10 samples per γ: its drop of 0.3 is within the noise
    assert verdicts(rows([0, 1, 3, 10], [0.1, 1.0, 1.0, 0.7], [5.0, 3.5, 3.6, 5.5], [2.5, 2.0, 2.0, 5.0]))[0] == "agrees"
    # 100 samples per γ: two rows near 0.5 differ by up to 0.14 by chance alone (two standard errors)
    noisy = [0.5, 0.58, 0.44, 0.52, 0.6, 0.47, 0.55, 0.5]
    assert findings(rows(G, noisy, [4.0] * 8, FLAT_NEAREST, samples=100), REF)[0].verdict == "differs"
    assert trend(G, noisy, 0.03).shape != "flat"  # the same curve is not flat for a tight tolerance
    assert trend(G, [3.0, float("nan"), 2.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0.1).shape == "falls"  # a NaN point is left out
    with pytest.raises(ValueError):
        trend([0, 1], [float("nan"), float("nan")], 0.1)


def test_the_sweep_of_cfgpp_is_over_its_lambda():
    assert swept("cfg") is GAMMA and swept("apg") is GAMMA
    assert swept("cfgpp") is SETTINGS["cfgpp_lambda"] and SETTINGS["cfgpp_lambda"].replaces == "gamma"
    assert sweep_values("cfg") == DEFAULT_GAMMAS
    assert sweep_values("cfgpp") == DEFAULT_LAMBDAS and all(SETTINGS["cfgpp_lambda"].valid(v) for v in DEFAULT_LAMBDAS)
    assert row_scale([{"gamma": 1.0}]) is GAMMA and row_scale([{"cfgpp_lambda": 0.5}]) is SETTINGS["cfgpp_lambda"]
    with pytest.raises(ValueError):
        row_scale([{"accuracy": 1.0}])


def test_findings_of_a_lambda_sweep_read_and_name_lambda():
    r = rows([0, 0.2, 0.6, 1.0], [0.3, 0.7, 0.9, 0.95], [5.0, 4.5, 4.0, 3.5], [2.1, 2.0, 2.0, 2.0])
    lam = [{"cfgpp_lambda": row["gamma"], **{k: v for k, v in row.items() if k != "gamma"}} for row in r]
    by_gamma, by_lambda = findings(r, REF), findings(lam, REF)
    assert [f.verdict for f in by_lambda] == [f.verdict for f in by_gamma] == ["agrees", "agrees", "note"]
    assert by_lambda[0].evidence == by_gamma[0].evidence.replace("γ", "λ")
    assert by_lambda[0].evidence.startswith("Accuracy rises from 0.30 at λ = 0 to 0.95 at λ = 1")
    assert not any("γ" in f.evidence for f in by_lambda)
