"""Token minting, reuse within the TTL, and what the template tag puts on the page."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.template import TemplateSyntaxError

from django_accepton.models import TransactionToken
from django_accepton.products import ProductError
from django_accepton.services.tokens import mint_token, token_cache_stats
from tests.checkout.conftest import control, pay, render_form, token_in

pytestmark = pytest.mark.django_db


@dataclass
class Book:
    accepton_amount: int
    accepton_currency: str = "usd"
    accepton_description: str = "A book"


def token_posts(sandbox) -> int:
    return sandbox.state.request_count(method="POST", path_prefix="/v1/tokens")


def test_same_product_same_price_reuses_the_token(accepton):
    book = Book(1999)
    first = token_in(render_form(book))
    second = token_in(render_form(book))
    assert first == second
    assert token_posts(accepton) == 1
    assert (token_cache_stats.hits, token_cache_stats.misses) == (1, 1)


def test_price_change_always_mints_a_new_token(accepton):
    book = Book(1999)
    first = token_in(render_form(book))
    book.accepton_amount = 999
    second = token_in(render_form(book))
    assert first != second
    assert TransactionToken.objects.get(pk=second).amount == 999
    assert token_posts(accepton) == 2
    assert (token_cache_stats.hits, token_cache_stats.misses) == (0, 2)


def test_expired_token_is_not_reused(accepton, settings):
    settings.ACCEPTON = {**settings.ACCEPTON, "TOKEN_CACHE_TTL": 0}
    book = Book(1999)
    assert token_in(render_form(book)) != token_in(render_form(book))
    assert token_cache_stats.misses == 2


def test_paid_token_is_not_handed_out_again(accepton):
    from django_accepton.services.verification import verify_charge

    book = Book(1999)
    token_id = token_in(render_form(book))
    charge = pay(accepton, token_id).json()
    assert verify_charge(charge["id"], token_id).ok
    assert token_in(render_form(book)) != token_id


def test_token_with_a_claim_in_progress_is_not_handed_out_again(accepton):
    from django_accepton.services.verification import verify_charge

    book = Book(1999)
    token_id = token_in(render_form(book))
    charge = pay(accepton, token_id).json()
    control(accepton, "faults", {"status": 503, "count": 1, "path_prefix": "/v1/charges"})
    assert verify_charge(charge["id"], token_id).pending
    assert token_in(render_form(book)) != token_id


def test_tag_renders_the_form_without_the_secret_key(accepton):
    html = render_form(
        Book(1999),
        'target="pay-here" customer_email="a@example.com" additional_fields="name,phone"',
    )
    assert accepton.public_key in html
    assert accepton.secret_key not in html
    assert 'data-target="pay-here"' in html
    assert '<div id="pay-here"' in html
    assert 'data-customer-email="a@example.com"' in html
    assert 'data-additional-fields="name,phone"' in html
    assert f'src="{accepton.url}/scripts/accepton.js"' in html
    token_id = token_in(html)
    assert f'data-redirect-uri="http://testserver/accepton/return/?token={token_id}"' in html


def test_tag_with_in_page_verification_sends_csrf_token(accepton):
    html = render_form(Book(1999), "verify_in_page=True")
    token_id = token_in(html)
    assert f'data-success-callback="acceptonVerify_{token_id}"' in html
    assert "X-CSRFToken" in html
    assert "/accepton/api/charges/verify/" in html


def test_tag_refuses_unknown_additional_fields(accepton):
    with pytest.raises(TemplateSyntaxError, match="unknown additional_fields"):
        render_form(Book(1999), 'additional_fields="name,shoe_size"')


@pytest.mark.parametrize(
    "product",
    [
        {"amount": 0, "currency": "usd"},
        {"amount": -5, "currency": "usd"},
        {"amount": 10.5, "currency": "usd"},
        {"amount": True, "currency": "usd"},
        {"amount": 100, "currency": "dollars"},
        {"currency": "usd"},
        object(),
    ],
)
def test_bad_product_is_refused_before_any_api_call(accepton, product):
    with pytest.raises(ProductError):
        mint_token(product)
    assert token_posts(accepton) == 0
    assert not TransactionToken.objects.exists()


def test_form_is_replaced_by_a_message_when_acceptOn_is_down(accepton):
    control(accepton, "faults", {"status": 503, "count": 1, "path_prefix": "/v1/tokens"})
    html = render_form(Book(1999))
    assert "temporarily unavailable" in html
    assert "data-token" not in html
    assert not TransactionToken.objects.exists()


@pytest.mark.parametrize(
    "arguments",
    [
        'success_callback="x;alert(1)//"',
        'success_callback="a.b"',
        'success_callback="</script><script>alert(1)"',
        'target="x\\" onmouseover=\\"alert(1)"',
        'target="1abc"',
    ],
)
def test_tag_refuses_names_that_are_not_plain_names(accepton, arguments):
    with pytest.raises(TemplateSyntaxError, match="must be a plain name"):
        render_form(Book(1999), arguments)


def test_in_page_values_reach_the_script_as_json_never_as_script_text(accepton):
    html = render_form(
        Book(1999),
        'verify_in_page=True success_callback="myCallback" redirect_uri=uri',
        uri="https://shop.example/back?a=1&b=</script><script>alert(1)</script>",
    )
    script = html.split("<script>", 1)[1]
    assert "</script><script>alert(1)" not in html
    assert "\\u003C/script\\u003E" in html  # escaped inside the JSON element
    assert "myCallback" not in script.split("})(JSON.parse", 1)[0]  # read from config only
    assert 'data-success-callback="acceptonVerify_' in html


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://shop.example/paid/", "https://shop.example/paid/?token={token}"),
        (
            "https://shop.example/paid/?order=7",
            "https://shop.example/paid/?order=7&amp;token={token}",
        ),
        ("https://shop.example/paid/?token=mine", "https://shop.example/paid/?token=mine"),
        ("https://shop.example/paid/#thanks", "https://shop.example/paid/?token={token}#thanks"),
    ],
)
def test_a_redirect_uri_of_the_store_still_carries_the_token(accepton, given, expected):
    """The return route reads the token from the URI: an override that leaves it out would
    send the paying customer to a 400."""
    html = render_form(Book(1999), "redirect_uri=uri", uri=given)
    token_id = token_in(html)
    assert f'data-redirect-uri="{expected.format(token=token_id)}"' in html


def test_a_token_id_not_shaped_like_acceptons_never_reaches_a_page(accepton, caplog):
    from django_accepton.models import Plan
    from django_accepton.services.plans import create_plan
    from tests.checkout.test_recurring import render_subscription

    plan = create_plan("Ink club", 1500, "usd", "month")
    Plan.objects.filter(pk=plan.pk).update(recurring_token='rtx_a"onload="alert(1)')
    plan.refresh_from_db()

    html = render_subscription(plan)

    assert "alert(1)" not in html
    assert "temporarily unavailable" in html.lower()
