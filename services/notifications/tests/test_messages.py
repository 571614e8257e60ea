"""What families and professionals are told."""

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cpc_notifications.domain.messages import Conference, Place, Recipient, compose
from cpc_shared.contracts.outbound import Invitee

LONDON = ZoneInfo("Europe/London")
README = Path(__file__).resolve().parents[3] / "README.md"

EXAMPLE = Conference(
    conference_id="CPC-3F2A9C1B7D40", case_id="CASE-8841", kind="initial",
    starts_at=datetime(2026, 12, 8, 9, 30, tzinfo=UTC), ends_at=datetime(2026, 12, 8, 11, 30, tzinfo=UTC),
    statutory_deadline=date(2026, 12, 11), version=1,
    invitees=[Invitee(participant_id="P-1", role="parent"), Invitee(participant_id="P-2", role="parent"),
              Invitee(participant_id="P-3", role="social_worker", agency="childrens_social_care"),
              Invitee(participant_id="P-4", role="professional", agency="health"),
              Invitee(participant_id="P-5", role="professional", agency="police"),
              Invitee(participant_id="P-6", role="professional", agency="education")],
    place=Place(office_address="Shire Hall, Westgate Street, Gloucester GL1 2TP", room_name="Severn Room",
                step_free=True),
    children=2, family_report_by=datetime(2026, 12, 4, 9, 30, tzinfo=UTC),
)
PARENT = Recipient(participant_id="P-1", role="parent", name="Sam")


def test_the_family_invitation_says_what_why_when_where_who_and_when_they_speak():
    message = compose("invitation", EXAMPLE, PARENT, LONDON)
    body = message.body
    assert message.subject == "Your child protection conference" and not message.translation_missing
    assert "child protection conference" in body and "Why are we meeting?" in body
    assert "Tuesday 8 December 2026 at 9:30am" in body and "about 2 hours" in body
    assert "Severn Room, Shire Hall, Westgate Street, Gloucester GL1 2TP" in body and "step-free" in body
    assert "someone from the police" in body and "the chair, who runs the meeting" in body
    assert "You are asked to speak" in body
    assert "advocate" in body and "not be someone from your family" in body
    assert "by Friday 4 December" in body
    assert "contact your social worker" in body


def test_the_invitation_to_an_online_conference_gives_the_link_and_a_phone_number():
    online = Conference(**{**EXAMPLE.__dict__, "place": Place(meeting_link="https://meet.example/cpc/X",
                                                                 dial_in="01632 960100")})
    body = compose("invitation", online, PARENT, LONDON).body
    assert "https://meet.example/cpc/X" in body and "01632 960100" in body


def test_professionals_get_the_reference_and_deadline_and_no_family_reading_age_text():
    message = compose("invitation", EXAMPLE, Recipient(participant_id="P-4", role="professional"), LONDON)
    assert message.subject == "Child protection conference CPC-3F2A9C1B7D40"
    assert "Statutory deadline: 11 December 2026" in message.body and "Hello" not in message.body


def test_a_language_without_templates_gets_english_and_a_flag_for_staff():
    message = compose("invitation", EXAMPLE, Recipient(participant_id="P-1", role="parent", language="ro"), LONDON)
    assert message.translation_missing and message.language == "en"
    assert "child protection conference" in message.body


def test_updates_cancellations_and_reminders_say_so():
    assert compose("update", EXAMPLE, PARENT, LONDON).body.startswith("The time or place of the meeting has changed")
    assert "will not take place" in compose("cancellation", EXAMPLE, PARENT, LONDON).body
    assert "reminder" in compose("reminder-1", EXAMPLE, PARENT, LONDON).body


FORM_LINK = "http://127.0.0.1:8103/family/gAAAAABpLm9...(their own token)"


def test_the_readme_shows_the_family_invitation_as_it_is_sent():
    body = compose("invitation", EXAMPLE, PARENT, LONDON, form_link=FORM_LINK).body
    assert body in README.read_text(), "update the example invitation in README.md"


def test_when_only_the_people_change_the_family_is_told_who_will_be_there_now():
    message = compose("update-people", EXAMPLE, PARENT, LONDON)
    assert message.subject == "Your child protection conference has changed"
    assert message.body.startswith("The people invited to the meeting have changed. The time and place are the same.")
    assert "Who will be there?" in message.body and "someone from the police" in message.body


def test_a_professional_dropped_from_a_conference_is_told_to_take_it_out_of_their_diary():
    message = compose("cancellation-no_longer_invited", EXAMPLE, Recipient(participant_id="P-5", role="professional"),
                      LONDON)
    assert message.subject == "No longer invited: child protection conference CPC-3F2A9C1B7D40"
    assert "no longer invited" in message.body and "goes ahead without you" in message.body
    assert "Tuesday 8 December 2026" in message.body


def test_an_agency_asked_at_short_notice_is_told_why_its_time_is_short():
    police = Recipient(participant_id="P-5", role="professional", name=None)
    usual = compose("report_request", EXAMPLE, police, LONDON, due="friday 4 december, 9:30am", report_id="RPT-1",
                    short_notice="no").body
    short = compose("report_request", EXAMPLE, police, LONDON, due="friday 4 december, 9:30am", report_id="RPT-1",
                    short_notice="yes").body
    assert "less time than usual" not in usual
    assert "less time than usual" in short and "must be held by 11 December 2026" in short
    assert "Your report is due by friday 4 december, 9:30am." in short


def test_a_polish_family_is_invited_in_polish_and_told_their_interpreter_is_booked():
    polish_parent = Recipient(participant_id="P-1", role="parent", name="Ania", language="pl")
    with_interpreter = replace(EXAMPLE, interpreter_needed=True)
    message = compose("invitation", with_interpreter, polish_parent, LONDON)
    assert message.language == "pl" and not message.translation_missing
    assert message.subject == "Twoja konferencja w sprawie ochrony dziecka"
    body = message.body
    assert body.startswith("Dzień dobry Ania,")
    assert "wtorek 8 grudnia 2026, godzina 9:30" in body and "około 2 godzin" in body
    assert "bezpieczeństwa Twoich dzieci" in body
    assert "2 rodziców" in body and "ktoś z policji" in body and "przewodniczący, który prowadzi spotkanie" in body
    assert "Zarezerwowaliśmy dla Ciebie tłumacza" in body and "do dnia: piątek 4 grudnia" in body
    assert not any(word in body for word in ("Hello", "When?", "Who will be there", " by Friday"))
    professional = compose("invitation", with_interpreter, Recipient(participant_id="P-5", role="professional"), LONDON)
    assert professional.language == "en", "professionals are written to in English"


def test_parents_and_children_are_each_given_their_own_form_in_their_own_words():
    parent = compose("invitation", EXAMPLE, PARENT, LONDON, form_link=FORM_LINK).body
    assert "Tell us what you think before the meeting" in parent and FORM_LINK in parent
    assert "change them until the end of Monday 7 December." in parent
    child = compose("invitation", EXAMPLE, Recipient(participant_id="C-1", role="child"), LONDON, form_link=FORM_LINK).body
    assert "With your social worker or another adult you trust" in child and FORM_LINK in child
    polish = compose("update", EXAMPLE, Recipient(participant_id="P-1", role="parent", language="pl"), LONDON,
                     form_link=FORM_LINK).body
    assert "Napisz nam, co myślisz, przed spotkaniem" in polish and "do końca dnia: poniedziałek 7 grudnia." in polish
    assert "Tell us what you think" not in compose("invitation", EXAMPLE, PARENT, LONDON).body, "no link, no paragraph"
