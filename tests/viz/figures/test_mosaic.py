"""viz.figures.mosaic: rows of digits as one picture, pixel for pixel."""

import numpy as np
import pytest

from viz.figures.mosaic import GAP_COLOR, OUTSIDE_COLOR, digit_rows, png


def test_ink_mapping_layout_and_frames():
    paper, ink = -np.ones((1, 64)), np.ones((1, 64))
    half = np.zeros((1, 64))
    rows = [np.concatenate([paper, ink]), np.concatenate([half, 3 * ink])]  # 3: beyond the data, clipped
    pic = digit_rows(rows, scale=2, gap=2, outside=[np.array([False, False]), np.array([False, True])])
    cell = 16
    assert pic.shape == (2 * (cell + 2) + 2, 2 * (cell + 2) + 2, 3) and pic.dtype == np.uint8
    assert (pic[2:18, 2:18] == 255).all()  # -1: white paper
    assert (pic[2:18, 20:36] == 0).all()  # 1: black ink
    assert (pic[20:36, 2:18] == 128).all()  # 0: mid grey (round(127.5))
    assert (pic[20:36, 20:36] == 0).all()  # clipped to ink
    assert tuple(pic[0, 0]) == GAP_COLOR
    assert tuple(pic[19, 25]) == OUTSIDE_COLOR and tuple(pic[1, 25]) == GAP_COLOR  # only the flagged image is framed


def test_image_orientation_is_row_major():
    x = -np.ones((1, 64))
    x[0, 7] = 1  # top-right pixel of the 8x8 image
    pic = digit_rows([x], scale=1, gap=0)
    assert pic[0, 7, 0] == 0 and pic[7, 0, 0] == 255


@pytest.mark.parametrize("bad,match", [(np.zeros((2, 63)), "8x8"), (np.full((1, 64), np.nan), "non-finite")])
def test_bad_rows_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        digit_rows([bad])
    with pytest.raises(ValueError, match="at least one row"):
        digit_rows([])


def test_same_pixels_same_bytes():
    x = np.random.default_rng(0).uniform(-1, 1, (8, 64))
    assert png(digit_rows([x, x[::-1]])) == png(digit_rows([x, x[::-1]]))
