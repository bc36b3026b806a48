from models import keys, users
from tests import factories
from tests.factories import auth

LISA = {
    "first_name": "Lisa",
    "last_name": "Nichols",
    "email": "lisa@example.com",
    "phone": "+44 20 7946 0000",
    "date_of_birth": "1990-04-01",
    "address_line1": "1 Example Street",
    "city": "London",
    "postcode": "N1 9GU",
    "country": "GB",
}


def test_the_marketplace_registers_a_user_and_reads_it_back(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    created = client.post("/users", json=LISA, headers=marketplace)
    fetched = client.get(f"/users/{created.get_json()['id']}", headers=marketplace)

    assert created.status_code == 201
    assert created.get_json()["id"].startswith("tus_")
    assert fetched.get_json() == created.get_json()
    assert {k: fetched.get_json()[k] for k in LISA} == LISA


def test_bad_user_details_are_refused_naming_each_field(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))

    response = client.post(
        "/users",
        json={"first_name": "", "email": "not-an-email", "date_of_birth": "01/04/1990", "country": "gb"},
        headers=marketplace,
    )

    fields = response.get_json()["error"]["fields"]
    assert response.status_code == 400
    assert set(fields) >= {"first_name", "last_name", "email", "date_of_birth", "country"}
    assert users.EndUser.select().count() == 0


def test_a_partner_sees_only_the_users_of_its_own_orders(client):
    acme, rival = factories.partner(), factories.partner()
    customer, stranger = factories.user(), factories.user()
    factories.order(factories.price(factories.product(acme)), customer)
    factories.order(factories.price(factories.product(rival)), stranger)

    assert client.get(f"/users/{customer.id}", headers=acme.headers).status_code == 200
    assert client.get(f"/users/{stranger.id}", headers=acme.headers).status_code == 404


def test_a_partner_may_not_register_users(client):
    acme = factories.partner()

    assert client.post("/users", json=LISA, headers=acme.headers).status_code == 403


def test_a_date_of_birth_not_yet_come_is_refused(client):
    marketplace = auth(factories.api_key(keys.MARKETPLACE))
    body = {"first_name": "Li", "last_name": "N", "email": "li@example.com", "date_of_birth": "2990-02-03"}

    response = client.post("/users", json=body, headers=marketplace)

    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"date_of_birth"}
    assert users.EndUser.select().count() == 0
