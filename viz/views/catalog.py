"""The figure kinds by name, without drawing anything (no matplotlib): what the export command line
offers, how it describes each, and the projection the lecture's GIFs draw each in.

The run views are declared here; every newer guidance method adds a kind of its own name, described
by its card (``models.guidance``, ``Card.figure``) and drawn by its view (``viz.methods``).
"""

from __future__ import annotations

from models.guidance import card, zoo_names

#: the run views: kind -> (its line in --help, the projection the lecture GIFs draw it in)
RUN_KINDS = {
    "paths": ("every sample's path", "pca"),
    "noising": ("a photograph noised step by step", "pca"),
    "step": ("one sampling step (prediction, step, noise)", "plane"),
    "trajectory": ("one sample's whole path and images", "pca"),
    "classifier": ("classifier guidance step", "plane"),
    "classifier_x0": ("classifier guidance step in prediction space", "plane"),
    "cfg": ("classifier-free guidance step", "plane"),
    "flow": ("a step on the flow path (--path flow): x_t on the segment from x0_hat to the implied noise, the Euler "
             "step along it; with cfg both segments and the guided one", "plane"),
}
METHOD_PROJECTION = "plane"  # a method's construction is drawn in the exact plane of each step
FIELD_FIGURE = "field"  # not a view of a run: the guidance field over t (models.analysis.field), nothing sampled
FIELD_DESCRIPTION = ("the guidance field of gmm2d from the noisiest level to the clean data (no sampling: --model, "
                     "--guidance, --gamma, --label and the method's own settings choose it)")
#: the views a --sampler tilted run has: exact draws record no guidance parts to construct
TILTED_FIGURES = ("paths", "noising", "step", "trajectory")


def figure_kinds() -> tuple[str, ...]:
    """Every animated kind of a run: the run views, then one per newer guidance method."""
    return tuple(RUN_KINDS) + zoo_names()


def description(kind: str) -> str:
    """The kind's line in ``--help``."""
    if kind == FIELD_FIGURE:
        return FIELD_DESCRIPTION
    return RUN_KINDS[kind][0] if kind in RUN_KINDS else card(kind).figure


def descriptions() -> dict[str, str]:
    """Kind -> its line, every run kind then the field."""
    return {kind: description(kind) for kind in (*figure_kinds(), FIELD_FIGURE)}


def lecture_projection(kind: str) -> str:
    """The projection ``python -m viz.lecture_gifs`` draws ``kind`` in."""
    return RUN_KINDS[kind][1] if kind in RUN_KINDS else METHOD_PROJECTION


__all__ = ["FIELD_FIGURE", "RUN_KINDS", "TILTED_FIGURES", "description", "descriptions", "figure_kinds",
           "lecture_projection"]
