"""Sphinx configuration of the django-accepton documentation (Markdown through MyST, furo theme).

Build: ``make docs`` (``sphinx-build -W --keep-going -b html docs docs/_build/html``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django_accepton import __version__  # noqa: E402  (needs the repository on sys.path)

project = "django-accepton"
author = "django-accepton contributors"
copyright = "django-accepton contributors"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
# Only Markdown pages are sources; the sandbox's browser files (its static/ folder) and the build
# output never are, even if a folder of them ends up under docs/.
exclude_patterns = ["_build", "**/static/**", "**/*.html", "**/*.js", "**/*.css"]

myst_enable_extensions = ["colon_fence", "deflist"]
# Headings down to level 3 get anchors, so pages can link to sections: [x](checkout.md#signals).
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# The client is plain Python; nothing else needs importing for its reference.
nitpicky = False

html_theme = "furo"
html_title = f"django-accepton {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
