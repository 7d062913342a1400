"""viz.methods: one construction view per newer guidance method, found by importing every module of the
package (``views()``) and registered by ``@register_view`` under its method's name with a title; a view
without a kind or a title, or a second view of one method, is refused; the shared parts are no views."""

import pytest

import viz.methods
from models.guidance import zoo_names
from viz.methods import SHARED, VIEWS, register_view, view_title, views
from viz.views.construction import ConstructionView


def test_every_newer_method_has_exactly_one_view_of_its_name():
    found = views()
    assert set(found) == set(zoo_names())
    for method, cls in found.items():
        assert cls.kind == method and cls.title and issubclass(cls, ConstructionView)
        assert view_title(method) == cls.title
    assert not set(SHARED) & set(found)  # on_cfg and in_space hold shared parts, not views
    with pytest.raises(KeyError):
        view_title("cfg")  # CFG's view is a run view (viz.views.guidance), not a method's


def test_register_view_refuses_a_view_without_its_name_or_title_and_a_second_view():
    class Untitled:
        kind = "halfway_for_test"
        title = ""

    with pytest.raises(TypeError, match="needs a kind"):
        register_view(Untitled)

    class Nameless:
        kind = ""
        title = "A view of nothing"

    with pytest.raises(TypeError, match="needs a kind"):
        register_view(Nameless)
    apg = views()["apg"]
    assert register_view(apg) is apg  # registering the same class again changes nothing

    class Another:
        kind = "apg"
        title = "Another APG view"

    with pytest.raises(ValueError, match="two views"):
        register_view(Another)
    assert views()["apg"] is apg


def test_a_view_registered_anywhere_is_found_by_its_method():
    class Toy:
        kind = "halfway_for_test"
        title = "Half-way CFG (a test's own)"

    try:
        assert register_view(Toy) is Toy
        assert views()["halfway_for_test"] is Toy and view_title("halfway_for_test") == Toy.title
    finally:
        del VIEWS["halfway_for_test"]
    assert "halfway_for_test" not in views() and viz.methods.VIEWS is VIEWS
