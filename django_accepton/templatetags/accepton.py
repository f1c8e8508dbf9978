"""``{% load accepton %}``: AcceptOn's payment form.

``{% accepton_form product %}`` sells a product once, with a one-off token minted for it;
``{% accepton_subscription_form plan %}`` subscribes the customer to a plan, with the plan's
recurring token. Both take the same options and render the same script tag, with the public
key only.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from django import template
from django.conf import settings
from django.middleware.csrf import get_token as csrf_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString

from django_accepton.api import get_connection
from django_accepton.client import AcceptOnError
from django_accepton.models import Plan, TransactionToken
from django_accepton.products import ProductError, describe_product
from django_accepton.services.recurring import RecurringTokenMissing, recurring_token_for
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import TOKEN_ID_RE

register = template.Library()
logger = logging.getLogger(__name__)

ADDITIONAL_FIELDS = frozenset({"name", "phone", "billing_address", "shipping_address"})


def _additional_fields(value: str | list[str] | tuple[str, ...], tag: str) -> str:
    fields = value.split(",") if isinstance(value, str) else list(value)
    fields = [f.strip() for f in fields if f.strip()]
    unknown = sorted(set(fields) - ADDITIONAL_FIELDS)
    if unknown:
        raise template.TemplateSyntaxError(
            f"{tag}: unknown additional_fields {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(ADDITIONAL_FIELDS))}."
        )
    return ",".join(fields)


def _mint(product: Any, request: Any) -> TransactionToken:
    # Only a catalogue product's token is the shopper's own (and only it starts a session).
    info = describe_product(product)  # once: mint_token takes it as it is
    user = getattr(request, "user", None)
    return mint_token(info, shopper="" if info.sold_once else _shopper(request), user=user)


SHOPPER_KEY = "django_accepton_shopper"


def _shopper(request: Any) -> str:
    """Who is checking out, for a catalogue product's own token: a random id kept in the session
    (not the session key: with signed-cookie sessions two new visitors can share one). Empty
    without a session: a token is then minted each time."""
    session = getattr(request, "session", None)
    if session is None:
        return ""
    shopper = session.get(SHOPPER_KEY)
    if not isinstance(shopper, str) or not shopper:
        shopper = secrets.token_hex(16)
        session[SHOPPER_KEY] = shopper
    return shopper


# A function name on ``window`` (what AcceptOn's form calls), and an element id.
JS_NAME_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,99}")
ELEMENT_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,99}")


def _path(name: str) -> str:
    """``reverse(name)``, computed once per URLconf and script prefix (a render reverses two
    routes, and reversing costs as much as the rest of a cached render)."""
    return _reversed(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@functools.lru_cache(maxsize=64)
def _reversed(name: str, urlconf: Any, prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


def _check_name(tag: str, option: str, value: str, shape: re.Pattern[str]) -> None:
    if value and not (isinstance(value, str) and shape.fullmatch(value)):
        raise template.TemplateSyntaxError(
            f"{tag}: {option} must be a plain name (letters, digits, '_'), not {value!r}."
        )


def _unavailable(request: Any) -> SafeString:
    return SafeString(render_to_string("django_accepton/form_unavailable.html", request=request))


def _render(
    context: template.Context,
    tag: str,
    subject: Any,
    get_token: Callable[[], TransactionToken],
    *,
    target: str,
    success_callback: str,
    verify_in_page: bool,
    customer_email: str,
    additional_fields: str | list[str],
    redirect_uri: str,
) -> SafeString:
    request = context.get("request")
    fields = _additional_fields(additional_fields, tag)
    if verify_in_page and find_spec("rest_framework") is None:
        raise template.TemplateSyntaxError(
            f"{tag}: verify_in_page posts to the JSON route, which needs djangorestframework: "
            "pip install 'django-accepton[drf]'."
        )
    _check_name(tag, "success_callback", success_callback, JS_NAME_RE)
    _check_name(tag, "target", target, ELEMENT_ID_RE)
    try:
        token = get_token()
        connection = get_connection()
    except AcceptOnError:
        logger.exception("No AcceptOn token for %r: the form is not shown", subject)
        return _unavailable(request)
    if not TOKEN_ID_RE.fullmatch(token.pk):
        # Only ids of AcceptOn's shape reach a page (one set in the admin, say, is not checked
        # there against a script's quoting).
        logger.error("Token id %r is not shaped like AcceptOn's: the form is not shown", token.pk)
        return _unavailable(request)
    return_path = f"{_path('accepton:return')}?token={token.pk}"
    if not redirect_uri:
        redirect_uri = request.build_absolute_uri(return_path) if request else return_path
    else:
        # The return route reads the token from the URI; a store's own route may too.
        parts = urlsplit(redirect_uri)
        if "token" not in parse_qs(parts.query):
            query = f"{parts.query}&token={token.pk}" if parts.query else f"token={token.pk}"
            redirect_uri = urlunsplit(parts._replace(query=query))
    callback_name = success_callback
    if verify_in_page:
        callback_name = f"acceptonVerify_{token.pk}"
    form_context = {
        "connection": connection,
        "token": token,
        "target": target,
        "redirect_uri": redirect_uri,
        "success_callback": callback_name,
        "verify_in_page": verify_in_page,
        "customer_email": customer_email,
        "additional_fields": fields,
        # The in-page script reads its values from a JSON element, never from its own text.
        "in_page_id": f"accepton-in-page-{token.pk}",
        "in_page": {},
    }
    if verify_in_page:
        form_context["in_page"] = {
            "callback": callback_name,
            "storeCallback": success_callback,
            "redirectUri": redirect_uri,
            "verifyUrl": _path("accepton:verify"),
            "csrfToken": csrf_token(request) if request else "",
            "token": token.pk,
        }
    return SafeString(render_to_string("django_accepton/form.html", form_context, request=request))


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
    """Render AcceptOn's script tag for ``product`` with a fresh (or reused) one-off token.

    ``verify_in_page=True`` adds a success callback that posts the charge to the JSON endpoint
    and follows its answer, instead of letting the form POST to the redirect URI.
    """
    return _render(
        context,
        "accepton_form",
        product,
        lambda: _mint(product, context.get("request")),
        target=target,
        success_callback=success_callback,
        verify_in_page=verify_in_page,
        customer_email=customer_email,
        additional_fields=additional_fields,
        redirect_uri=redirect_uri,
    )


@register.simple_tag(takes_context=True)
def accepton_subscription_form(
    context: template.Context,
    plan: Any,
    *,
    target: str = "",
    success_callback: str = "",
    verify_in_page: bool = False,
    customer_email: str = "",
    additional_fields: str | list[str] = "",
    redirect_uri: str = "",
) -> SafeString:
    """Render AcceptOn's script tag for ``plan``'s recurring token: paying it subscribes.

    The options are :func:`accepton_form`'s. A plan without a recurring token (outside the
    sandbox) shows "Payment is temporarily unavailable" and logs an error.
    """
    if not isinstance(plan, Plan):
        raise ProductError(
            f"accepton_subscription_form sells a django_accepton Plan, not {type(plan).__name__}."
        )
    try:
        return _render(
            context,
            "accepton_subscription_form",
            plan,
            lambda: recurring_token_for(plan),
            target=target,
            success_callback=success_callback,
            verify_in_page=verify_in_page,
            customer_email=customer_email,
            additional_fields=additional_fields,
            redirect_uri=redirect_uri,
        )
    except RecurringTokenMissing as exc:
        logger.error("%s The subscription form is not shown.", exc)
        return _unavailable(context.get("request"))
