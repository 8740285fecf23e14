"""A person's secret calendar feed of upcoming meetings, and the page that manages its address."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.i18n import language_of
from portal.site import absolute_reverse

from .. import calendar, links
from ..emails import join_url
from ..models import CalendarFeed, Invitation, Meeting


def _feed_url(request, feed) -> str:
    return absolute_reverse("calendar_feed", links.calendar_feed_token(feed))


def _set_hash(feed: CalendarFeed) -> None:
    feed.token_hash = links.token_hash(links.calendar_feed_token(feed))


@login_required
def calendar_settings(request):
    feed = CalendarFeed.objects.filter(user=request.user).first()
    if request.method == "POST":
        with transaction.atomic():
            if feed is None:
                feed = CalendarFeed(user=request.user)
            else:
                feed.generation += 1  # the previous address stops working
            _set_hash(feed)
            feed.save()
        messages.success(request, _("Your calendar address is ready. Any earlier address no longer works."))
        return redirect("calendar_settings")
    return render(request, "meetings/calendar_settings.html", {"feed_url": _feed_url(request, feed) if feed else None})


def calendar_feed(request, token):
    if not links.is_well_formed(token):
        raise Http404
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=links.token_hash(token)).first()
    if feed is None or not links.hashes_match(token, feed.token_hash) or not feed.user.is_active:
        raise Http404
    user, now = feed.user, timezone.now()
    invitations = (Invitation.objects.filter(Q(user=user) | Q(email=user.email), revoked_at__isnull=True,
                                             meeting__status=Meeting.Status.SCHEDULED,
                                             meeting__occurrences__end__gt=now)
                   .select_related("meeting", "meeting__owner").distinct())
    entries = [(invitation.meeting, join_url(invitation)) for invitation in invitations]
    with translation.override(language_of(user)):
        ics = calendar.feed_ics(entries)
    response = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
