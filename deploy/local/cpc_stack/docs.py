"""The AsyncAPI event catalogues, written into the repository for partner developers."""

from __future__ import annotations

import json
from pathlib import Path

from cpc_shared.asyncapi import catalogue
from cpc_shared.partner_catalogue import partner_catalogue, payload_schemas

from cpc_stack.paths import REPO

CATALOGUE_PATH = REPO / "docs" / "asyncapi" / "catalogue.json"
PARTNERS_PATH = REPO / "docs" / "asyncapi" / "partners.json"
# One JSON schema per published partner event version, written once when the version is new and then kept: the
# contract that version's readers rely on (a test checks the current models only add optional fields to it).
SNAPSHOTS = REPO / "docs" / "asyncapi" / "schemas" / "partner"


def _json(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_catalogue() -> str:
    return _json(catalogue())


def render_partners() -> str:
    return _json(partner_catalogue())


def snapshot_path(event_type: str) -> Path:
    """docs/asyncapi/schemas/partner/ChildProtectionPlanStarted.v1.json for cpc.partner.ChildProtectionPlanStarted.v1"""
    return SNAPSHOTS / (event_type.removeprefix("cpc.partner.") + ".json")


def write_catalogue() -> Path:
    CATALOGUE_PATH.parent.mkdir(parents=True, exist_ok=True)
    CATALOGUE_PATH.write_text(render_catalogue())
    PARTNERS_PATH.write_text(render_partners())
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for event_type, schema in payload_schemas().items():
        path = snapshot_path(event_type)
        if not path.exists():  # a new event version: its first schema becomes its contract
            path.write_text(_json(schema))
    return CATALOGUE_PATH
