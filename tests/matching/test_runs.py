"""Matching runs are scratch: a run's staging rows go with it, and a run left behind goes too."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tagshare.matching import engine
from tagshare.matching.models import MatchIncoming, MatchRun


def test_a_new_run_discards_runs_left_behind_a_day_ago_and_no_younger_one(nation, make_person):
    make_person(nation, first_name="Ada", last_name="Lovelace")
    left, busy = (engine.run_create(nation=nation, id_fields=[]) for _ in range(2))
    for run in (left, busy):
        engine.stage_people(run, nation_id=nation.pk)
    MatchRun.objects.filter(pk=left.pk).update(created_at=timezone.now() - timedelta(days=2))
    MatchRun.objects.filter(pk=busy.pk).update(created_at=timezone.now() - timedelta(hours=2))
    fresh = engine.run_create(nation=nation, id_fields=[])
    assert set(MatchRun.objects.values_list("pk", flat=True)) == {busy.pk, fresh.pk}
    assert set(MatchIncoming.objects.values_list("run_id", flat=True)) == {busy.pk}
