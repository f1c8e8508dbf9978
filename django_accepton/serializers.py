from __future__ import annotations

from rest_framework import serializers

from django_accepton.services.verification import CHARGE_ID_RE, TOKEN_ID_RE, Reason


class ChargeSubmissionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What the page's success callback posts: the charge id and the token it paid."""

    charge_id = serializers.RegexField(CHARGE_ID_RE, max_length=64)
    token = serializers.RegexField(TOKEN_ID_RE, max_length=64)


class VerificationSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.ChoiceField(choices=[r.value for r in Reason])
    paid = serializers.BooleanField(help_text="This charge paid for this token.")
    pending = serializers.BooleanField(help_text="AcceptOn was unreachable; confirmation follows.")
    charge_id = serializers.CharField()
    token = serializers.CharField()
    redirect_url = serializers.CharField()
