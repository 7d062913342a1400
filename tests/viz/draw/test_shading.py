"""viz.draw.shading: the 2-D mixture's noisy density by class (its classes add up to the mixture's
density), each spot in the colour of the class with most mass there, in three bands (the guided class
darker, the others paler, none below the first band), the bands' colours exact in the GIF palette, and
the shading redrawn over each frame's limits."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from models.engine.data import make_gmm2d, mixture_density
from viz.draw.shading import SHADE_THRESHOLDS, ClassDensity, class_cloud, class_densities, class_rgba, shade_color
from viz.draw.style import class_color, new_figure
from viz.gif import figure_palette

GMM = make_gmm2d()


@pytest.mark.parametrize("abar", [1.0, 0.5, 0.02])
def test_the_classes_add_up_to_the_mixtures_density(abar):
    xx, yy = np.meshgrid(np.linspace(-4, 4, 41), np.linspace(-3, 3, 31))
    dens = class_densities(GMM, xx, yy, abar)
    assert dens.shape == (GMM.num_classes, *xx.shape) and (dens >= 0).all()
    np.testing.assert_allclose(dens.sum(0), mixture_density(GMM, xx, yy, abar), rtol=1e-10, atol=1e-14)
    for c in range(GMM.num_classes):  # at each class's own means, that class has most mass (clean data)
        if abar == 1.0:
            for m in GMM.means[GMM.comp_class == c]:
                assert class_densities(GMM, np.array([m[0]]), np.array([m[1]]), abar)[:, 0].argmax() == c


def test_bands_are_the_class_colour_paled_and_darker_for_the_guided_class():
    for c in range(3):
        base = np.array(to_rgb(class_color(c))) * 255
        bands = [shade_color(c, lv, True) for lv in range(3)]
        faded = [shade_color(c, lv, False) for lv in range(3)]
        for lv in range(3):
            assert (bands[lv].astype(int) <= faded[lv].astype(int)).all()  # the guided class darker
            assert (bands[lv] >= np.floor(base)).all()  # paler than the colour itself, never another hue
        assert (bands[2].astype(int) <= bands[0].astype(int)).all()  # denser, darker


def test_each_pixel_takes_the_colour_of_its_class_and_band():
    dens = np.zeros((3, 1, 5))
    dens[0, 0] = [0.01, 0.2, 0.5, 0.9, 0.0]  # class 0: below the first band, then bands 0, 1, 2
    dens[2, 0, 4] = 0.7  # class 2 alone in the last pixel
    rgba = class_rgba(dens, peak=1.0, highlight=2)
    assert rgba[0, 0, 3] == 0  # transparent below the first band (threshold 0.08)
    for px, lv in ((1, 0), (2, 1), (3, 2)):
        np.testing.assert_array_equal(rgba[0, px, :3], shade_color(0, lv, False))
        assert rgba[0, px, 3] == 255
    np.testing.assert_array_equal(rgba[0, 4, :3], shade_color(2, 2, True))  # the guided class
    assert SHADE_THRESHOLDS == tuple(sorted(SHADE_THRESHOLDS))
    np.testing.assert_array_equal(class_rgba(dens, 1.0, None)[0, 1, :3], shade_color(0, 0, True))  # none guided


def test_every_band_of_the_mixtures_classes_is_a_colour_of_the_gif_palette():
    palette = {tuple(c) for c in figure_palette()}
    for c in range(3):
        for lv in range(3):
            for guided in (True, False):
                assert tuple(shade_color(c, lv, guided)) in palette, (c, lv, guided)


def test_the_shading_covers_the_axes_and_follows_the_frame():
    fig = new_figure((3.0, 2.0), layout=None)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    shade = ClassDensity(ax, GMM, highlight=1)
    shade.update(((-4.0, 4.0), (-3.0, 3.0)), abar=1.0)
    x0, y0, x1, y1 = ax.bbox.extents
    assert shade.sprite.size == (int(round(x1 - x0)), int(round(y1 - y0))) and shade.sprite.xy == (x0, y0)
    clean = shade.sprite.pixels.copy()
    assert clean[..., 3].max() == 255 and clean[..., 3].min() == 0  # blobs shaded, the gaps between them not
    shade.update(((-4.0, 4.0), (-3.0, 3.0)), abar=0.01)
    assert not np.array_equal(clean, shade.sprite.pixels)  # noisier: one wide blur


def test_the_cloud_colours_points_by_class_and_favours_the_guided_one():
    fig = new_figure((3.0, 2.0), layout=None)
    ax = fig.add_axes((0, 0, 1, 1))
    pts, labels = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]), np.array([0, 1, 1])
    class_cloud(ax, pts, labels, highlight=1)
    faint, strong = ax.collections
    assert len(faint.get_offsets()) == 1 and len(strong.get_offsets()) == 2
    assert strong.get_sizes()[0] > faint.get_sizes()[0] and strong.get_alpha() > faint.get_alpha()
    np.testing.assert_allclose(strong.get_facecolors()[0, :3], to_rgb(class_color(1)))
    class_cloud(ax, pts, None)
    np.testing.assert_allclose(ax.collections[-1].get_facecolors()[0, :3], to_rgb("#BBBBBB"))
