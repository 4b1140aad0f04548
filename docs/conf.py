"""Sphinx configuration of fastact's documentation (``sphinx-build -W docs docs/_build``)."""
import fastact

project = "fastact"
release = version = fastact.__version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
napoleon_numpy_docstring = True
napoleon_google_docstring = False
myst_heading_anchors = 3
html_theme = "alabaster"
suppress_warnings = ["myst.xref_missing"]  # README links to files outside the docs tree

_PLACEHOLDER = "<!-- activations: conf.py writes one entry per registered activation here -->"


def _activation_entries():
    """One autodoc entry per activation and method, from the registry (nothing listed by hand)."""
    blocks = []
    for name, act in fastact.activations.items():
        if name != act.name:
            blocks.append(f"### {name}\n\nAn alias of `{act.name}`.\n")
            continue
        names = ("grad", "value_and_grad", "backward", "grad2", "derivatives") + (
            ("grad_from_output", "backward_from_output") if act.from_output else ())
        methods = "\n".join(f".. autofunction:: fastact.{name}.{m}" for m in names)
        blocks.append(f"### {name}\n\n```{{eval-rst}}\n.. autofunction:: fastact.{name}\n"
                      f"{methods}\n```\n")
    return "\n".join(blocks)


def _fill_placeholder(app, docname, source):
    if docname == "api":
        source[0] = source[0].replace(_PLACEHOLDER, _activation_entries())


def _prose_as_literal(app, what, name, obj, options, lines):
    """An activation's own prose (before its numpydoc sections) is plain text with formulas
    (|z|, z * Phi): shown as written, not read as reStructuredText."""
    if "Parameters" not in lines:
        return
    end = lines.index("Parameters")
    prose = lines[:end]
    if not any(prose):
        return
    lines[:end] = ["::", ""] + ["    " + line for line in prose] + [""]


def setup(app):
    app.connect("source-read", _fill_placeholder)
    app.connect("autodoc-process-docstring", _prose_as_literal, priority=100)  # before napoleon
