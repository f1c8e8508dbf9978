"""``{% load accepton %}{% accepton_form product %}``: the AcceptOn form for a product."""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from django_accepton.api import get_connection
from django_accepton.client import AcceptOnError
from django_accepton.services.tokens import mint_token

register = template.Library()
logger = logging.getLogger(__name__)

ADDITIONAL_FIELDS = frozenset({"name", "phone", "billing_address", "shipping_address"})


def _additional_fields(value: str | list[str] | tuple[str, ...]) -> str:
    fields = value.split(",") if isinstance(value, str) else list(value)
    fields = [f.strip() for f in fields if f.strip()]
    unknown = sorted(set(fields) - ADDITIONAL_FIELDS)
    if unknown:
        raise template.TemplateSyntaxError(
            f"accepton_form: unknown additional_fields {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(ADDITIONAL_FIELDS))}."
        )
    return ",".join(fields)


@register.simple_tag(takes_context=True)
def accepton_form(
    context: template.Context,
    product: Any,
    *,
    target: str = "",
    success_callback: str = "",
    verify_in_page: bool = False,
    customer_email: str = "",
    additional_fields: str | list[str] = "",
    redirect_uri: str = "",
) -> SafeString:
    """Render AcceptOn's script tag for ``product`` with a fresh (or reused) token.

    ``verify_in_page=True`` adds a success callback that posts the charge to the JSON endpoint
    and follows its answer, instead of letting the form POST to the redirect URI.
    """
    request = context.get("request")
    try:
        token = mint_token(product)
        connection = get_connection()
    except AcceptOnError:
        logger.exception("No AcceptOn token for %r: the form is not shown", product)
        return SafeString(
            render_to_string("django_accepton/form_unavailable.html", request=request)
        )
    return_path = f"{reverse('accepton:return')}?token={token.pk}"
    if not redirect_uri:
        redirect_uri = request.build_absolute_uri(return_path) if request else return_path
    callback_name = success_callback
    if verify_in_page:
        callback_name = f"acceptonVerify_{token.pk}"
    form_context = {
        "connection": connection,
        "token": token,
        "target": target,
        "redirect_uri": redirect_uri,
        "success_callback": callback_name,
        "store_callback": success_callback,
        "verify_in_page": verify_in_page,
        "verify_url": reverse("accepton:verify"),
        "csrf_token": get_token(request) if (verify_in_page and request) else "",
        "customer_email": customer_email,
        "additional_fields": _additional_fields(additional_fields),
    }
    return SafeString(render_to_string("django_accepton/form.html", form_context, request=request))
