"""How the OpenAPI schema describes the API's two ways in (drf-spectacular finds these extensions
when this module is imported, which portal/api/access.py does)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.access.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "mpk_<prefix>_<secret>",
                "description": "An API key an organization admin made in the portal (API keys page)."}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.access.SessionAuthentication"
    name = "portalSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "The portal's own pages: the session cookie, a CSRF token on writes and the "
                               "organization in X-Organization."}
