"""The rules of moderating from inside a room, the same for every provider's room page: who may
change whose role to what, and who may remove whom. The meeting's page (a host's) is not bound by
them; a room is where a moderator acts in the moment."""

from ..models import ROLES_BY_KIND, Invitation, Role


def roles_given_in_room(kind: str) -> list[str]:
    """A host is named on the meeting's page only; a room's moderators hand out the other roles."""
    return [role for role in ROLES_BY_KIND[kind] if role != Role.HOST]


def role_change_refusal(actor: Invitation, target: Invitation, role: str, kind: str) -> str:
    """Why `actor` may not give `target` this role from the room, or ''."""
    if target.pk == actor.pk:
        return "You cannot change your own role."
    if target.role == Role.HOST:
        return "The host's role cannot be changed from the room."
    if target.role == Role.MODERATOR and actor.role != Role.HOST:
        return "Only a host changes a moderator's role."
    if role == Role.HOST:
        return "Only the meeting's page can make someone a host, not the room."
    allowed = roles_given_in_room(kind)
    if role not in allowed:
        return f"{role!r} is not a role in a {kind}; choose one of {', '.join(allowed)}."
    return ""


def removal_refusal(actor: Invitation, target: Invitation) -> str:
    """Why `actor` may not remove `target` from the room, or ''."""
    if target.pk == actor.pk:
        return "You cannot remove yourself; leave instead."
    if target.role == Role.HOST and actor.role != Role.HOST:
        return "Only a host can remove a host."
    return ""
