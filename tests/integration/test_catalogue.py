"""The AsyncAPI catalogue partners read: current, complete, and free of personal fields on cpc.* topics."""

import json

from cpc_shared.contracts import CATALOGUE
from cpc_stack.docs import CATALOGUE_PATH, render_catalogue

CONTRACT_FIELDS = {
    "cpc.ConferenceScheduled.v1": {"conference_id", "case_id", "request_id", "conference_type", "starts_at", "ends_at",
                                   "statutory_deadline", "within_timescale", "attendance_mode", "office_id", "room_id",
                                   "chair_id"},
    "cpc.ConferenceCancelled.v1": {"conference_id", "case_id", "reason"},
    "cpc.ConferenceDeadlineAtRisk.v1": {"conference_id", "case_id", "statutory_deadline", "reason"},
    "cpc.RoomBooked.v1": {"booking_id", "conference_id", "office_id", "room_id", "starts_at", "ends_at", "hybrid"},
    "cpc.ReportRequested.v1": {"report_id", "conference_id", "agency", "due_at"},
    "cpc.ReportOverdue.v1": {"report_id", "conference_id", "agency", "due_at"},
    "cpc.ReportSubmitted.v1": {"report_id", "conference_id", "agency", "due_at"},
    "cpc.NotificationSent.v1": {"notification_id", "conference_id", "recipient_id", "purpose", "channel"},
}


def test_the_committed_catalogue_is_current():
    assert CATALOGUE_PATH.read_text() == render_catalogue(), "run ./dev asyncapi and commit docs/asyncapi/"


def test_every_event_is_in_the_catalogue_with_the_contract_fields_required():
    document = json.loads(render_catalogue())
    messages = document["components"]["messages"]
    schemas = document["components"]["schemas"]
    for event_type, model in CATALOGUE.items():
        assert any(key.endswith(f":{event_type}:Message") for key in messages), event_type
        properties = set(schemas[model.__name__]["properties"])
        assert CONTRACT_FIELDS.get(event_type, set()) <= properties, event_type
        if event_type.startswith("cpc."):
            assert not properties & {"name", "email", "phone", "address", "postcode"}, event_type
