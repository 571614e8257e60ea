"""The AsyncAPI event catalogue, written into the repository for partner developers."""

from __future__ import annotations

import json
from pathlib import Path

from cpc_shared.asyncapi import catalogue

from cpc_stack.paths import REPO

CATALOGUE_PATH = REPO / "docs" / "asyncapi" / "catalogue.json"


def render_catalogue() -> str:
    return json.dumps(catalogue(), indent=2, sort_keys=True) + "\n"


def write_catalogue() -> Path:
    CATALOGUE_PATH.parent.mkdir(parents=True, exist_ok=True)
    CATALOGUE_PATH.write_text(render_catalogue())
    return CATALOGUE_PATH
