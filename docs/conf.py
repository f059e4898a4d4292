"""Sphinx configuration of the ticket_auth documentation.

Build (offline; nothing is fetched): ``python -m sphinx -W --keep-going -b html docs <outdir>``.
The tools, and why they were chosen, are on the development page (docs/development.md):
Sphinx autodoc reads the docstrings of both cores (including the compiled Cython classes),
napoleon renders their Google-style sections, MyST-Parser keeps the pages in Markdown, and the
Furo theme ships its own assets (no web fonts, no CDN).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

ROOT = Path(__file__).resolve().parents[1]

# Document the ticket_auth that Python imports (an installed one, or an in-place build when
# PYTHONPATH points at src/); fall back to the checkout's sources when none is importable.
if importlib.util.find_spec("ticket_auth") is None:
    sys.path.insert(0, str(ROOT / "src"))

import ticket_auth  # noqa: E402

project = "ticket_auth"
author = "ticket_auth developers"
copyright = "ticket_auth developers"
release = ticket_auth.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Markdown: heading anchors for in-page and cross-page links (format.md#reading-validate-parse),
# and the ```{directive} fences.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# Docstrings: Google style, rendered by napoleon; signatures from the objects themselves (the
# compiled classes carry theirs in the docstring's first line, which autodoc reads and strips).
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
autodoc_member_order = "bysource"
# Type hints go into the parameter descriptions, not the signature: the pure core's annotated
# signatures and the compiled core's plain ones then render alike, whichever core built the site.
autodoc_typehints = "description"


html_theme = "furo"
html_title = f"ticket_auth {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
# No search index fetched or built from the network; Furo's own CSS and JS are in the theme.

# The benchmark chart is not shipped in the sdist (MANIFEST.in prunes benchmarks/results):
# a build from the sdist shows the alt text instead of failing on the missing image.
suppress_warnings: list[str] = []
if not (ROOT / "benchmarks" / "results" / "bench.png").exists():
    suppress_warnings.append("image.not_readable")


class OptionalAutomodule(Directive):
    """``.. optional-automodule:: NAME``: ``automodule`` with ``:members:`` when the module
    exists in this version of the package; a one-line note when it does not (for modules that
    are added by later changes, so that the build never depends on them being there)."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return [nodes.paragraph(text=f"{name} is not part of this version.")]
        source = self.state_machine.get_source(self.lineno)
        self.state_machine.insert_input([f".. automodule:: {name}", "   :members:", ""], source)
        return []


def literal_examples(app, what, name, obj, options, lines):
    """Module docstrings show code as a block indented by four spaces after a paragraph (as
    ``help()`` reads best); render such a block as code rather than as a quotation."""
    if what != "module":
        return
    i = 1
    while i < len(lines) - 1:
        previous = lines[i - 1]
        if (
            not lines[i].strip()
            and lines[i + 1].startswith("    ")
            and previous.strip()
            and not previous.startswith((" ", "* ", "- "))
            and not previous.rstrip().endswith("::")
        ):
            lines[i:i] = ["", "::"]
            i += 3
        i += 1


def no_self(app, what, name, obj, options, signature, return_annotation):
    """The compiled core's methods embed ``(self, ...)`` in their signature line: show them
    as the pure core's are shown, without ``self``."""
    if what == "method" and signature and signature.startswith("(self"):
        signature = "(" + signature[len("(self") :].lstrip(", ")
    return signature, return_annotation


def setup(app):
    app.add_directive("optional-automodule", OptionalAutomodule)
    app.connect("autodoc-process-docstring", literal_examples)
    app.connect("autodoc-process-signature", no_self)
    return {"parallel_read_safe": True}
