"""The nearest office and the rooms that suit a conference."""

from pathlib import Path

import pytest
from cpc_shared.contracts.outbound import FamilyArea, RoomRequested
from cpc_shared.offices import offices_by_nearness, suitable_rooms
from cpc_shared.profile import load_profile

PROFILES = Path(__file__).resolve().parents[3] / "profiles"
gloucestershire = load_profile(PROFILES / "gloucestershire-2022.yaml")


def room_request(**fields):
    return RoomRequested.model_validate({
        "conference_id": "CPC-1", "case_id": "C", "room_request_id": "RR", "attendance_mode": "in_person",
        "in_person_attendees": 8, "family_area": {}, "candidates": [], **fields})


@pytest.mark.parametrize(("lat", "lon", "office"), [
    (51.79, -2.61, "GL-COLEFORD"), (51.90, -2.08, "GL-CHELTENHAM"), (51.99, -2.16, "GL-TEWKESBURY"),
    (51.72, -1.97, "GL-CIRENCESTER"), (51.75, -2.22, "GL-STROUD"), (51.86, -2.24, "GL-GLOUCESTER"),
])
def test_the_nearest_office_is_chosen_from_the_familys_location(lat, lon, office):
    assert offices_by_nearness(FamilyArea(lat=lat, lon=lon), gloucestershire)[0].id == office


def test_without_a_location_the_postcode_district_decides():
    assert offices_by_nearness(FamilyArea(postcode_district="GL20"), gloucestershire)[0].id == "GL-TEWKESBURY"


def test_without_location_or_known_postcode_the_default_office_is_used():
    assert offices_by_nearness(FamilyArea(postcode_district="ZZ9"), gloucestershire)[0].id == "GL-GLOUCESTER"
    assert offices_by_nearness(FamilyArea(), gloucestershire)[0].id == "GL-GLOUCESTER"


def test_the_next_nearest_offices_follow_the_nearest():
    ranked = [o.id for o in offices_by_nearness(FamilyArea(lat=51.79, lon=-2.61), gloucestershire)]
    assert ranked[:2] == ["GL-COLEFORD", "GL-GLOUCESTER"]


def test_rooms_must_fit_everyone_and_have_step_free_access_when_the_family_needs_it():
    cheltenham = next(o for o in gloucestershire.offices if o.id == "GL-CHELTENHAM")
    assert [r.id for r in suitable_rooms(cheltenham, room_request())] == ["GL-CHELTENHAM-PROMENADE", "GL-CHELTENHAM-CHELT"]
    assert [r.id for r in suitable_rooms(cheltenham, room_request(step_free_access=True))] == ["GL-CHELTENHAM-CHELT"]
    assert suitable_rooms(cheltenham, room_request(in_person_attendees=13)) == []


def test_a_hybrid_conference_needs_a_room_with_hybrid_equipment_and_a_hearing_loop_when_needed():
    cheltenham = next(o for o in gloucestershire.offices if o.id == "GL-CHELTENHAM")
    plain = cheltenham.rooms[1].model_copy(update={"hybrid": False})
    office = cheltenham.model_copy(update={"rooms": [cheltenham.rooms[0], plain]})
    assert [r.id for r in suitable_rooms(office, room_request(attendance_mode="hybrid"))] == ["GL-CHELTENHAM-CHELT"]
    assert [r.id for r in suitable_rooms(office, room_request(hearing_loop=True))] == ["GL-CHELTENHAM-CHELT"]
    assert len(suitable_rooms(office, room_request(attendance_mode="in_person"))) == 2


def test_beyond_the_councils_distance_limit_an_office_is_not_offered_unless_it_is_the_only_one():
    within_40_km = gloucestershire.model_copy(update={"max_office_distance_km": 40})
    ranked = [o.id for o in offices_by_nearness(FamilyArea(lat=51.79, lon=-2.61), within_40_km)]
    assert ranked[0] == "GL-COLEFORD" and "GL-CIRENCESTER" not in ranked  # about 45 km from Coleford
    far_away = offices_by_nearness(FamilyArea(lat=53.48, lon=-2.24), gloucestershire)  # Manchester
    assert [o.id for o in far_away] == ["GL-TEWKESBURY"]
