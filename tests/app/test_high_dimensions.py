"""The high-dimensions page under AppTest: it shows the four facts measured on the digits for the
sidebar's seed (``models.analysis.highdim.measure``, the numbers theory predicts: noise norms near √64 = 8,
random cosines with a spread near 1/√64), its figure, and new numbers for a new seed."""

import re

from models.analysis.highdim import measure
from models.engine.data import load_digits_dataset
from tests.apptest import image_urls, page_app

PAGE = "pages/high_dimensions.py"


def shown(at) -> dict[str, str]:
    """Each metric's label -> the value the page shows."""
    return {m.label: m.value for m in at.metric}


def expected(seed: int) -> dict[str, str]:
    f = measure(load_digits_dataset().x, seed)
    return {"‖ε‖ in 64-D": f"{f.noise_norm_mean:.2f} ± {f.noise_norm_std:.2f}",
            "cosine of random directions": f"std {f.cosine_std:.3f}",
            "variance kept by 2 PCA axes": f"{100 * f.pca_two:.1f}%",
            "2-D random view scales distances": f"{f.distortion_5:.2f}x – {f.distortion_95:.2f}x"}


def test_the_page_shows_the_facts_measured_for_the_seed():
    at = page_app(PAGE)
    assert not at.exception and not at.error and at.title[0].value == "Why the 2-D pictures mislead"
    seed = int(at.number_input(key="seed").value)
    values = shown(at)
    assert values == expected(seed)
    mean = float(values["‖ε‖ in 64-D"].split(" ± ")[0])
    assert abs(mean - 8.0) < 0.3  # noise is a shell of radius about √64
    assert abs(float(values["cosine of random directions"].split()[1]) - 1 / 8) < 0.03
    lo, hi = (float(v) for v in re.findall(r"([\d.]+)x", values["2-D random view scales distances"]))
    assert lo < hi and 0 < float(values["variance kept by 2 PCA axes"].rstrip("%")) < 100
    assert len(image_urls(at)) == 1 and any("Noise is a shell" in m.value for m in at.markdown)


def test_another_seed_measures_again():
    at = page_app(PAGE)
    before, picture = shown(at), image_urls(at)
    seed = int(at.number_input(key="seed").value) + 5
    at.number_input(key="seed").set_value(seed).run()
    assert not at.exception and shown(at) == expected(seed) != before
    assert image_urls(at) != picture  # the figure is redrawn from the new measurements
