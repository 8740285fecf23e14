"""System checks of the meetings app's settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def jitsi_frame_origin(app_configs, **kwargs):
    """A JITSI_FRAME_ORIGIN given but unusable (not https, not a bare origin, or on the portal's own site)
    leaves every Jitsi room answering 503; empty is fine (no Jitsi rooms)."""
    from .providers.jitsi.frame import setting_problem

    if not (settings.JITSI_FRAME_ORIGIN or "").strip():
        return []
    problem = setting_problem()
    return [checks.Error(problem, id="meetings.E001")] if problem else []
