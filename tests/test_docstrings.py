"""Every public name is documented: numpydoc docstrings with examples, constants on the API page."""

import importlib
import importlib.util
import inspect
from pathlib import Path

import pytest

validate = pytest.importorskip(
    "numpydoc.validate", reason="numpydoc is needed to check docstrings (pip install numpydoc)")


pytest.importorskip("sphinx", reason="Sphinx builds the API page (pip install -e '.[docs]')")


PACKAGES = ["skhanrock", "skhanrock.datasets", "skhanrock.preprocessing", "skhanrock.nn",
            "skhanrock.model_selection", "skhanrock.metrics", "skhanrock.experiments",
            "skhanrock.inspection", "skhanrock.exceptions"]


# The numpydoc checks every docstring must pass: it exists, has a summary,
# documents its parameters (and no others, in order), what it returns and an
# example, with the standard sections in the standard order.
CHECKS = {"GL06", "GL07", "GL08", "SS01", "PR01", "PR02", "PR03", "PR10", "RT01", "EX01"}


def _load_docs_conf():
    path = Path(__file__).resolve().parents[1] / "docs" / "conf.py"
    spec = importlib.util.spec_from_file_location("skhanrock_docs_conf", path)
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return conf


CONF = _load_docs_conf()


def _public(kind):
    """(package, name) of every public function and class, or of every constant."""
    found = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            is_object = inspect.isclass(obj) or inspect.isfunction(obj)
            if not name.startswith("__") and is_object == (kind == "object"):
                found.append(pytest.param(package, name, id=f"{package}.{name}"))
    return found


@pytest.mark.parametrize(("package", "name"), _public("object"))
def test_functions_and_classes_have_complete_numpydoc_docstrings(package, name):
    report = validate.validate(f"{package}.{name}")
    errors = [f"{code}: {message}" for code, message in report["errors"] if code in CHECKS]
    assert not errors, f"{package}.{name}:\n" + "\n".join(errors)


def _documented_names():
    """Fully qualified names that the generated API page documents."""
    return {f"{package}.{name}" for package, (objects, constants) in CONF.api_entries().items()
            for name in [*objects, *constants]}


@pytest.mark.parametrize(("package", "name"), [*_public("object"), *_public("constant")])
def test_every_public_name_is_on_the_api_page(package, name):
    documented = _documented_names()
    # Names re-exported at the top level are documented there, once.
    assert f"{package}.{name}" in documented or f"skhanrock.{name}" in documented
    page = CONF.api_page()
    assert f"   {name}\n" in page or f".. data:: {name}\n" in page


@pytest.mark.parametrize(("package", "name"), _public("constant"))
def test_constants_carry_a_doc_comment(package, name):
    assert CONF.constant_comment(package, name), (
        f"{package}.{name} needs a '#: ...' comment above its assignment for the API page.")


def test_the_api_page_documents_constants_and_links_an_object_page_for_each_callable():
    page = CONF.api_page()
    buckets = ".. data:: BUCKETS\n   :type: tuple\n   :value: ('None', 'Low', 'Medium', 'High')"
    assert buckets in page
    assert "generated/skhanrock.inspection.explain" in page
    assert ".. autoclass:: HanRockClassifier" in CONF.object_page("skhanrock", "HanRockClassifier")
    assert "predict" in CONF.object_page("skhanrock", "HanRockClassifier")
