"""The partner catalogue is current, and every published version stays readable by its committed schema."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from cpc_shared.contracts.partner import EXAMPLES, PARTNER_EVENTS
from cpc_shared.partner_catalogue import incompatibilities, partner_catalogue, payload_schemas
from cpc_stack.docs import PARTNERS_PATH, SNAPSHOTS, render_partners, snapshot_path

PERSONAL = {"name", "first_name", "last_name", "email", "phone", "address", "postcode", "date_of_birth", "notes",
            "reason_text", "expected_birth_date"}


def snapshot(event_type: str) -> dict:
    return json.loads(snapshot_path(event_type).read_text())


def test_the_committed_partner_catalogue_is_current():
    assert PARTNERS_PATH.read_text() == render_partners(), "run ./dev asyncapi and commit docs/asyncapi/"


def test_every_published_version_has_its_committed_schema_and_no_version_disappears():
    committed = {path.name for path in SNAPSHOTS.glob("*.json")}
    assert committed == {snapshot_path(t).name for t in PARTNER_EVENTS}, "run ./dev asyncapi; never delete a published version"


@pytest.mark.parametrize("event_type", sorted(PARTNER_EVENTS))
def test_the_current_model_only_adds_optional_fields_to_its_committed_schema(event_type):
    assert incompatibilities(snapshot(event_type), payload_schemas()[event_type]) == [], \
        "a breaking change needs a new version (.v2) beside this one"


@pytest.mark.parametrize("event_type", sorted(PARTNER_EVENTS))
def test_what_is_published_now_is_valid_by_the_committed_schema(event_type):
    committed = snapshot(event_type)
    jsonschema.Draft202012Validator.check_schema(committed)
    validator = jsonschema.Draft202012Validator(committed, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    published = PARTNER_EVENTS[event_type].model_validate(EXAMPLES[event_type]).model_dump(mode="json")
    assert published == EXAMPLES[event_type]
    validator.validate(published)
    validator.validate({**published, "a_field_added_later": "x"})  # readers of v1 accept later optional fields


def test_the_compatibility_check_catches_breaking_changes():
    old = payload_schemas()["cpc.partner.ChildProtectionPlanStarted.v1"]
    removed = copy.deepcopy(old)
    del removed["properties"]["case_id"]
    retyped = copy.deepcopy(old)
    retyped["properties"]["plan_start_date"] = {"type": "string", "format": "date-time"}
    required = copy.deepcopy(old)
    required["properties"]["category"] = {"type": "string"}
    required["required"].append("category")
    optional = copy.deepcopy(old)
    optional["properties"]["category"] = {"type": "string", "description": "added later"}
    closed = {**copy.deepcopy(old), "additionalProperties": False}
    assert incompatibilities(old, removed) == ["case_id: removed"]
    assert incompatibilities(old, retyped)[0].startswith("plan_start_date: changed")
    assert incompatibilities(old, required) == ["category: newly required"]
    assert incompatibilities(old, closed) == ["unknown fields must stay allowed (additionalProperties)"]
    assert incompatibilities(old, optional) == []


def test_the_partner_catalogue_is_asyncapi_3_with_headers_keys_examples_and_security():
    document = partner_catalogue()
    assert document["asyncapi"] == "3.0.0"
    assert set(document["components"]["messages"]) == {model.__name__ for model in PARTNER_EVENTS.values()}
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {"partner.cpis.plans", "partner.agency.{agency}"}
    for name, message in document["components"]["messages"].items():
        assert message["headers"]["properties"]["ce_type"]["const"] == message["name"]
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        schema = document["components"]["schemas"][name]
        jsonschema.validate(message["examples"][0]["payload"], schema)
        assert not set(schema["properties"]) & PERSONAL, name
    assert document["components"]["securitySchemes"]["scram"]["type"] == "scramSha512"
