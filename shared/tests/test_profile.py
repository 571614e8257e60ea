"""Council profiles: the two seed councils load; a wrong one says which line and field, and why."""

from datetime import date
from pathlib import Path

import pytest
from cpc_shared.profile import ProfileError, load_profile

PROFILES = Path(__file__).resolve().parents[2] / "profiles"


def test_both_seed_profiles_load_with_their_policies_in_force_on_the_right_days():
    essex = load_profile(PROFILES / "essex-2020.yaml")
    assert essex.policy_on(date(2020, 3, 24)).attendance["initial"] == "in_person"
    lockdown = essex.policy_on(date(2020, 3, 25))
    assert set(lockdown.attendance.values()) == {"virtual"} and lockdown.quoracy_waived
    assert lockdown.reports.partners.hours_before == 48
    gloucestershire = load_profile(PROFILES / "gloucestershire-2022.yaml")
    assert gloucestershire.policy_on(date(2022, 5, 20)).attendance["initial"] == "in_person"
    assert gloucestershire.policy_on(date(2022, 5, 20)).attendance["review"] == "virtual"
    assert gloucestershire.policy_on(date(2022, 6, 1)).attendance["review"] == "in_person"
    assert len(gloucestershire.offices) == 6 and len(gloucestershire.chairs) == 11


def test_a_wrong_profile_names_the_line_the_field_and_the_problem(tmp_path):
    text = (PROFILES / "gloucestershire-2022.yaml").read_text()
    broken = text.replace("{id: GL-STROUD-COTSWOLD, name: Cotswold Room, capacity: 12,",
                          "{id: GL-STROUD-COTSWOLD, name: Cotswold Room, capacity: -1,")
    path = tmp_path / "profile.yaml"
    path.write_text(broken)
    line = next(n for n, row in enumerate(broken.splitlines(), 1) if "capacity: -1" in row)
    with pytest.raises(ProfileError) as error:
        load_profile(path)
    assert f"line {line}, offices.2.rooms.0.capacity: Input should be greater than 0" in str(error.value)


def test_a_policy_missing_a_kind_of_conference_is_refused(tmp_path):
    text = (PROFILES / "essex-2020.yaml").read_text().replace(
        "attendance: {initial: virtual, review: virtual, transfer_in: virtual, pre_birth: virtual}",
        "attendance: {initial: virtual, review: virtual}")
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError, match="attendance needs a mode for pre_birth, transfer_in"):
        load_profile(path)


def test_closure_days_from_the_environment_are_added_to_the_profiles_in_the_one_place_services_read_it(monkeypatch):
    from cpc_shared.settings import ProfiledSettings

    monkeypatch.setenv("CPC_PROFILE_PATH", str(PROFILES / "gloucestershire-2022.yaml"))
    monkeypatch.setenv("CPC_CLOSURE_DAYS", '["2022-05-18"]')
    profile = ProfiledSettings().profile()
    assert date(2022, 5, 18) in profile.closure_days
    assert not profile.calendar().is_working_day(date(2022, 5, 18))
    assert profile.calendar().is_working_day(date(2022, 5, 17))
    assert load_profile(PROFILES / "gloucestershire-2022.yaml").calendar().is_working_day(date(2022, 5, 18))


def test_no_service_reads_the_profile_or_counts_working_days_but_through_the_settings():
    """CPC_CLOSURE_DAYS once reached only two of the four services: each read its profile its own way."""
    services = Path(__file__).resolve().parents[2] / "services"
    for source in services.glob("*/cpc_*/**/*.py"):
        text = source.read_text()
        assert "load_profile(" not in text, f"{source}: use settings.profile()"
        assert "WorkingDayCalendar(" not in text, f"{source}: use profile.calendar()"
