import pytest

from models import buyers
from models.buyers import Buyer
from tests import factories

BUYER_FIELDS = {
    "paypal",
    "uuid",
    "resource_uri",
    "resource_pk",
    "pin",
    "pin_confirmed",
    "new_pin",
    "active",
    "needs_pin_reset",
    "pin_failures",
    "pin_locked_out",
}


def test_creating_a_buyer_answers_the_documents_fields(client, marketplace):
    response = client.post(
        "/generic/buyer/",
        json={"uuid": "93e33277-87f7-417b-8ed2-371672b5297e", "pin": "8472"},
        headers=marketplace,
    )

    assert response.status_code == 201
    buyer = response.get_json()
    assert set(buyer) == BUYER_FIELDS
    assert buyer == {
        "paypal": None,
        "uuid": "93e33277-87f7-417b-8ed2-371672b5297e",
        "resource_uri": f"/generic/buyer/{buyer['resource_pk']}/",
        "resource_pk": buyer["resource_pk"],
        "pin": True,
        "pin_confirmed": False,
        "new_pin": False,
        "active": True,
        "needs_pin_reset": False,
        "pin_failures": 0,
        "pin_locked_out": False,
    }
    assert client.get(buyer["resource_uri"], headers=marketplace).get_json() == buyer


def test_no_answer_carries_the_pin_or_its_hash(client, marketplace):
    created = client.post("/generic/buyer/", json={"uuid": "m:1", "pin": "8472"}, headers=marketplace)
    client.patch(created.get_json()["resource_uri"], json={"needs_pin_reset": True}, headers=marketplace)
    client.patch(created.get_json()["resource_uri"], json={"new_pin": "8259"}, headers=marketplace)
    stored = Buyer.get(Buyer.uuid == "m:1")

    answers = [
        created.get_data(as_text=True),
        client.get(created.get_json()["resource_uri"], headers=marketplace).get_data(as_text=True),
        client.get("/generic/buyer/", headers=marketplace).get_data(as_text=True),
    ]

    for text in answers:
        assert "8472" not in text and "8259" not in text
        assert stored.pin_hash not in text and stored.new_pin_hash not in text and "scrypt" not in text


def test_a_buyer_may_be_created_without_a_pin(client, marketplace):
    response = client.post("/generic/buyer/", json={"uuid": "m:2"}, headers=marketplace)

    assert response.status_code == 201
    assert response.get_json()["pin"] is False


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"pin": "1234"}, "uuid", "is required"),
        ({"uuid": ""}, "uuid", None),
        ({"uuid": "u" * 256}, "uuid", None),
        ({"uuid": "m:3", "pin": "123"}, "pin", "PIN must be exactly 4 numbers long"),
        ({"uuid": "m:3", "pin": "12345"}, "pin", "PIN must be exactly 4 numbers long"),
        ({"uuid": "m:3", "pin": "12a4"}, "pin", "PIN may only consist of numbers"),
        ({"uuid": "m:3", "pin": 1234}, "pin", None),
        ({"uuid": "m:3", "pin_failures": 0}, "pin_failures", "is not a known field"),
    ],
)
def test_a_bad_buyer_is_refused_naming_the_field_and_nothing_is_written(
    client, marketplace, body, field, message
):
    response = client.post("/generic/buyer/", json=body, headers=marketplace)

    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    assert field in fields
    if message:
        assert fields[field] == message
    assert Buyer.select().count() == 0


def test_a_uuid_is_unique(client, marketplace):
    factories.buyer(uuid="m:4")

    response = client.post("/generic/buyer/", json={"uuid": "m:4", "pin": "1234"}, headers=marketplace)

    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"uuid": "is already taken"}
    assert Buyer.select().count() == 1


def test_an_unknown_buyer_is_a_404(client, marketplace):
    assert client.get("/generic/buyer/64/", headers=marketplace).status_code == 404
    assert client.patch("/generic/buyer/64/", json={"active": False}, headers=marketplace).status_code == 404


def test_the_address_without_its_trailing_slash_redirects_to_it(client, marketplace):
    buyer = factories.buyer()

    response = client.get(f"/generic/buyer/{buyer.id}", headers=marketplace)

    assert response.status_code == 308
    assert response.headers["Location"].endswith(f"/generic/buyer/{buyer.id}/")
    assert response.get_json()["error"]["code"] == "permanent_redirect"  # in JSON, as every answer


def test_buyers_are_listed_by_uuid_and_by_active(client, marketplace):
    wanted = factories.buyer(uuid="m:wanted")
    retired = factories.buyer(uuid="m:retired")
    Buyer.update(active=False).where(Buyer.id == retired.id).execute()

    by_uuid = client.get("/generic/buyer/?uuid=m:wanted", headers=marketplace).get_json()
    inactive = client.get("/generic/buyer/?active=false", headers=marketplace).get_json()
    bad = client.get("/generic/buyer/?active=maybe", headers=marketplace)

    assert [b["resource_pk"] for b in by_uuid["objects"]] == [wanted.id]
    assert by_uuid["meta"]["total_count"] == 1
    assert [b["resource_pk"] for b in inactive["objects"]] == [retired.id]
    assert bad.status_code == 400 and "active" in bad.get_json()["error"]["fields"]


def test_patching_answers_nothing_and_changes_the_buyer(client, marketplace):
    buyer = factories.buyer()

    response = client.patch(f"/generic/buyer/{buyer.id}/", json={"active": False}, headers=marketplace)

    assert response.status_code == 202
    assert response.get_data() == b""
    assert buyers.get_buyer(buyer.id).active is False


@pytest.mark.parametrize(
    "field, value",
    [
        ("pin_failures", 0),
        ("pin_locked_out", False),
        ("pin_confirmed", True),
        ("uuid", "m:renamed"),
        ("resource_pk", 1),
        ("paypal", None),
    ],
)
def test_read_only_fields_cannot_be_patched(client, marketplace, field, value):
    buyer = factories.buyer(pin="1234", confirmed=False)
    Buyer.update(pin_failures=3).where(Buyer.id == buyer.id).execute()

    response = client.patch(
        f"/generic/buyer/{buyer.id}/", json={field: value, "active": False}, headers=marketplace
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {field: "is read-only"}
    after = buyers.get_buyer(buyer.id)
    assert (after.pin_failures, after.pin_confirmed, after.active, after.uuid) == (3, False, True, buyer.uuid)


def test_a_buyer_without_a_pin_is_given_one_to_confirm(client, marketplace):
    buyer = factories.buyer(pin=None)

    response = client.patch(f"/generic/buyer/{buyer.id}/", json={"pin": "8472"}, headers=marketplace)

    assert response.status_code == 202
    seen = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace).get_json()
    assert (seen["pin"], seen["pin_confirmed"]) == (True, False)


def test_a_pin_already_set_changes_only_through_the_reset_flow(client, marketplace):
    buyer = factories.buyer(pin="1234", confirmed=True)

    response = client.patch(f"/generic/buyer/{buyer.id}/", json={"pin": "9999"}, headers=marketplace)

    assert response.status_code == 409
    assert "pin" in response.get_json()["error"]["fields"]
    assert buyers.get_buyer(buyer.id).pin_hash == buyer.pin_hash


def test_a_new_pin_needs_the_reset_flow_started(client, marketplace):
    buyer = factories.buyer(pin="1234", confirmed=True)

    response = client.patch(f"/generic/buyer/{buyer.id}/", json={"new_pin": "9999"}, headers=marketplace)

    assert response.status_code == 409
    assert "new_pin" in response.get_json()["error"]["fields"]
    assert buyers.get_buyer(buyer.id).new_pin_hash is None


def test_a_bad_new_pin_is_refused_with_the_pin_messages(client, marketplace):
    buyer = factories.buyer(pin="1234", confirmed=True)

    response = client.patch(
        f"/generic/buyer/{buyer.id}/", json={"needs_pin_reset": True, "new_pin": "82a9"}, headers=marketplace
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"new_pin": "PIN may only consist of numbers"}
    assert buyers.get_buyer(buyer.id).needs_pin_reset is False


def test_calling_off_a_reset_drops_the_new_pin(client, marketplace):
    buyer = factories.buyer(pin="1234", confirmed=True)
    client.patch(
        f"/generic/buyer/{buyer.id}/", json={"needs_pin_reset": True, "new_pin": "8259"}, headers=marketplace
    )

    client.patch(f"/generic/buyer/{buyer.id}/", json={"needs_pin_reset": False}, headers=marketplace)

    seen = client.get(f"/generic/buyer/{buyer.id}/", headers=marketplace).get_json()
    assert (seen["needs_pin_reset"], seen["new_pin"]) == (False, False)
