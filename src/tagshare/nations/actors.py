"""Who is acting: every service takes an explicit Actor (ARCHITECTURE rule 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tagshare.errors import NotAllowed, NotFound
from tagshare.people.models import Source

if TYPE_CHECKING:
    from tagshare.nations.models import Nation, User


@dataclass(frozen=True)
class Actor:
    source: str
    user: User | None = None
    share_id: int | None = None

    @classmethod
    def for_user(cls, user: User, *, via: str = Source.USER) -> Actor:
        return cls(source=via, user=user)

    @classmethod
    def system(cls) -> Actor:
        return cls(source=Source.SYSTEM)

    @classmethod
    def importer(cls, user: User | None = None) -> Actor:
        return cls(source=Source.IMPORT, user=user)

    @classmethod
    def share(cls, share_id: int) -> Actor:
        return cls(source=Source.SHARE, share_id=share_id)

    @property
    def is_share(self) -> bool:
        return self.source == Source.SHARE

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @property
    def is_admin(self) -> bool:
        # System and share actors run the product's own rules; only users have roles.
        return self.user is None or self.user.is_nation_admin


def check_acts_in(actor: Actor, nation: Nation) -> None:
    """A user may only act in their own nation; anything else looks like a missing record."""
    if actor.user is not None and actor.user.nation_id != nation.pk:
        raise NotFound("Not found.")


def require_admin(actor: Actor, nation: Nation, action: str) -> None:
    check_acts_in(actor, nation)
    if not actor.is_admin:
        raise NotAllowed(f"Only nation admins can {action}. Ask an admin of {nation.slug}.")
