"""What the generated schema adds to every operation, so an integrator sees it in the reference and
a generated client knows it: the error answers in the API's one shape, the cursor parameters of
lists and the Idempotency-Key header of POSTs (drf-spectacular POSTPROCESSING_HOOKS)."""

ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "description": "Machine-readable, e.g. validation_error, not_found, "
                                                  "missing_scope, throttled, idempotency_key_reused."},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "For bad input: what is wrong with each field."}}}},
}
ERRORS = {"400": "Bad input; nothing was written.", "401": "No valid API key.",
          "403": "The key lacks a scope, or the caller may not do this.", "404": "No such object in this "
          "organization.", "409": "The object's state does not allow it.", "422": "The Idempotency-Key was used "
          "for another request.", "429": "Too many requests; see Retry-After."}
CURSOR_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 200},
     "description": "Rows per page (50 by default)."},
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "From a page's next or previous link."},
]
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "A retry with the same key and body answers what the first request answered "
                   "(Idempotent-Replayed: true) instead of doing the work again."}


def add_conventions(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(status, {"description": description, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
            parameters = operation.setdefault("parameters", [])
            if method == "get" and operation.get("operationId", "").endswith("_list"):
                parameters.extend(CURSOR_PARAMETERS)
            if method == "post":
                parameters.append(IDEMPOTENCY_HEADER)
    return result
