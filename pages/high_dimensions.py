"""Why 2-D drawings of high-dimensional vectors mislead, measured live on the digits."""

import streamlit as st

from ui.run_cache import highdim_facts
from ui.view_cache import highdim_png
from ui.sidebar import current
from ui.views import fitted_width, show_image
from viz.figures.highdim import HIGHDIM_DISPLAY_WIDTH

st.title("Why the 2-D pictures mislead")
st.markdown(
    "Every picture in this lab squeezes 64-dimensional digit images onto a flat screen. "
    "Four facts about high dimensions make such pictures risky, and here they are measured "
    "on the real data rather than asserted. Sander Dieleman warns about the same trap at the "
    "start of [The geometry of diffusion guidance](https://sander.ai/2023/08/28/geometry.html)."
)
seed = current().seed
facts = highdim_facts(int(seed))
numbers, figure = st.columns([1, 5], gap="medium")  # the numbers beside the figure: both fit a 1080-px screen
c1 = c2 = c3 = c4 = numbers
c1.metric("‖ε‖ in 64-D", f"{facts.noise_norm_mean:.2f} ± {facts.noise_norm_std:.2f}", help="√64 = 8")
c2.metric("cosine of random directions", f"std {facts.cosine_std:.3f}", help="1/√64 = 0.125")
c3.metric("variance kept by 2 PCA axes", f"{100 * facts.pca_two:.1f}%",
          help=f"10 axes keep {100 * facts.pca_ten:.1f}%; {facts.pca_for_90} are needed for 90%")
c4.metric("2-D random view scales distances", f"{facts.distortion_5:.2f}x – {facts.distortion_95:.2f}x",
          help="5th to 95th percentile of drawn / true distance")
show_image(highdim_png(int(seed), fitted_width(HIGHDIM_DISPLAY_WIDTH, "width-highdim", figure)), figure)
st.markdown(
    f"""
**What each view in this lab loses**

- **Noise is a shell, not a ball.** In 64 dimensions a noise vector's length is almost always
  close to 8 (√d), so noisy canvases $x_t$ sit on a thin shell far from the data. A 2-D sketch
  shows noise spread over a disc instead.
- **Directions are almost orthogonal.** Two random 64-D directions meet at nearly 90°; the guidance
  direction and the noise added at a step barely interact, which a 2-D sketch cannot show.
- **PCA** keeps the two axes of largest spread: {100 * facts.pca_two:.1f}% of the digits' variance.
  Everything else is flattened, so points that look close may be far apart.
- **A random projection** keeps lengths only on average: here a drawn distance is between
  {facts.distortion_5:.2f}x and {facts.distortion_95:.2f}x the true one (5th–95th percentile). The
  Johnson–Lindenstrauss lemma promises faithful random views only with many more axes than two.
- **The exact guidance plane** is the one view without distortion: the plane through $x_t$ and two
  predictions contains the whole guidance construction, so its lengths and angles are true.
  The price: it changes at every step, and everything outside it is invisible.
- **The 2-D mixture** (`gmm2d`) needs no projection at all: there the picture is the truth.
"""
)
