from tagshare.nations.actors import Actor
from tagshare.people.services import person_update


def test_create_and_update(nation, make_person):
    p = make_person(nation, first_name="Ada", email1="Ada@Example.org ")
    change = person_update(
        nation=nation, actor=Actor.system(), person=p, changes={"last_name": "Lovelace"}
    )
    assert change is not None
    p.refresh_from_db()
    assert p.last_name == "Lovelace"
    assert p.email1 == "Ada@Example.org"
