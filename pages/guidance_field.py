"""The guidance field: where guidance pushes every point of gmm2d at one noise level, and over all of them."""

import streamlit as st

from ui.field import animation_over_t, field_command, field_controls, field_picture, offer_gmm2d
from ui.sidebar import current
from ui.views import command_expander, show_image

s = current()
WHAT = """
A path shows where one sample went; the field shows where guidance pushes everywhere. At one noise
level, every point of the plane is a possible noisy canvas $x_t$, and the guided denoiser gives each
one a direction: the guided score $(a_t \\hat{x}_0 - x_t) / s_t^2$, which points where the noisy density
rises fastest. For CFG with the exact model this score is exactly the gradient of
$\\log p_t(x)\\,p_t(y \\mid x)^{\\gamma}$, the tilted density shaded under the arrows: following the
arrows climbs it. Left, the unguided field ($\\gamma = 0$) over $p_t(x)$; right, the guided one.
"""
st.title("The guidance field")
st.caption("Where guidance pushes every point of the 2-D mixture at one noise level: the unguided field over "
           "$p_t(x)$ (left) beside the guided one over the tilted density it climbs (right).")
if s.data != "gmm2d":
    offer_gmm2d(s.data)
    st.stop()
if s.path != "vp":
    st.caption("The field is drawn on the diffusion (VP) path, its levels in VP timesteps t: the flow path passes "
               "through the same noisy points, each scaled by $1/(a_t + s_t)$ (see *Diffusion meets flow*).")
picture, controls = st.columns([4, 1])
choice = field_controls(s, controls)
if choice.warning:
    controls.warning(choice.warning)
try:
    png, sentence = field_picture(choice.spec)
except ValueError as e:
    st.error(f"This field cannot be drawn with these settings: {e}")
    st.stop()
show_image(png, picture)
picture.markdown(sentence)
with st.expander("What the arrows show"):
    st.markdown(WHAT)
st.markdown(
    """
**Sinks and basins.** A white cross marks a sink: where following the field *at this noise level*
ends. The red lines split the plane into the sinks' basins, and the number beside a sink is the
share of the tilted density that drains into it. A sampler does not stay at one level: as the noise
falls, the basins move and split, and a sample goes where the basin it is in at that moment leads.
Slide the noise level from 999 down to 0 and watch when the basins of the class's blobs open: if one
sink collects nearly everything until little noise is left, the samples pile onto its blob, even
where the tilted density of the clean data gives every blob the same share (Bradley & Nakkiran,
arXiv 2408.09000, explain why CFG does not sample the tilted density). The trade-off page measures
how far the samples land from it.
"""
)
if st.toggle("▶ Animate over the noise level", key="field_play",
             help="the field at 40 noise levels, from pure noise to the last step (computed once, then cached)"):
    gif, story = animation_over_t(choice.spec)
    show_image(gif)
    st.markdown(story)
    st.download_button("Download the GIF", gif, file_name="field.gif", mime="image/gif", key="field_gif")
command_expander(field_command(choice.spec))
