"""Reads for tags, scoped to one nation."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from tagshare.errors import NotFound
from tagshare.nations.models import Nation
from tagshare.tags.models import Tag


def tags_list(nation: Nation) -> QuerySet[Tag]:
    return (
        Tag.objects.filter(nation=nation)
        .annotate(taggings_count=Count("taggings"))
        .order_by("name")
    )


def access_tag_by_name(nation: Nation, name: str) -> Tag:
    tag = Tag.objects.filter(nation=nation, name=" ".join(name.split())).first()
    if tag is None:
        raise NotFound(f"No tag named {name!r} in this nation.")
    return tag
