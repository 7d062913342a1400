"""Where the trained network's guided field departs from the exact one (issue 17): both basins on one
grid, the sink counts and the share of the tilted density that ends elsewhere."""

import pytest

from models.analysis.field import compute_field
from models.analysis.field_records import FieldSpec, describe_departure


def test_near_the_data_the_network_has_too_few_sinks_and_says_so():
    f = compute_field(FieldSpec(model="neural", guidance="cfg", gamma=0.0, label=1, t=0))
    d = f.departure
    assert d["exact_sinks"] == 9 and d["sinks"] < 9 and d["moved"] > 0.3
    words = describe_departure(f)
    assert f"where the exact model's has {int(d['exact_sinks'])}" in words and f"{100 * d['moved']:.0f} %" in words


def test_the_exact_model_has_nothing_to_depart_from_and_agrees_with_itself():
    f = compute_field(FieldSpec(model="exact", guidance="cfg", gamma=0.0, label=1, t=0))
    assert f.departure is None and describe_departure(f) is None
    forced = compute_field(FieldSpec(model="exact", guidance="cfg", gamma=3.0, label=1, t=150), compare=True)
    assert forced.departure["moved"] == pytest.approx(0.0) and forced.departure["sinks"] == forced.departure["exact_sinks"]
