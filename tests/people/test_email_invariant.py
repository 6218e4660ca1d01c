"""Property: whatever sequence of writes users attempt, no email sits in two profiles of a nation."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagshare.errors import DomainError
from tagshare.nations.actors import Actor
from tagshare.nations.services import nation_create
from tagshare.people import catalog, services, values
from tagshare.people.models import Person, PersonEmail

EMAILS = ["a@x.org", "A@x.org", " b@x.org", "c@x.org", "C@X.ORG ", "d@x.org", ""]

operation = st.tuples(
    st.sampled_from(["create", "update", "delete"]),
    st.integers(min_value=0, max_value=4),  # which existing profile
    st.dictionaries(st.sampled_from(catalog.EMAIL_FIELDS), st.sampled_from(EMAILS), max_size=3),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(operation, min_size=1, max_size=12))
def test_no_email_is_ever_in_two_profiles(db, operations):
    nation = nation_create(slug="prop", name="Prop")
    actor = Actor.system()
    try:
        for kind, index, emails in operations:
            people = list(Person.objects.filter(nation=nation).order_by("id"))
            try:
                if kind == "create" or not people:
                    services.person_create(nation=nation, actor=actor, values_in=emails)
                elif kind == "update":
                    target = people[index % len(people)]
                    services.person_update(
                        nation=nation, actor=actor, person=target, changes=emails
                    )
                else:
                    services.person_delete(
                        nation=nation, actor=actor, person=people[index % len(people)]
                    )
            except DomainError:
                pass  # refusals are fine; what matters is what got stored
            _assert_invariant(nation)
    finally:
        nation.delete()


def _assert_invariant(nation):
    seen: dict[str, int] = {}
    for person in Person.objects.filter(nation=nation):
        stored = {
            slot: values.normalise_email(getattr(person, slot))
            for slot in catalog.EMAIL_FIELDS
            if getattr(person, slot)
        }
        index = dict(PersonEmail.objects.filter(person=person).values_list("slot", "address"))
        assert index == stored, "the email index must mirror the profile's email fields"
        for address in stored.values():
            assert address not in seen, f"{address} in profiles {seen[address]} and {person.pk}"
            seen[address] = person.pk
