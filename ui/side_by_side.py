"""The side-by-side page's two columns: two guidance methods or scales on the sidebar's path (``methods``),
or one method and scale on the diffusion (VP) path beside the flow-matching path (``paths``), always
from the same noise; and the words under them."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from models.engine.names import PATH_NAMES
from models.engine.pipeline import SampleSpec
from models.guidance import guided_names
from ui.runs import Settings, on_path, run_spec
from ui.sidebar import PATH_LABELS, PROJECTION_LABELS
from ui.state import keep, remember
from ui.views import gamma_slider, model_for

GUIDED = guided_names()
SIDES = (("left", "cfg", 1.0), ("right", "cfg", 5.0))  # (name, default method, default γ)
#: what the two columns compare
COMPARE = {"methods": "two methods or two γ", "paths": "VP path beside flow path"}


@dataclass(frozen=True)
class Side:
    """One column: where it is drawn, its name (``left``/``right``), its run and its heading."""

    column: object
    name: str
    spec: SampleSpec
    heading: str


def method_sides(s: Settings) -> list[Side]:
    """Two columns, each with its own method and γ (its widgets drawn at its top), on the sidebar's path."""
    columns = st.columns(2, gap="large")
    sides = []
    for column, (side, method, gamma) in zip(columns, SIDES):
        with column:
            pick, scale = st.columns([1, 1.4])
            guidance = remember(f"sbs_{side}_guidance", pick.selectbox("Guidance method", GUIDED,
                                                                       key=keep(f"sbs_{side}_guidance", method)))
            gamma = gamma_slider(f"sbs_{side}_gamma", gamma, where=scale)
            spec = run_spec(s, guidance, gamma, model=model_for(s, guidance))
            sides.append(Side(column, side, spec, f"{spec.guidance}, γ = {spec.gamma:g}"))
    return sides


def path_heading(spec: SampleSpec) -> str:
    """A column's heading in paths mode: the path in words, its sampler, the shift on flow."""
    shift = f", shift {spec.shift:g}" if spec.path == "flow" else ""
    return f"{PATH_LABELS[spec.path]} · {spec.sampler}{shift}"


def path_sides(s: Settings) -> list[Side]:
    """One method and γ (one row of widgets over both columns) on each path (``PATH_NAMES``, one column
    each, left to right): the same noise, model and steps; each path's sampler is the sidebar's where the
    path offers it (``ui.runs.sampler_on``), the flow path's shift the sidebar's."""
    pick, scale, note = st.columns([1, 1.4, 2.6], gap="medium", vertical_alignment="bottom")
    guidance = remember("sbs_paths_guidance", pick.selectbox("Guidance method (both paths)", GUIDED,
                                                             key=keep("sbs_paths_guidance", "cfg")))
    gamma = gamma_slider("sbs_paths_gamma", 3.0, where=scale)
    with note:
        base = run_spec(s, guidance, gamma, model=model_for(s, guidance))
    specs = [on_path(base, path, s.shift) for path in PATH_NAMES]
    columns = st.columns(2, gap="large")
    with note:
        swapped = [spec for spec in specs if spec.sampler != s.sampler]
        st.caption("Same method, γ, model, steps and starting noise on both paths."
                   + "".join(f" The sidebar's {s.sampler} does not run on the {PATH_LABELS[spec.path]} path, so it uses "
                             f"{spec.sampler} there" + (" (DDIM with η = 0 is Euler on this path)."
                                                        if s.sampler == "ddim" and spec.path == "flow" else ".")
                             for spec in swapped)
                   + ("" if s.path == "flow" else " Choose the flow path in the sidebar to set its timestep shift."))
    return [Side(column, path, spec, path_heading(spec)) for column, path, spec in zip(columns, PATH_NAMES, specs)]


def basis_caption(data: str, projection: str, compare: str) -> str:
    """What the caption under the two panels says about their one basis and one scale."""
    runs = "on both paths " if compare == "paths" else ""
    where = "the 2-D data itself" if data == "gmm2d" else (
        f"the PCA of the runs {runs}without guidance and at γ = 1 from the same noise" if projection in ("pca", "plane")
        else PROJECTION_LABELS[projection])
    plane = (" (the exact plane of a step differs from run to run, so both are drawn in that common PCA)"
             if projection == "plane" and data != "gmm2d" else "")
    moved = "moving the γ slider" if compare == "paths" else "moving a γ slider"
    return (f"Both panels: one basis, {where}{plane}, and one scale at every step: equal lengths are equally long "
            f"on both sides, and {moved} moves the points, not the axes.")


__all__ = ["COMPARE", "GUIDED", "SIDES", "Side", "basis_caption", "method_sides", "path_heading", "path_sides"]
