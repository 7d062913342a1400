"""viz.draw.key: a key that lists only what the current frame shows, at most six rows, laid out from
the top without a gap where a row hides; labels wrapped between words, never inside a formula."""

import pytest

from viz.draw.key import MAX_ENTRIES, ROW_PX, FrameKey, wrap_label
from viz.draw.style import new_figure

ENTRIES = [("prediction", "prediction"), ("step", "step"), ("noise", "noise"), ("x0_uncond", "unconditional"),
           ("x_t_path", "path of x_t"), ("outside", "outside the data")]


@pytest.fixture
def key():
    fig = new_figure((6.0, 4.0), layout=None)
    return FrameKey(fig, (0.7, 0.1, 0.3, 0.8), ENTRIES)


def row_tops(key: FrameKey) -> list[float]:
    """The y (display px) of each visible row's label, top row first."""
    return [text.xy[1] + text.size[1] / 2 for *_, text in key.rows if text.get_visible()]


def test_every_row_is_shown_at_first_in_the_keys_order(key):
    assert key.names() == [n for n, _ in ENTRIES] and key.labels() == [label for _, label in ENTRIES]
    assert key.shown() == key.labels()
    ys = row_tops(key)
    assert all(a > b for a, b in zip(ys, ys[1:]))  # from the top down


def test_a_frame_shows_only_its_rows_from_the_top_without_gaps(key):
    full = row_tops(key)
    key.show(["noise", "prediction"])  # any order: the key's order is kept
    assert key.shown() == ["prediction", "noise"] and key.visible == ["prediction", "noise"]
    for name, _, artists, text in key.rows:
        on = name in ("prediction", "noise")
        assert text.get_visible() == on and all(a.get_visible() == on for a in artists)
    ys = row_tops(key)
    assert ys == pytest.approx(full[:2], abs=1)  # the second shown row moved up into the first gap
    assert ys[0] - ys[1] == pytest.approx(ROW_PX, abs=1)
    key.show([])
    assert key.shown() == [] and row_tops(key) == []


def test_at_most_six_rows_and_only_known_handles():
    fig = new_figure((6.0, 4.0), layout=None)
    with pytest.raises(ValueError, match=f"at most {MAX_ENTRIES}"):
        FrameKey(fig, (0.7, 0.1, 0.3, 0.8), ENTRIES + [("x_next", "next")])
    with pytest.raises(ValueError, match="no key handle"):
        FrameKey(fig, (0.7, 0.1, 0.3, 0.8), [("wiggle", "a wiggle")])
    made = []
    custom = FrameKey(fig, (0.7, 0.1, 0.3, 0.8), [(lambda ax: made.append(ax) or [], "drawn by hand")])
    assert custom.names() == ["drawn by hand"] and made == [custom.ax]  # a handle made by a function


def test_height_grows_with_rows_and_second_lines():
    assert FrameKey.height_px(3) == 3 * ROW_PX + 6
    assert FrameKey.height_px(3, extra_lines=2) > FrameKey.height_px(3)


def test_labels_wrap_between_words_and_never_inside_a_formula():
    long = "the guided prediction moves toward the conditional one at every step"
    lines = wrap_label(long, 200).split("\n")
    assert len(lines) > 1 and " ".join(lines) == long
    assert all(len(line) * 0.56 * 17 <= 200 or " " not in line for line in lines)  # each line about 200 px
    formula = r"scaled by $\gamma \times (\hat{x}_0^{c} - \hat{x}_0^{u})$ at each step"
    for line in wrap_label(formula, 60).split("\n"):
        assert line.count("$") % 2 == 0, line  # a formula stays on one line
    assert "γ = 3" in wrap_label("with the guidance scale γ = 3 and more words after it", 90).replace("\n", " ")
    for line in wrap_label("with the guidance scale γ = 3 and more words after it", 90).split("\n"):
        assert not line.endswith("=") and not line.startswith("=")  # never broken around "="
    assert wrap_label("two\nlines already", 10) == "two\nlines already"
    assert wrap_label("short", 500) == "short"
