"""The trade-off's numbers (models.tradeoff): the data's own scores and the findings' verdicts."""

import numpy as np
import pytest

from models.data import load_digits_dataset
from models.tradeoff import data_reference, findings


def rows(gammas, accuracy, diversity, nearest):
    """Rows as ``models.evaluate.evaluate`` returns them."""
    return [dict(gamma=g, accuracy=a, diversity=d, nearest_train=n, finite=1.0, samples=10, seconds=0.1)
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
    r = rows([0, 1, 3, 10], [0.1, 1.0, 1.0, 0.7], [5.0, 3.5, 3.6, 5.5], [2.5, 2.0, 2.0, 5.0])
    found = findings(r, REF)
    assert [f.verdict for f in found] == ["partly", "differs", "note"]
    assert "drops to 0.70 at γ = 10" in found[0].evidence
    assert "away from the data" in found[1].evidence and "leaves the data" in found[2].evidence


def test_findings_call_a_memorising_model_what_it_is():
    r = rows([0, 1, 3], [0.1, 1.0, 1.0], [6.0, 4.5, 4.2], [0.0, 0.0, 0.0])
    found = findings(r, REF)
    assert [f.verdict for f in found] == ["agrees", "agrees", "note"]
    assert "memorises" in found[2].evidence
