"""Export writes the import columns plus id and tags, so an export imports back unchanged."""

import csv
import io

from tagshare.imports.columns import export_columns
from tagshare.imports.export import export_people
from tagshare.nations.actors import Actor
from tagshare.people import catalog, values
from tagshare.people.models import Person
from tagshare.people.selectors import person_tags
from tagshare.people.synthetic import synthetic_people
from tagshare.tags.models import Tag, Tagging
from tagshare.tags.services import tag_apply


def _profile(person):
    return {spec.name: values.to_json(values.read(person, spec.name)) for spec in catalog.FIELDS}


def test_export_then_import_into_an_empty_nation_reproduces_the_profiles(
    nation, other_nation, make_person, run_import
):
    for i, row in enumerate(synthetic_people(25, seed=3)):
        row.update(
            note=f'Line one\nline two, with "quotes" {i}', is_volunteer=i % 2 == 0, van_id=f"V{i}"
        )
        person = make_person(nation, **row)
        tag_apply(nation=nation, actor=Actor.system(), person=person, name=f"group {i % 3}")
    out = io.StringIO()
    assert export_people(nation, out) == 25
    job = run_import(other_nation, out.getvalue())
    assert (job.status, job.created_count, job.rejected_count) == ("done", 25, 0)
    originals = {p.email1: p for p in Person.objects.filter(nation=nation)}
    for copy in Person.objects.filter(nation=other_nation):
        original = originals[copy.email1]
        assert _profile(copy) == _profile(original)
        assert person_tags(copy) == person_tags(original)


def test_export_columns_and_tag_filter(nation, other_nation, make_person):
    a = make_person(nation, first_name="A", email1="a@x.org", home_address={"city": "Oslo"})
    make_person(nation, first_name="B", email1="b@x.org")
    tag_apply(nation=nation, actor=Actor.system(), person=a, name="keep")
    shared = Tag.objects.create(nation=nation, name="beta:friends", shared_from=other_nation)
    Tagging.objects.create(tag=shared, person=a)
    out = io.StringIO()
    assert export_people(nation, out, tag="keep") == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == export_columns()
    assert rows[0]["id"] == str(a.pk) and rows[0]["home_city"] == "Oslo"
    assert rows[0]["tags"] == "keep"  # the shared-in tag is the sender's, not exported


def test_reimporting_an_export_into_the_same_nation_changes_nothing(
    nation, make_person, run_import
):
    for row in synthetic_people(10, seed=5):
        make_person(nation, **row)
    out = io.StringIO()
    export_people(nation, out)
    before = list(Person.objects.filter(nation=nation).order_by("id").values())
    job = run_import(nation, out.getvalue(), overwrite=True)
    assert (job.unchanged_count, job.created_count, job.updated_count) == (10, 0, 0)
    assert list(Person.objects.filter(nation=nation).order_by("id").values()) == before
