"""The partner catalogue: one AsyncAPI 3.0 document for the public partner.* topics only, made from the models in
contracts/partner.py (`./dev asyncapi` writes it to docs/asyncapi/partners.json, with a JSON schema per event)."""

from __future__ import annotations

from typing import Any

from cpc_shared.contracts.partner import (
    AGENCIES,
    AGENCY_EVENTS,
    CPIS_EVENTS,
    CPIS_TOPIC,
    EXAMPLES,
    PartnerEvent,
)

SOURCE = "/cpc/partners"
KAFKA_BINDING = "0.5.0"
REF = "#/components/schemas/{model}"

DESCRIPTION = """Events the child protection conference system publishes for partner systems: NHS CP-IS and the
agencies invited to conferences (children's social care, health, police, education, probation, housing, other).

- **Identifiers, dates, codes and statuses only**: never a name, address, e-mail, phone number or free text.
- **CloudEvents 1.0, Kafka binding, binary mode**: the headers `ce_specversion`, `ce_id`, `ce_source`, `ce_type`
  (the event's type: read it to tell events apart), `ce_time` and `content-type: application/json`; the body is the
  payload. `ce_id` is stable: a record delivered twice has the same id, so handle each id once.
- **Keys**: `partner.cpis.plans` by `subject_id` (the child id; the case id for an unborn child), so a child's events
  stay in order; `partner.agency.<agency>` by `conference_id`.
- **Versions**: the type ends in `.v1`. A version only gains optional fields: ignore fields you do not know. Any
  other change comes as a new type (`.v2`) published beside the old one for a time announced in advance.
- **Access**: each partner has a Kafka user (SASL/SCRAM-SHA-512 over TLS) that may read its own topics only, with
  consumer groups `partner-cpis` or `partner-agency-<agency>` (or those plus `.<anything>`); the user's name is the
  group's with `_` written `-` (`partner-agency-childrens-social-care`), as Kubernetes names must be."""


def _payload_schema(model: type[PartnerEvent], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF, mode="serialization")
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schema["description"] = " ".join((model.__doc__ or "").split())
    schema["examples"] = [EXAMPLES[model.type]]
    return schema


def _headers(model: type[PartnerEvent]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes, Kafka binding, binary mode.",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": {"type": "string", "description": "The event's id: the same event redelivered has the same id."},
            "ce_source": {"type": "string", "const": SOURCE},
            "ce_type": {"type": "string", "const": model.type},
            "ce_time": {"type": "string", "format": "date-time", "description": "When the event happened."},
            "content-type": {"type": "string", "const": "application/json"},
        },
    }


def _key(model: type[PartnerEvent]) -> dict[str, Any]:
    if model.key_field == "subject_id":
        return {"type": "string", "description": "subject_id: the child id, or for an unborn child the case id."}
    return {"type": "string", "description": "conference_id: the conference."}


def _message(model: type[PartnerEvent], schemas: dict[str, Any]) -> dict[str, Any]:
    name = model.__name__
    schemas[name] = _payload_schema(model, schemas)
    example = EXAMPLES[model.type]
    return {
        "name": model.type,
        "title": name,
        "summary": model.summary,
        "description": " ".join((model.__doc__ or "").split()),
        "contentType": "application/json",
        "headers": _headers(model),
        "payload": {"$ref": REF.format(model=name)},
        "bindings": {"kafka": {"key": _key(model), "bindingVersion": KAFKA_BINDING}},
        "examples": [{
            "name": name,
            "headers": {"ce_specversion": "1.0", "ce_id": "0b7e0a52-1c5e-5d7e-9f0a-3c1d2e4f5a6b", "ce_source": SOURCE,
                        "ce_type": model.type, "ce_time": "2026-11-10T12:00:00Z", "content-type": "application/json"},
            "payload": example,
        }],
    }


def _group(user: str) -> dict[str, Any]:
    return {"kafka": {"groupId": {"type": "string", "pattern": f"^{user}(\\..+)?$",
                                  "description": f"The consumer group: {user}, or it and a suffix. The Kafka user has the "
                                                 "same name with '_' written '-' (a Kubernetes name)."},
                      "bindingVersion": KAFKA_BINDING}}


def partner_catalogue() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    cpis = {model.__name__: _message(model, schemas) for model in CPIS_EVENTS}
    agency = {model.__name__: _message(model, schemas) for model in AGENCY_EVENTS}
    return {
        "asyncapi": "3.0.0",
        "id": "urn:cpc:partner-events",
        "info": {
            "title": "Child protection conferences: partner events",
            "version": "1.0.0",
            "description": DESCRIPTION,
            "tags": [{"name": "cpis", "description": "NHS Child Protection - Information Sharing"},
                     {"name": "agency", "description": "The agencies invited to conferences"}],
        },
        "defaultContentType": "application/json",
        "servers": {
            "council": {
                "host": "kafka-bootstrap.cpc.council.example:9094",
                "protocol": "kafka-secure",
                "description": "The council's Kafka, reached over TLS; each partner is given its own user and password.",
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            },
        },
        "channels": {
            "cpisPlans": {
                "address": CPIS_TOPIC,
                "title": "NHS CP-IS: children's protection plans",
                "description": "One event per child when a conference starts or ends a child protection plan (a "
                "conference that continues a plan publishes nothing). A plan made at a pre-birth conference is for an "
                "unborn child: `unborn` is true, `child_id` is null, and `expected_birth_month` says when the birth is "
                "due. Partitions: 3.",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in cpis},
                "bindings": {"kafka": {"topic": CPIS_TOPIC, "partitions": 3, "bindingVersion": KAFKA_BINDING}},
            },
            "agency": {
                "address": "partner.agency.{agency}",
                "title": "One agency's conferences",
                "description": "What one agency needs about the conferences its people are invited to: invitations "
                "(and each change to them), report requests, overdue reports, withdrawals and outcomes. Partitions: 3.",
                "parameters": {"agency": {"enum": list(AGENCIES), "description": "The agency; its Kafka user may read "
                                          "this topic only."}},
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in agency},
            },
        },
        "operations": {
            "receivePlans": {
                "action": "receive",
                "title": "NHS CP-IS reads children's plans",
                "channel": {"$ref": "#/channels/cpisPlans"},
                "messages": [{"$ref": f"#/channels/cpisPlans/messages/{name}"} for name in cpis],
                "bindings": _group("partner-cpis"),
                "tags": [{"name": "cpis"}],
            },
            "receiveAgencyEvents": {
                "action": "receive",
                "title": "An agency reads its own conferences",
                "channel": {"$ref": "#/channels/agency"},
                "messages": [{"$ref": f"#/channels/agency/messages/{name}"} for name in agency],
                "bindings": _group("partner-agency-<agency>".replace("<agency>", "[a-z_]+")),
                "tags": [{"name": "agency"}],
            },
        },
        "components": {
            "schemas": schemas,
            "messages": {**cpis, **agency},
            "securitySchemes": {
                "scram": {"type": "scramSha512", "description": "SASL/SCRAM-SHA-512 over TLS, with the user and password "
                          "the council issues to the partner."},
            },
        },
    }


def payload_schemas() -> dict[str, dict[str, Any]]:
    """Each partner event's payload schema, self-contained, by event type (for the committed snapshots)."""
    schemas: dict[str, dict[str, Any]] = {}
    for model in (*CPIS_EVENTS, *AGENCY_EVENTS):
        schema = model.model_json_schema(mode="serialization")
        schema["examples"] = [EXAMPLES[model.type]]
        schemas[model.type] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": model.type}
    return schemas


_WORDS = ("description", "title", "examples", "default")


def _shape(schema: Any) -> Any:
    """A schema without its words (descriptions, titles, examples, defaults): what a reader's validation sees."""
    if isinstance(schema, dict):
        return {key: _shape(value) for key, value in schema.items() if key not in _WORDS}
    if isinstance(schema, list):
        return [_shape(item) for item in schema]
    return schema


def incompatibilities(snapshot: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Why `current` is not a compatible successor of the committed `snapshot` of one version of an event (empty if
    it is): every field stays, with the same shape; required stays required and nothing new is required; readers
    keep accepting fields they do not know. Anything else needs a new version beside this one."""
    problems = []
    if snapshot.get("additionalProperties") is False or current.get("additionalProperties") is False:
        problems.append("unknown fields must stay allowed (additionalProperties)")
    old, new = snapshot.get("properties", {}), current.get("properties", {})
    for field, schema in old.items():
        if field not in new:
            problems.append(f"{field}: removed")
        elif _shape(schema) != _shape(new[field]):
            problems.append(f"{field}: changed from {_shape(schema)} to {_shape(new[field])}")
    old_required, new_required = set(snapshot.get("required", [])), set(current.get("required", []))
    for field in sorted(old_required - new_required):
        problems.append(f"{field}: no longer required")
    for field in sorted(new_required - old_required):
        problems.append(f"{field}: newly required")
    if _shape(snapshot.get("$defs", {})) != _shape(current.get("$defs", {})):
        problems.append("definitions changed")
    return problems
