"""Which reports a conference needs, when each is due, and which files are accepted."""

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cpc_reports.domain.files import DOC, DOCX, PDF, RejectedFile, document_type
from cpc_reports.domain.requests import ReportNeeded, due_times, reports_needed
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import Invitee
from cpc_shared.profile import load_profile

PROFILES = Path(__file__).resolve().parents[3] / "profiles"
LONDON = ZoneInfo("Europe/London")
calendar = WorkingDayCalendar()
partner = ReportNeeded("police", "professional")
social_worker = ReportNeeded("childrens_social_care", "social_worker")


def test_the_social_worker_and_each_other_invited_agency_are_asked_once():
    invitees = [Invitee(participant_id="1", role="social_worker", agency="childrens_social_care"),
                Invitee(participant_id="2", role="team_manager", agency="childrens_social_care"),
                Invitee(participant_id="3", role="professional", agency="health"),
                Invitee(participant_id="4", role="professional", agency="health"),
                Invitee(participant_id="5", role="professional", agency="police"),
                Invitee(participant_id="6", role="parent")]
    assert reports_needed(invitees) == [social_worker, ReportNeeded("health", "professional"), partner]


def test_essex_2020_partners_report_48_hours_before_and_the_family_has_the_social_workers_by_then():
    rules = load_profile(PROFILES / "essex-2020.yaml").policy_on(datetime(2020, 4, 1).date()).reports
    starts = datetime(2020, 4, 8, 9, 30, tzinfo=LONDON)
    assert due_times(partner, starts, "initial", rules, calendar, LONDON).due_at == datetime(2020, 4, 6, 9, 30, tzinfo=LONDON)
    times = due_times(social_worker, starts, "review", rules, calendar, LONDON)
    assert times.share_with_family_by == datetime(2020, 4, 6, 9, 30, tzinfo=LONDON)
    assert times.due_at <= times.share_with_family_by
    assert (times.escalate_at - times.due_at).total_seconds() == 24 * 3600


def test_a_working_day_rule_gives_three_days_before_an_initial_conference_and_five_before_a_review():
    rules = load_profile(PROFILES / "gloucestershire-2022.yaml").policy_on(datetime(2026, 12, 1).date()).reports
    starts = datetime(2026, 12, 30, 13, 30, tzinfo=LONDON)  # after Christmas and Boxing Day's substitute
    assert due_times(partner, starts, "initial", rules, calendar, LONDON).due_at == \
        datetime(2026, 12, 23, 13, 30, tzinfo=LONDON)
    assert due_times(partner, starts, "review", rules, calendar, LONDON).due_at == \
        datetime(2026, 12, 21, 13, 30, tzinfo=LONDON)
    assert due_times(social_worker, starts, "initial", rules, calendar, LONDON).share_with_family_by == \
        datetime(2026, 12, 24, 13, 30, tzinfo=LONDON)


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_pdf_and_word_documents_are_recognised_by_their_content():
    assert document_type(b"%PDF-1.7\n...") == PDF
    assert document_type(docx()) == DOCX
    assert document_type(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100) == DOC


@pytest.mark.parametrize(("content", "status", "words"), [
    (b"", 422, "empty"),
    (b"MZ\x90\x00 a program", 415, "PDF or Word"),
    (b"PK\x03\x04 not really a zip", 415, "PDF or Word"),
    (b"%PDF-" + b"x" * 2048, 413, "larger than"),
])
def test_what_is_not_an_acceptable_report_is_refused_with_a_reason(content, status, words):
    with pytest.raises(RejectedFile) as error:
        document_type(content, max_bytes=1024)
    assert error.value.status == status and words in error.value.reason


def test_a_spreadsheet_zip_is_not_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(RejectedFile):
        document_type(buffer.getvalue())


def test_due_times_are_timezone_aware():
    rules = load_profile(PROFILES / "essex-2020.yaml").policy_on(datetime(2020, 4, 1).date()).reports
    assert due_times(partner, datetime(2020, 4, 8, 8, 30, tzinfo=UTC), "initial", rules, calendar,
                     LONDON).due_at.tzinfo is not None


def test_hours_before_a_conference_stop_at_weekends_unless_the_profile_counts_every_hour():
    rules = load_profile(PROFILES / "essex-2020.yaml").policy_on(datetime(2020, 4, 1).date()).reports
    monday = datetime(2020, 4, 20, 9, 30, tzinfo=LONDON)
    assert due_times(partner, monday, "initial", rules, calendar, LONDON).due_at == \
        datetime(2020, 4, 16, 9, 30, tzinfo=LONDON), "48 hours before Monday 09:30 is Thursday 09:30"
    after_easter = datetime(2020, 4, 14, 13, 30, tzinfo=LONDON)  # Tuesday after Good Friday and Easter Monday
    assert due_times(partner, after_easter, "initial", rules, calendar, LONDON).due_at == \
        datetime(2020, 4, 8, 13, 30, tzinfo=LONDON)
    clock = rules.model_copy(update={"partners": rules.partners.model_copy(update={"hours_on": "every_day"})})
    assert due_times(partner, monday, "initial", clock, calendar, LONDON).due_at == \
        datetime(2020, 4, 18, 9, 30, tzinfo=LONDON)


def test_a_conference_held_soon_to_meet_its_deadline_shortens_the_reports_window_and_says_so():
    rules = load_profile(PROFILES / "gloucestershire-2022.yaml").policy_on(datetime(2022, 5, 24).date()).reports
    asked = datetime(2022, 5, 17, 10, 0, tzinfo=LONDON)
    starts = datetime(2022, 5, 24, 9, 30, tzinfo=LONDON)  # three working days before: Thursday 19 May
    times = due_times(partner, starts, "initial", rules, calendar, LONDON, requested_at=asked)
    assert times.due_at == datetime(2022, 5, 19, 9, 30, tzinfo=LONDON) and times.short_notice
    # With the usual time to write, the same rule is not short.
    later = datetime(2022, 5, 27, 9, 30, tzinfo=LONDON)
    assert not due_times(partner, later, "initial", rules, calendar, LONDON, requested_at=asked).short_notice


def test_a_due_time_already_past_when_the_report_is_asked_for_moves_to_the_latest_still_ahead():
    rules = load_profile(PROFILES / "gloucestershire-2022.yaml").policy_on(datetime(2022, 5, 24).date()).reports
    asked = datetime(2022, 5, 20, 10, 0, tzinfo=LONDON)  # Friday; the conference is on Tuesday
    starts = datetime(2022, 5, 24, 13, 30, tzinfo=LONDON)
    times = due_times(social_worker, starts, "initial", rules, calendar, LONDON, requested_at=asked)
    assert times.short_notice
    assert times.due_at == datetime(2022, 5, 23, 13, 30, tzinfo=LONDON), "the working day before, same time"
    assert times.share_with_family_by is not None and asked < times.due_at <= times.share_with_family_by < starts
    next_morning = datetime(2022, 5, 24, 9, 30, tzinfo=LONDON)
    assert due_times(partner, next_morning, "initial", rules, calendar, LONDON,
                     requested_at=datetime(2022, 5, 23, 15, 0, tzinfo=LONDON)).due_at == next_morning
