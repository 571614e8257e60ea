"""The event classes: each event type is its own class, never a kind of another (a withdrawn report is not an
overdue one, a failed message not a sent one), so a handler that takes one never takes the other."""

from cpc_shared.contracts.catalogue import CATALOGUE
from cpc_shared.contracts.outbound import NotificationFailed, NotificationSent, ReportOverdue, ReportWithdrawn


def test_no_event_class_inherits_another_event_type():
    for event_type, model in CATALOGUE.items():
        for other_type, other in CATALOGUE.items():
            if other_type != event_type:
                assert not issubclass(model, other), f"{event_type} is a kind of {other_type}"


def test_events_that_share_fields_still_carry_them():
    assert set(ReportWithdrawn.model_fields) == set(ReportOverdue.model_fields)
    assert set(NotificationFailed.model_fields) == set(NotificationSent.model_fields)


def test_identifiers_may_be_written_with_the_usual_separators_but_never_carry_markup_or_operators():
    import pytest
    from cpc_shared.contracts.inbound import ConferenceCancellationRequested
    from pydantic import ValidationError

    for case_id in ("CASE-8841", "REQ/2026/000123", "P.1", "LA:123_45"):
        assert ConferenceCancellationRequested(case_id=case_id, reason="r").case_id == case_id
    for case_id in ("$where", "<script>", "a b", "CASE\x00", "{{7*7}}", "x$gt", ".hidden", "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            ConferenceCancellationRequested(case_id=case_id, reason="r")
