from datetime import timedelta

import pytest

from models import buyers
from models.base import utcnow
from models.buyers import Buyer
from tests import factories

UNKNOWN = {"uuid": ["Uuid does not exist."]}


def confirm(client, headers, uuid, pin):
    return client.post("/generic/confirm_pin/", json={"uuid": uuid, "pin": pin}, headers=headers)


def verify(client, headers, uuid, pin):
    return client.post("/generic/verify_pin/", json={"uuid": uuid, "pin": pin}, headers=headers)


def reset_confirm(client, headers, uuid, pin):
    return client.post("/generic/reset_confirm_pin/", json={"uuid": uuid, "pin": pin}, headers=headers)


def patch(client, headers, buyer, body):
    response = client.patch(f"/generic/buyer/{buyer.id}/", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()


def lock_out(buyer, seconds_ago: float = 0) -> None:
    locked_at = utcnow() - timedelta(seconds=seconds_ago)
    Buyer.update(pin_failures=5, pin_locked_at=locked_at).where(Buyer.id == buyer.id).execute()


# confirm_pin


def test_confirming_the_right_pin_confirms_it(client, marketplace):
    buyer = factories.buyer(pin="8472")

    response = confirm(client, marketplace, buyer.uuid, "8472")

    assert response.status_code == 201
    assert response.get_json() == {"confirmed": True}
    assert buyers.get_buyer(buyer.id).pin_confirmed is True


def test_confirming_a_wrong_pin_confirms_nothing(client, marketplace):
    buyer = factories.buyer(pin="8472")

    response = confirm(client, marketplace, buyer.uuid, "8473")

    assert response.get_json() == {"confirmed": False}
    assert buyers.get_buyer(buyer.id).pin_confirmed is False


def test_confirming_for_an_unknown_uuid_answers_as_the_document_shows(client, marketplace):
    response = confirm(client, marketplace, "93e33277-nobody", "8472")

    assert response.status_code == 404
    assert response.get_json() == {"confirmed": False, "errors": UNKNOWN}


def test_a_confirmed_pin_is_not_confirmed_again(client, marketplace):
    """Else confirm_pin would test PINs without the lockout verify_pin applies."""
    buyer = factories.buyer(pin="8472", confirmed=True)

    response = confirm(client, marketplace, buyer.uuid, "8472")

    assert response.status_code == 409
    assert response.get_json() == {"confirmed": False, "errors": {"pin": ["The PIN is already confirmed."]}}


def test_a_buyer_without_a_pin_has_nothing_to_confirm(client, marketplace):
    buyer = factories.buyer(pin=None)

    response = confirm(client, marketplace, buyer.uuid, "8472")

    assert response.status_code == 409
    assert response.get_json() == {"confirmed": False, "errors": {"pin": ["The buyer has no PIN."]}}


@pytest.mark.parametrize(
    "body, errors",
    [
        ({"uuid": "m:1", "pin": "84"}, {"pin": ["PIN must be exactly 4 numbers long"]}),
        ({"uuid": "m:1", "pin": "84x2"}, {"pin": ["PIN may only consist of numbers"]}),
        ({"uuid": "m:1"}, {"pin": ["is required"]}),
    ],
)
def test_a_malformed_request_is_refused_in_the_documents_shape(client, marketplace, body, errors):
    factories.buyer(uuid="m:1", pin="8472")

    response = client.post("/generic/confirm_pin/", json=body, headers=marketplace)

    assert response.status_code == 400
    assert response.get_json() == {"confirmed": False, "errors": errors}


# verify_pin


def test_verifying_the_right_pin(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)

    response = verify(client, marketplace, buyer.uuid, "8472")

    assert response.status_code == 201
    assert response.get_json() == {"valid": True, "locked": False}


def test_verifying_for_an_unknown_uuid_is_a_404(client, marketplace):
    response = verify(client, marketplace, "93e33277-nobody", "8472")

    assert response.status_code == 404
    assert response.get_json() == {"valid": False, "locked": False, "errors": UNKNOWN}


def test_an_unconfirmed_pin_is_never_valid_and_nothing_is_counted(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=False)

    right = verify(client, marketplace, buyer.uuid, "8472")
    wrong = verify(client, marketplace, buyer.uuid, "0000")

    assert right.get_json() == wrong.get_json() == {"valid": False, "locked": False}
    assert buyers.get_buyer(buyer.id).pin_failures == 0


def test_each_wrong_pin_counts_and_the_fifth_locks_the_buyer_out(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)

    answers = [verify(client, marketplace, buyer.uuid, "0000").get_json() for _ in range(5)]

    assert answers[:4] == [{"valid": False, "locked": False}] * 4
    assert answers[4] == {"valid": False, "locked": True}
    seen = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace).get_json()
    assert (seen["pin_failures"], seen["pin_locked_out"]) == (5, True)


def test_while_locked_even_the_right_pin_is_refused_and_nothing_is_counted(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)
    lock_out(buyer)
    before = buyers.get_buyer(buyer.id)

    right = verify(client, marketplace, buyer.uuid, "8472")
    wrong = verify(client, marketplace, buyer.uuid, "0000")

    assert right.get_json() == wrong.get_json() == {"valid": False, "locked": True}
    assert buyers.get_buyer(buyer.id).__data__ == before.__data__


def test_the_lock_lapses_after_five_minutes(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)
    lock_out(buyer, seconds_ago=301)

    seen = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace).get_json()
    response = verify(client, marketplace, buyer.uuid, "8472")

    assert (seen["pin_locked_out"], seen["pin_failures"]) == (False, 0)
    assert response.get_json() == {"valid": True, "locked": False}
    after = buyers.get_buyer(buyer.id)
    assert (after.pin_failures, after.pin_locked_at) == (0, None)


def test_after_a_lapsed_lock_the_count_starts_again(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)
    lock_out(buyer, seconds_ago=301)

    response = verify(client, marketplace, buyer.uuid, "0000")

    assert response.get_json() == {"valid": False, "locked": False}
    assert buyers.get_buyer(buyer.id).pin_failures == 1


def test_the_lock_lasts_as_long_as_configured(make_app):
    client = make_app(pin_lockout_seconds=3600).test_client()
    marketplace = factories.auth(factories.api_key("marketplace"))
    buyer = factories.buyer(pin="8472", confirmed=True)
    lock_out(buyer, seconds_ago=600)

    response = verify(client, marketplace, buyer.uuid, "8472")

    assert response.get_json() == {"valid": False, "locked": True}


def test_the_right_pin_clears_the_failures(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)
    for _ in range(4):
        verify(client, marketplace, buyer.uuid, "0000")

    response = verify(client, marketplace, buyer.uuid, "8472")

    assert response.get_json() == {"valid": True, "locked": False}
    assert buyers.get_buyer(buyer.id).pin_failures == 0
    # Four more wrong PINs do not lock: the count started again.
    answers = [verify(client, marketplace, buyer.uuid, "0000").get_json()["locked"] for _ in range(4)]
    assert answers == [False] * 4


def test_a_malformed_pin_is_refused_and_not_counted(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)

    response = verify(client, marketplace, buyer.uuid, "84722")

    assert response.status_code == 400
    assert response.get_json() == {
        "valid": False,
        "locked": False,
        "errors": {"pin": ["PIN must be exactly 4 numbers long"]},
    }
    assert buyers.get_buyer(buyer.id).pin_failures == 0


# The reset flow


def test_the_reset_flow_makes_the_new_pin_the_pin(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)

    patch(client, marketplace, buyer, {"needs_pin_reset": True})
    patch(client, marketplace, buyer, {"new_pin": "8259"})
    waiting = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace).get_json()
    response = reset_confirm(client, marketplace, buyer.uuid, "8259")

    assert (waiting["needs_pin_reset"], waiting["new_pin"]) == (True, True)
    assert response.status_code == 201
    assert response.get_json() == {"confirmed": True}
    seen = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace).get_json()
    assert (seen["pin"], seen["new_pin"], seen["needs_pin_reset"], seen["pin_confirmed"]) == (
        True,
        False,
        False,
        True,
    )
    assert verify(client, marketplace, buyer.uuid, "8259").get_json() == {"valid": True, "locked": False}
    assert verify(client, marketplace, buyer.uuid, "8472").get_json()["valid"] is False


def test_a_wrong_new_pin_changes_nothing(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)
    patch(client, marketplace, buyer, {"needs_pin_reset": True})
    patch(client, marketplace, buyer, {"new_pin": "8259"})
    before = buyers.get_buyer(buyer.id)

    response = reset_confirm(client, marketplace, buyer.uuid, "8258")

    assert response.status_code == 201
    assert response.get_json() == {"confirmed": False}
    after = buyers.get_buyer(buyer.id)
    assert after.__data__ == before.__data__


def test_a_locked_buyer_cannot_reset(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)
    patch(client, marketplace, buyer, {"needs_pin_reset": True})
    patch(client, marketplace, buyer, {"new_pin": "8259"})
    lock_out(buyer)
    before = buyers.get_buyer(buyer.id)

    response = reset_confirm(client, marketplace, buyer.uuid, "8259")

    assert response.status_code == 409
    assert response.get_json() == {"confirmed": False, "errors": {"pin": ["The buyer is locked out."]}}
    assert buyers.get_buyer(buyer.id).__data__ == before.__data__


def test_resetting_with_no_reset_in_progress_is_refused(client, marketplace):
    buyer = factories.buyer(pin="8472", confirmed=True)

    response = reset_confirm(client, marketplace, buyer.uuid, "8472")

    assert response.status_code == 409
    assert response.get_json() == {"confirmed": False, "errors": {"new_pin": ["No new PIN has been set."]}}


def test_resetting_for_an_unknown_uuid_answers_as_the_document_shows(client, marketplace):
    response = reset_confirm(client, marketplace, "93e33277-nobody", "8259")

    assert response.status_code == 404
    assert response.get_json() == {"confirmed": False, "errors": UNKNOWN}
