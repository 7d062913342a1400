"""The guidance trade-off: accuracy, diversity and memorisation against γ, and the density guidance aims at."""

import streamlit as st

from models.guidance import guided_names
from models.analysis.tilted_density import CLEAN
from models.analysis.tradeoff import sweep_values
from ui.view_cache import curves_png, tilted_png
from ui.runs import Sweep, evaluate_command
from ui.sidebar import current
from ui.tradeoff import (NO_EXACT_TARGET, blob_summary, ignores_gamma, measure, show_exact_target, show_findings,
                         show_numbers, tilt_specs)
from ui.views import fitted_width, model_for, show_image
from viz.figures.tradeoff import METRIC_HELP, TRADEOFF_DISPLAY_WIDTH

GUIDED = guided_names()  # every method with a scale γ
SAMPLE_CHOICES = (100, 200, 500, 1000, 2000)
NOISE_LEVELS = (CLEAN, 50, 150, 300, 500, 700)

s = current()
st.title("The guidance trade-off")
st.markdown(
    f"""
Guidance buys samples that are more clearly of their class, and pays with variety. Dhariwal & Nichol
(arXiv 2105.05233) measured it for classifier guidance on ImageNet: as the classifier scale grows,
precision and the Inception score rise while recall falls. Ho & Salimans (arXiv 2207.12598) found the
same for classifier-free guidance: a larger weight raises the Inception score, and beyond a small
weight FID gets worse, because the samples lose diversity. Here the experiment runs live on this lab's
models: for each γ, the samples are spread over every class and measured three ways.

* **class accuracy**, {METRIC_HELP['accuracy']} (it stands in for precision and the Inception score);
* **within-class diversity**, {METRIC_HELP['diversity']} (it stands in for recall);
* **distance to the nearest training point**, {METRIC_HELP['nearest_train']} (near 0: copies).

γ = 0 is unconditional and γ = 1 plain conditional sampling, so the papers' sweeps over a conditional
model start at γ = 1 (Ho & Salimans' weight w is γ − 1). Path, sampler, steps, seed and model come from the sidebar.
"""
)
left, right = st.columns(2)
guidance = left.selectbox("Guidance method", GUIDED, key="tradeoff_guidance")
samples = int(right.select_slider("Samples per γ", SAMPLE_CHOICES, value=SAMPLE_CHOICES[0], key="tradeoff_samples",
                                  help="more samples give smoother curves and take longer (about linearly)"))
model = model_for(s, guidance)
gammas = sweep_values(guidance)  # the scales γ, or CFG++'s weights λ
sweep = Sweep(s.data, model, s.sampler, s.steps, guidance, samples, s.seed, s.path, s.shift)
rows = measure(sweep, gammas)
show_image(curves_png(sweep, gammas, fitted_width(TRADEOFF_DISPLAY_WIDTH, "width-curves")), width="content")
st.caption(f"{samples} samples per γ; sampling took {sum(r['seconds'] for r in rows):.1f} s in all. "
           "Dashed: the training data's own score, what a perfect sampler would reach.")
if ignores_gamma(rows):
    st.info(f"Every γ gives the same samples: {guidance} does not use the scale γ (it has its own setting).")

st.subheader("Where the toy agrees with the papers, and where it does not")
show_findings(rows, s.data)
st.markdown(
    """
Why a toy can differ: an 8x8 digit or a 2-D point is easy to get right, so accuracy is near its
ceiling already at γ = 1 and larger scales have little quality left to buy; the exact model of the
digits memorises its training set, so it can only choose among training images; and past some γ
every model here overshoots, as large image models also do at high guidance weights (over-saturated
images; Saharia et al., arXiv 2205.11487).
"""
)
show_numbers(rows, evaluate_command(sweep, gammas))

st.header("What guidance aims at")
if s.data != "gmm2d":
    st.info(NO_EXACT_TARGET)
    st.stop()
st.markdown(
    """
By Bayes' rule, guidance with scale γ steers toward $p_t(x)\\,p(y \\mid x_t)^{\\gamma}$: the density
of the data, reweighted by the classifier's confidence raised to the power γ. γ = 0 leaves $p(x)$,
γ = 1 gives $p(x \\mid y)$, and a larger γ piles the weight where the classifier is surest, away from
the other classes. On gmm2d both factors are exact (the mixture's density and its exact class
posterior), so the reweighting can be drawn rather than described. The dots are what the sampler
actually produced at the same γ. Guided sampling does not draw from this density exactly: the tilt
is applied at every noise level, and those tilts do not add up to the tilt of the data
(Bradley & Nakkiran, arXiv 2408.09000). Compare the dots with the shading.
"""
)
t = int(st.select_slider("Noise level", NOISE_LEVELS, value=CLEAN, key="tradeoff_t",
                         format_func=lambda v: "clean data" if v == CLEAN else f"t = {v}",
                         help="the dots at a noise level are the canvases x_t of the sampler's step nearest to it"))
specs = tilt_specs(s, guidance, model)
show_image(tilted_png(specs, t))
if t == CLEAN:
    st.markdown(blob_summary(specs[-1]))
show_exact_target(s, guidance)
