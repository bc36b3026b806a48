from prometheus_client.parser import text_string_to_metric_families

from models import keys
from tests import factories
from tests.factories import auth
from tests.helpers import wait_until


def scrape(client, headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_metrics_token_or_an_operator_key(client, make_app):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth(factories.api_key(keys.MARKETPLACE))).status_code == 403
    assert client.get("/metrics", headers=auth(factories.api_key(keys.OPERATOR))).status_code == 200

    scraper = make_app(metrics_token="scrape-me").test_client()
    assert scraper.get("/metrics", headers=auth("scrape-me")).status_code == 200
    assert scraper.get("/metrics", headers=auth("scrape-you")).status_code == 401


def test_an_orders_story_shows_in_the_metrics(client, receiver):
    operator = auth(factories.api_key(keys.OPERATOR))
    before = scrape(client, operator)
    acme = factories.partner(webhook_url=receiver.url)
    price = factories.price(factories.product(acme))
    body = {"prod_id": price.product_id, "pricing_id": price.id, "tpp_user_id": factories.user().id}

    placed = client.post("/orders", json=body, headers=auth(factories.api_key(keys.MARKETPLACE)))
    receiver.wait_for(1)

    def delivered():
        after = scrape(client, operator)
        grew = value(after, "courier_deliveries_total", outcome="succeeded") > value(
            before, "courier_deliveries_total", outcome="succeeded"
        )
        return after if grew else None

    after = wait_until(delivered)
    assert placed.status_code == 201
    assert value(after, "courier_http_requests_total", method="POST", route="/orders", status="201") == (
        value(before, "courier_http_requests_total", method="POST", route="/orders", status="201") + 1
    )
    assert value(after, "courier_http_request_duration_seconds_count", method="POST", route="/orders") >= 1
    assert value(after, "courier_delivery_latency_seconds_count") >= 1
    assert value(after, "courier_webhook_attempt_duration_seconds_count", result="2xx") >= 1
    assert value(after, "dramatiq_messages_total", queue_name="webhooks", actor_name="deliver_webhook") >= 1
    # Levels read at scrape time: the window's timer waits in the delay queue; nothing is dead.
    assert ("courier_queue_delayed_messages", (("queue", "orders"),)) in after
    assert value(after, "courier_deliveries_by_state", state="dead") == 0


def test_a_broker_that_is_down_costs_only_the_queue_series(client, monkeypatch):
    import redis

    from api import metrics

    def unreachable():
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr(metrics, "queue_sizes", unreachable)

    samples = scrape(client, auth(factories.api_key(keys.OPERATOR)))

    assert not any(name.startswith("courier_queue_") for name, _ in samples)
    assert ("courier_deliveries_by_state", (("state", "dead"),)) in samples


def test_a_method_a_client_invents_is_counted_as_other_not_as_a_series_of_its_own(client):
    operator = auth(factories.api_key(keys.OPERATOR))
    for invented in ("FOOBARBAZ", "QWERTYUIOP"):
        client.open("/nowhere", method=invented)

    samples = scrape(client, operator)

    methods = {
        dict(labels).get("method") for name, labels in samples if name == "courier_http_requests_total"
    }
    assert "FOOBARBAZ" not in methods and "QWERTYUIOP" not in methods
    assert value(samples, "courier_http_requests_total", method="OTHER", route="unmatched", status="404") >= 2
