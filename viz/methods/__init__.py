"""The construction view of each newer guidance method (``models.guidance.zoo``), one module each.

A view module defines one ``viz.views.construction.ConstructionView`` subclass with its method's
name as ``kind`` and its figure title as ``title``, and registers it with ``@register_view``; the
figure menus, the export command lines, the lecture's GIF list and the pages find it through
``views()``, which imports every module of this package. Views built on the CFG construction share
``viz.methods.on_cfg``; views drawn in the plane of a prediction space (x0, eps or v, with the
space's zero marked) share ``viz.methods.in_space``.
"""

from __future__ import annotations

import importlib
import pkgutil

from models.guidance import settings_for

#: method name -> its view class (filled by ``register_view`` as the modules are imported)
VIEWS: dict[str, type] = {}
SHARED = ("on_cfg", "in_space")  # the modules of shared parts, not views


def register_view(cls: type) -> type:
    """Class decorator: make ``cls`` the construction view of method ``cls.kind``."""
    if not getattr(cls, "kind", "") or not getattr(cls, "title", ""):
        raise TypeError(f"{cls.__name__} needs a kind (its method's name) and a title to be registered as a view")
    if VIEWS.get(cls.kind, cls) is not cls:
        raise ValueError(f"method {cls.kind!r} has two views ({VIEWS[cls.kind].__name__}, {cls.__name__})")
    VIEWS[cls.kind] = cls
    return cls


def views() -> dict[str, type]:
    """Every registered method view by method name, after importing every view module of this package."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name not in SHARED:
            importlib.import_module(f"{__name__}.{info.name}")
    return dict(VIEWS)


def check_method(traj, method: str, also: tuple[str, ...] = ()) -> dict[str, float]:
    """The settings of ``method`` recorded in ``traj.meta``; ``ValueError`` for a run of another
    guidance method, one without both predictions, or one that does not record the settings (nor the
    meta names ``also`` that its view reads besides them, e.g. gamma)."""
    title = view_title(method)
    names = tuple(s.name for s in settings_for(method))
    used = traj.meta.get("guidance")
    if used != method:
        raise ValueError(f"the {title} view ({method!r}) draws runs with guidance {method!r}; this run used {used!r}")
    if traj.x0_uncond is None or traj.x0_cond is None:
        raise ValueError(f"the {title} view needs both predictions of every step (x0_uncond, x0_cond); "
                         f"this run does not record them")
    missing = [k for k in (*names, *also) if k not in traj.meta]
    if missing:
        raise ValueError(f"the {title} view needs the run's {', '.join(missing)} in its meta (a run saved before "
                         f"they were recorded): sample it again")
    return {k: float(traj.meta[k]) for k in names}


def view_title(method: str) -> str:
    """The figure title of method ``method``'s view (``KeyError`` if it has none)."""
    return views()[method].title


__all__ = ["VIEWS", "check_method", "register_view", "view_title", "views"]
