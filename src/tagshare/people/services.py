"""The one write path for people (ARCHITECTURE rule 1).

Every write goes through `_write`: it cleans the values, enforces the identity rules of SPEC §2.2,
gives each changed field a new version (or the version a sync carries), records a PersonChange
(history) and an outbox event — all in one transaction, so a failed write leaves none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tagshare.errors import Conflict, NotFound, ValidationFailed
from tagshare.matching.normalise import KEY_SOURCES, match_keys
from tagshare.nations.actors import Actor, check_acts_in, require_admin
from tagshare.nations.models import Nation
from tagshare.outbox import services as outbox
from tagshare.outbox.hlc import Version, clock
from tagshare.outbox.models import EventKind
from tagshare.people import catalog, values
from tagshare.people.models import Person, PersonChange, PersonEmail

# Fields a service may set besides the catalog: never synced, local to the nation.
STATUS_FIELDS = ("is_supporter", "is_prospect")
KEY_SOURCE_FIELDS = frozenset(KEY_SOURCES.values())


def person_create(
    *,
    nation: Nation,
    actor: Actor,
    values_in: Mapping[str, Any],
    is_supporter: bool | None = None,
    is_prospect: bool = False,
    versions: Mapping[str, Version] | None = None,
) -> Person:
    """Create a profile. `versions` is for sync: values copied with the version they carry."""
    check_acts_in(actor, nation)
    cleaned = values.clean_changes(dict(values_in))
    person = Person(nation=nation, is_prospect=is_prospect)
    with transaction.atomic():
        _write(
            person, nation=nation, actor=actor, cleaned=cleaned, versions=versions, kind="create"
        )
        if is_supporter is not None:
            person.is_supporter = is_supporter
            Person.objects.filter(pk=person.pk).update(is_supporter=is_supporter)
    return person


def person_update(
    *,
    nation: Nation,
    actor: Actor,
    person: Person,
    changes: Mapping[str, Any],
    versions: Mapping[str, Version] | None = None,
    kind: str = "update",
) -> PersonChange | None:
    """Change catalog fields. Fields whose value does not change are not written (no new version).

    With `versions`, a field is only written when the carried version is newer than the stored
    one — replaying the same sync write changes nothing (SPEC §2.3).
    """
    check_acts_in(actor, nation)
    _check_owned(person, nation)
    cleaned = values.clean_changes(dict(changes))
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        change = _write(
            locked, nation=nation, actor=actor, cleaned=cleaned, versions=versions, kind=kind
        )
    _refresh_from(person, locked)
    return change


def person_set_status(
    *,
    nation: Nation,
    actor: Actor,
    person: Person,
    is_supporter: bool | None = None,
    is_prospect: bool | None = None,
) -> None:
    """Supporter/prospect flags are nation-local and never synced, so they carry no version."""
    check_acts_in(actor, nation)
    _check_owned(person, nation)
    update: dict[str, bool] = {}
    if is_supporter is not None:
        update["is_supporter"] = is_supporter
    if is_prospect is not None:
        update["is_prospect"] = is_prospect
    if update:
        # updated_at moves too, so API clients polling `updated_since` see the change.
        person.updated_at = timezone.now()
        Person.objects.filter(pk=person.pk).update(**update, updated_at=person.updated_at)
        for key, flag in update.items():
            setattr(person, key, flag)


def person_add_email(
    *, nation: Nation, actor: Actor, person: Person, email: str
) -> PersonChange | None:
    """Put an email into the first free slot; a fifth email is refused, never dropped."""
    _check_owned(person, nation)
    wanted = values.normalise_email(email)
    slots = {name: getattr(person, name) for name in catalog.EMAIL_FIELDS}
    if any(values.normalise_email(v or "") == wanted for v in slots.values()):
        return None
    free = [name for name, value in slots.items() if not value]
    if not free:
        raise ValidationFailed(
            f"{person} already has {catalog.MAX_EMAILS} emails; remove one before adding {email}.",
            errors={"email": "too many emails"},
        )
    return person_update(nation=nation, actor=actor, person=person, changes={free[0]: email})


def person_delete(*, nation: Nation, actor: Actor, person: Person) -> None:
    check_acts_in(actor, nation)
    _check_owned(person, nation)
    from tagshare.sharing.profile_links import live_links_sent_from  # sharing builds on people

    with transaction.atomic():
        # Locked first: a sync writing this profile (which holds it) commits before the
        # deletion reads the history and taggings it removes (history has no database check).
        Person.objects.select_for_update().filter(pk=person.pk).exists()
        tag_ids = list(person.taggings.values_list("tag_id", flat=True))
        outbox.emit(
            nation_id=nation.pk,
            kind=EventKind.PERSON_DELETED,
            person_id=person.pk,
            payload={
                "tag_ids": tag_ids,
                "actor": actor.user_id,
                "source": actor.source,
                "sent_links": live_links_sent_from(person.pk),
            },
        )
        person.delete()


def person_restore_value(
    *, nation: Nation, actor: Actor, person: Person, change_id: int, field: str, which: str = "old"
) -> PersonChange | None:
    """Write an earlier value back (SPEC §2.3). It is a new write: new version, new history."""
    require_admin(actor, nation, "restore earlier values")
    _check_owned(person, nation)
    change = PersonChange.objects.filter(pk=change_id, person=person).first()
    entries = change.entries() if change is not None else {}
    if field not in entries:
        raise NotFound(f"No recorded change of {field!r} with id {change_id} on this profile.")
    if which not in ("old", "new"):
        raise ValidationFailed("Choose which value to restore: 'old' or 'new'.")
    return person_update(
        nation=nation,
        actor=actor,
        person=person,
        changes={field: entries[field][which]},
        kind="restore",
    )


# --- internals -------------------------------------------------------------------------------


def _check_owned(person: Person, nation: Nation) -> None:
    if person.nation_id != nation.pk:
        raise NotFound("Person not found.")


def _refresh_from(target: Person, source: Person) -> None:
    for field in Person._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def _write(
    person: Person,
    *,
    nation: Nation,
    actor: Actor,
    cleaned: dict[str, Any],
    versions: Mapping[str, Version] | None,
    kind: str,
) -> PersonChange | None:
    creating = person.pk is None
    stored_versions: dict[str, Any] = dict(person.field_versions or {})
    changed: dict[str, Any] = {}
    for name, new in cleaned.items():
        old = values.read(person, name)
        carried = versions.get(name) if versions else None
        if carried is not None:
            current = Version.from_json(stored_versions.get(name))
            if current is not None and carried <= current:
                continue  # already has this write, or a newer one
        elif values.same(old, new):
            continue
        changed[name] = (old, new, carried)
    if not changed and not creating:
        return None

    # One fresh timestamp for the whole write, newer than every version it replaces.
    floors = [
        v.ts for name in changed if (v := Version.from_json(stored_versions.get(name))) is not None
    ]
    fresh = Version(clock.next_after(*floors), nation.pk)
    history: dict[str, Any] = {}
    for name, (old, new, carried) in changed.items():
        version = carried or fresh
        if carried is not None:
            clock.observe(carried.ts)
        values.write(person, name, new)
        stored_versions[name] = version.as_json()
        history[name] = {
            "old": values.to_json(old),
            "new": values.to_json(new),
            "version": version.as_json(),
        }
    person.field_versions = stored_versions
    if changed.keys() & KEY_SOURCE_FIELDS:
        for column, key in match_keys(
            {source: values.read(person, source) for source in KEY_SOURCE_FIELDS},
            nation.default_region,
        ).items():
            setattr(person, column, key)
    if "support_level" in changed:
        status = supporter_status_for_level(person.support_level)
        if status is not None:
            person.is_supporter = status

    _check_identity(person, nation, changed_fields=set(changed))
    try:
        with transaction.atomic():
            person.save()
            _sync_email_index(person, nation, creating=creating)
    except IntegrityError as exc:
        # A concurrent write won the race the checks above looked for.
        raise Conflict(f"This change clashes with another profile: {exc}") from None

    change = PersonChange.objects.create(
        nation=nation,
        person=person,
        kind=kind,
        source=actor.source,
        actor_id=actor.user_id,
        share_id=actor.share_id,
        changes=history,
    )
    outbox.emit(
        nation_id=nation.pk,
        kind=EventKind.PERSON_CREATED if creating else EventKind.PERSON_UPDATED,
        person_id=person.pk,
        payload={
            "change_id": change.pk,
            "fields": sorted(history),
            "source": actor.source,
            "share_id": actor.share_id,
        },
    )
    return change


def supporter_status_for_level(level: int | None) -> bool | None:
    """Support levels 1–2 make a supporter, 4–5 a non-supporter, 3 leaves it (SPEC §2.2)."""
    if level in (1, 2):
        return True
    if level in (4, 5):
        return False
    return None


def _check_identity(person: Person, nation: Nation, *, changed_fields: set[str]) -> None:
    """Refuse clashes with other profiles with a message naming the other profile."""
    others = (
        Person.objects.filter(nation=nation).exclude(pk=person.pk)
        if person.pk
        else Person.objects.filter(nation=nation)
    )
    errors: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in catalog.EMAIL_FIELDS:
        email = getattr(person, name)
        if not email:
            continue
        key = values.normalise_email(email)
        if key in seen:
            errors[name] = f"{email} is already this profile's {seen[key]}."
        seen[key] = name
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors=errors)
    if seen:
        holders = PersonEmail.objects.filter(nation=nation, address__in=list(seen))
        if person.pk:
            holders = holders.exclude(person_id=person.pk)
        for holder in holders.select_related("person"):
            errors[seen[holder.address]] = (
                f"{holder.address} already belongs to {holder.person} (person {holder.person_id});"
                " an email can be in only one profile of a nation. Merge the two profiles or use"
                " another email."
            )
    for spec in catalog.FIELDS:
        if not spec.unique or spec.name not in changed_fields | set(
            _qualifier_fields(changed_fields)
        ):
            continue
        value = getattr(person, spec.name)
        if value is None:
            continue
        lookup = Q(**{spec.name: value})
        for column in spec.unique_with:
            lookup &= Q(**{column: getattr(person, column)})
        holder_person = others.filter(lookup).first()
        if holder_person is not None:
            scope = f" in {', '.join(spec.unique_with)}" if spec.unique_with else ""
            errors[spec.name] = (
                f"{spec.label} {value!r}{scope} already belongs to {holder_person} "
                f"(person {holder_person.pk}); unique IDs are unique within a nation."
            )
    if errors:
        raise Conflict(next(iter(errors.values())), errors=errors)


def _qualifier_fields(changed: set[str]) -> list[str]:
    # Changing the registered address can make a state/county-qualified ID clash.
    return ["state_file_id", "county_file_id"] if "registered_address" in changed else []


def _sync_email_index(person: Person, nation: Nation, *, creating: bool) -> None:
    wanted = {
        name: values.normalise_email(getattr(person, name))
        for name in catalog.EMAIL_FIELDS
        if getattr(person, name)
    }
    if not creating:
        current = {row.slot: row for row in PersonEmail.objects.filter(person=person)}
        stale = [row.pk for slot, row in current.items() if wanted.get(slot) != row.address]
        if stale:
            PersonEmail.objects.filter(pk__in=stale).delete()
        wanted = {
            slot: addr
            for slot, addr in wanted.items()
            if slot not in current or current[slot].pk in stale
        }
    PersonEmail.objects.bulk_create(
        [
            PersonEmail(nation=nation, person=person, slot=slot, address=addr)
            for slot, addr in wanted.items()
        ]
    )
