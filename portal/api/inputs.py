"""The base of every API input: a field the API does not know is refused, not ignored, so a typo
("titel") is a 400 the caller sees rather than a change that silently did not happen."""

from rest_framework import serializers


class Input(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted("".join(ch for ch in str(name) if ch.isprintable())[:50] or "?"
                             for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["This field is not part of the request."]
                                                   for name in unknown})
        return super().to_internal_value(data)
