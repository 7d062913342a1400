"""viz.draw.sprites: a label rendered once per (text, size, colour) and reused (a line of words laid out
from its cached words), every single-line label of one size as high as a line (one baseline), images
enlarged pixel for pixel (-1 paper white, 1 ink black) and framed; a sprite drawn at whole display
pixels, where ``place`` puts it."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from viz.draw.sprites import PAD, Sprite, TextSprite, image_pixels, text_pixels
from viz.draw.style import new_figure


def test_a_label_is_rendered_once_and_reused():
    a = text_pixels("guidance", 12.0, "#0072B2")
    assert text_pixels("guidance", 12.0, "#0072B2") is a  # the cached array itself
    line = text_pixels("step 3/25 · γ = 3", 12.0, "#0072B2")  # a line of words: laid out from its cached words
    np.testing.assert_array_equal(text_pixels("step 3/25 · γ = 3", 12.0, "#0072B2"), line)
    assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 4
    assert (a[:PAD, :, 3] == 0).all() and (a[:, :PAD, 3] == 0).all()  # a transparent margin
    ink = a[a[..., 3] == 255, :3]
    assert len(ink) and np.abs(ink.astype(float) / 255 - to_rgb("#0072B2")).max() < 0.02  # in its colour
    assert not np.array_equal(text_pixels("guidance", 12.0, "#D55E00")[..., :3], a[..., :3])


def test_labels_of_one_size_share_a_line_height_and_lines_stack():
    heights = {text_pixels(t, 12.0).shape[0] for t in ("a", "x", "Tp", r"$x_t$", "step 13/25 · t = 519")}
    assert len(heights) == 1  # one baseline for every single-line label of a size
    one = text_pixels("one line", 12.0)
    two = text_pixels("one line\nand another", 12.0)
    assert two.shape[0] > 1.8 * (one.shape[0] - 2 * PAD)
    assert text_pixels("wide words here", 12.0).shape[1] > text_pixels("wide", 12.0).shape[1]
    assert text_pixels("a", 24.0).shape[0] > text_pixels("a", 12.0).shape[0]


def test_images_are_enlarged_pixel_for_pixel_and_framed():
    values = np.array([[-1.0, 1.0], [0.0, 3.0]])  # paper, ink, half, beyond ink (clipped)
    pix = image_pixels(values, (2, 2), scale=3)
    assert pix.shape == (6, 6, 4) and (pix[..., 3] == 255).all()
    np.testing.assert_array_equal(pix[::3, ::3, 0], [[255, 0], [128, 0]])
    assert (pix[:3, :3, :3] == 255).all() and (pix[3:, 3:, :3] == 0).all()  # each pixel a 3x3 block
    framed = image_pixels(values, (2, 2), scale=3, border="#E69F00", border_px=2)
    assert framed.shape == (10, 10, 4)
    np.testing.assert_array_equal(framed[0, 0, :3], np.round(255 * np.array(to_rgb("#E69F00"))))
    np.testing.assert_array_equal(framed[2:-2, 2:-2], pix)


def test_place_puts_the_chosen_corner_at_whole_pixels():
    s = Sprite(np.zeros((10, 20, 4), np.uint8))
    assert s.size == (20, 10)
    s.place(100.4, 50.6)
    assert s.xy == (100.0, 51.0) and s.box() == (100.0, 51.0, 120.0, 61.0)
    s.place(100, 50, ha="center", va="center")
    assert s.box() == (90.0, 45.0, 110.0, 55.0)
    s.place(100, 50, ha="right", va="top")
    assert s.box() == (80.0, 40.0, 100.0, 50.0)
    assert Sprite().size == (0, 0)


def test_a_sprite_is_blitted_where_it_is_placed():
    fig = new_figure((2.0, 1.0), layout=None)  # 200 x 100 px
    red = np.zeros((10, 20, 4), np.uint8)
    red[..., 0], red[..., 3] = 255, 255
    red[0, :, 1] = 255  # its top row yellow: the picture is not drawn upside down
    s = fig.add_artist(Sprite(red))
    s.place(30, 60)  # lower-left corner, display px from the bottom
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())  # rows from the top
    rows = slice(100 - 70, 100 - 60)
    assert (buf[rows, 30:50, 0] == 255).all() and (buf[rows.start + 1:rows.stop, 30:50, 1] == 0).all()
    assert (buf[rows.start, 30:50, 1] == 255).all()  # the top row on top
    assert (buf[rows, 50:60, :3] == 255).all() and (buf[:rows.start, 30:50, :3] == 255).all()  # white around
    s.set_visible(False)
    fig.canvas.draw()
    assert (np.asarray(fig.canvas.buffer_rgba())[rows, 30:50, :3] == 255).all()


def test_a_text_sprite_renders_its_text():
    t = TextSprite(12.0, color="#555555")
    assert t.get_text() == "" and t.size == (0, 0)
    t.set_text("guided")
    assert t.get_text() == "guided" and t.pixels is text_pixels("guided", 12.0, "#555555")
    t.set_text("")
    assert t.pixels is None
    with pytest.raises(ValueError, match="too large"):
        TextSprite(200.0).set_text("x" * 400)
