"""System checks of the meetings app's settings (`manage.py check --deploy`)."""

from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def provider_settings(app_configs, **kwargs):
    """What each provider says is wrong with the portal's settings for it (Provider.deploy_problems):
    a setting given but unusable leaves that provider's rooms answering 503."""
    from .providers import PROVIDERS

    return [checks.Error(f"{provider.name}: {problem}", id="meetings.E001")
            for provider in PROVIDERS.values() for problem in provider.deploy_problems()]
