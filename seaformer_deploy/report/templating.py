"""The Jinja2 environment of the report templates (package data in ``templates/``)."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from seaformer_deploy.report.formatting import FILTERS


@functools.cache
def _environment() -> Environment:
    environment = Environment(loader=PackageLoader("seaformer_deploy.report", "templates"),
                              autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)
    environment.filters.update(FILTERS)
    return environment


def render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)
