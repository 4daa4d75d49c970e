"""Property-based: no input makes the validation handler raise or answer 5xx (healthy moto backends)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from card_transactions.handlers import validation
from tests.events import api_get, api_post, to_json

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
near_valid = st.fixed_dictionaries(
    {
        "transaction_id": st.one_of(st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z"), st.text(max_size=70)),
        "merchant_id": st.sampled_from(["merchant_001", "inactive_001", "unknown", ""]),
        "amount": st.one_of(
            st.decimals(min_value=Decimal("-10"), max_value=Decimal("2000000000"), allow_nan=False, places=2),
            st.decimals(allow_nan=False, allow_infinity=False),
            st.integers(),
            st.text(max_size=5),
        ),
        "currency": st.one_of(st.sampled_from(["USD", "EUR", "JPY", "usd"]), st.text(max_size=4)),
    },
    optional={
        "metadata": st.one_of(
            st.dictionaries(st.text(max_size=70), st.text(max_size=300), max_size=12), json_values
        ),
        "extra": json_values,
    },
)


def body_texts() -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.none(),
        st.text(max_size=200),
        json_values.map(to_json),
        near_valid.map(to_json),
        st.integers(min_value=8000, max_value=40000).map(lambda n: json.dumps({"x": "a" * n})),
    )


@PROPERTY_SETTINGS
@given(body=body_texts(), as_base64=st.booleans(), encode=st.booleans())
def test_any_post_body_gets_a_json_non_5xx_answer(aws, body, as_base64, encode):
    aws.put_merchant()
    aws.put_merchant(merchant_id="inactive_001", active=False)
    if as_base64 and encode and body is not None:
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
    event = api_post(body=body, isBase64Encoded=as_base64)
    response = validation.handler(event, aws.context)
    assert response["statusCode"] < 500, response
    assert response["headers"]["Content-Type"] == "application/json"
    json.loads(response["body"])


methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]), st.text(max_size=8)
)
resources = st.one_of(
    st.sampled_from(["/transaction", "/transaction/{transaction_id}", None]), st.text(max_size=30)
)
headers = st.one_of(st.none(), st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=5))


@PROPERTY_SETTINGS
@given(
    method=methods,
    resource=resources,
    path=st.one_of(st.none(), st.text(max_size=80), st.from_regex(r"\A/transaction(/[^/]{0,70})?/?\Z")),
    path_params=st.one_of(
        st.none(), st.dictionaries(st.just("transaction_id"), st.text(max_size=80), max_size=1)
    ),
    hdrs=headers,
    body=body_texts(),
)
def test_any_route_gets_a_json_non_5xx_answer(aws, method, resource, path, path_params, hdrs, body):
    event = api_get()
    event.update(
        httpMethod=method, resource=resource, path=path, pathParameters=path_params, headers=hdrs, body=body
    )
    response = validation.handler(event, aws.context)
    assert response["statusCode"] < 500, response
    assert response["headers"]["Content-Type"] == "application/json"
    json.loads(response["body"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=st.dictionaries(st.text(max_size=15), json_values, max_size=6))
def test_arbitrary_event_shapes(aws, event):
    response = validation.handler(event, aws.context)
    assert response["statusCode"] < 500
    assert response["headers"]["Content-Type"] == "application/json"


PROXY_FIELDS = (
    "resource",
    "path",
    "httpMethod",
    "pathParameters",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
    "requestContext",
    "queryStringParameters",
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=st.fixed_dictionaries({}, optional=dict.fromkeys(PROXY_FIELDS, json_values)))
def test_proxy_fields_of_any_json_type_never_cause_a_5xx(aws, event):
    # the fields a router and parser read, each present or not, each of any JSON type
    response = validation.handler(event, aws.context)
    assert response["statusCode"] < 500
    assert response["headers"]["Content-Type"] == "application/json"
