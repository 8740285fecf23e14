from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.validators import validate_single_line

from . import services
from .models import EVENT_CHOICES


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(label=_("URL"), help_text=_("Where the portal POSTs events: a public http(s) address."),
                          widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/portal"}))
    description = forms.CharField(required=False, max_length=200, validators=[validate_single_line],
                                  label=_("Description"), help_text=_("For you: what receives these events."))
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
                                       label=_("Events"), help_text=_("Only these events are sent here."))

    def __init__(self, *args, endpoint=None, **kwargs):
        self.endpoint = endpoint
        if endpoint is not None:
            kwargs.setdefault("initial", {"url": endpoint.url, "description": endpoint.description,
                                          "events": endpoint.events, "enabled": endpoint.enabled})
        super().__init__(*args, **kwargs)
        if endpoint is not None:
            self.fields["enabled"] = forms.BooleanField(
                required=False, label=_("Enabled"),
                help_text=_("A disabled endpoint is sent nothing; enabling it forgives its failures."))

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        if self.endpoint is not None and url == self.endpoint.url:
            return url
        if problem := services.url_problem(url):
            raise ValidationError(problem)
        return url
