"""One profile through the import engine (SPEC §9: `PUT /people/push` and `PUT /people/add`).

Match the given values against the nation (the cascade of SPEC §4, every unique ID given in
play); a match takes the values with import semantics (`overwrite` like push, fill-blanks like
add), no match creates a profile, an ambiguous match is refused with its candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from tagshare.errors import Conflict, ValidationFailed
from tagshare.imports.reader import has_identity
from tagshare.imports.services import changes_for_match
from tagshare.matching import engine
from tagshare.matching.models import MatchStatus
from tagshare.nations.actors import Actor, check_acts_in
from tagshare.nations.models import Nation
from tagshare.people import catalog, values
from tagshare.people.models import Person
from tagshare.people.services import person_create, person_update


@dataclass(frozen=True)
class PushResult:
    person: Person
    created: bool
    rule: str


def person_push(
    *, nation: Nation, actor: Actor, values_in: dict[str, Any], overwrite: bool
) -> PushResult:
    check_acts_in(actor, nation)
    cleaned = values.clean_changes(values_in)
    if not has_identity(cleaned):
        raise ValidationFailed(
            "A person needs an email, a unique ID, or a first and last name with a birthdate or "
            "phone to be matched."
        )
    opt_in = [name for name in catalog.OPT_IN_IDS if cleaned.get(name)]
    with transaction.atomic():
        outcome = engine.match_one(
            nation=nation, values=cleaned, id_fields=engine.default_id_fields(opt_in)
        )
        if outcome.status == MatchStatus.AMBIGUOUS:
            raise Conflict(
                f"Ambiguous match: {outcome.reason} (people {', '.join(map(str, outcome.candidates))}). "
                "Merge the duplicates, or send a unique ID that tells them apart.",
                errors={"candidates": ", ".join(map(str, outcome.candidates))},
            )
        if outcome.status == MatchStatus.NOT_FOUND:
            person = person_create(nation=nation, actor=actor, values_in=cleaned)
            return PushResult(person=person, created=True, rule="")
        assert outcome.person_id is not None  # a match always names its person
        person = Person.objects.get(nation=nation, pk=outcome.person_id)
        changes = changes_for_match(person, cleaned, overwrite=overwrite)
        if isinstance(changes, str):
            raise ValidationFailed(changes[0].upper() + changes[1:] + ".")
        if changes:
            person_update(nation=nation, actor=actor, person=person, changes=changes)
        return PushResult(person=person, created=False, rule=outcome.rule)
