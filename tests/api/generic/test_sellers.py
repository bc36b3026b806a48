from models.sellers import Seller, SellerProduct
from tests import factories


def test_creating_a_seller_answers_the_documents_fields(client, marketplace):
    response = client.post(
        "/generic/seller/", json={"uuid": "acb21517-df02-4734-8173-176ece310bc1"}, headers=marketplace
    )

    assert response.status_code == 201
    seller = response.get_json()
    pk = seller["resource_pk"]
    assert seller == {
        "paypal": None,
        "bluevia": None,
        "uuid": "acb21517-df02-4734-8173-176ece310bc1",
        "resource_uri": f"/generic/seller/{pk}/",
        "resource_pk": pk,
        "resource_key": pk,
    }
    assert client.get(f"/generic/seller/{pk}/", headers=marketplace).get_json() == seller


def test_a_seller_uuid_is_unique_and_required(client, marketplace):
    factories.seller(uuid="m:acme")

    duplicate = client.post("/generic/seller/", json={"uuid": "m:acme"}, headers=marketplace)
    missing = client.post("/generic/seller/", json={}, headers=marketplace)

    assert duplicate.status_code == 409 and duplicate.get_json()["error"]["fields"] == {
        "uuid": "is already taken"
    }
    assert missing.status_code == 400 and "uuid" in missing.get_json()["error"]["fields"]
    assert Seller.select().count() == 1


def test_courier_uuids_are_kept_for_courier_partners(client, marketplace):
    response = client.post("/generic/seller/", json={"uuid": "courier:tpp_forged"}, headers=marketplace)

    assert response.status_code == 400
    assert "uuid" in response.get_json()["error"]["fields"]
    assert Seller.select().count() == 0


def test_sellers_are_listed_by_uuid(client, marketplace):
    wanted = factories.seller(uuid="m:wanted")
    factories.seller()

    listed = client.get("/generic/seller/?uuid=m:wanted", headers=marketplace).get_json()

    assert [s["resource_pk"] for s in listed["objects"]] == [wanted.id]
    assert client.get("/generic/seller/999/", headers=marketplace).status_code == 404


def test_a_seller_adds_products_and_lists_them(client, marketplace):
    seller = factories.seller()

    response = client.post(
        "/generic/product/",
        json={"seller": f"/generic/seller/{seller.id}/", "external_id": "app-1"},
        headers=marketplace,
    )

    assert response.status_code == 201
    product = response.get_json()
    assert product["seller"] == f"/generic/seller/{seller.id}/"
    assert product["external_id"] == "app-1" and product["public_id"]
    assert product["resource_uri"] == f"/generic/product/{product['resource_pk']}/"
    assert client.get(product["resource_uri"], headers=marketplace).get_json() == product
    listed = client.get(f"/generic/product/?seller={seller.id}", headers=marketplace).get_json()
    assert [p["resource_pk"] for p in listed["objects"]] == [product["resource_pk"]]


def test_a_bad_product_is_refused_naming_the_field(client, marketplace):
    seller = factories.seller()
    factories.seller_product(seller)
    taken = SellerProduct.get().external_id

    not_a_uri = client.post(
        "/generic/product/", json={"seller": seller.id, "external_id": "a"}, headers=marketplace
    )
    no_seller = client.post(
        "/generic/product/", json={"seller": "/generic/seller/999/", "external_id": "a"}, headers=marketplace
    )
    duplicate = client.post(
        "/generic/product/",
        json={"seller": f"/generic/seller/{seller.id}/", "external_id": taken},
        headers=marketplace,
    )

    assert not_a_uri.status_code == 400 and "seller" in not_a_uri.get_json()["error"]["fields"]
    assert no_seller.status_code == 404 and no_seller.get_json()["error"]["fields"] == {
        "seller": "does not exist"
    }
    assert duplicate.status_code == 409 and "external_id" in duplicate.get_json()["error"]["fields"]
    assert SellerProduct.select().count() == 1


def test_ordering_makes_the_partner_a_seller_and_its_product_a_seller_product(client, marketplace):
    acme = factories.partner()
    product = factories.product(acme)
    order = client.post(
        "/orders",
        json={
            "prod_id": product.id,
            "pricing_id": factories.price(product).id,
            "tpp_user_id": factories.user().id,
        },
        headers=marketplace,
    )
    assert order.status_code == 201

    sellers = client.get(f"/generic/seller/?uuid=courier:{acme.id}", headers=marketplace).get_json()[
        "objects"
    ]
    products = client.get(f"/generic/product/?external_id={product.id}", headers=marketplace).get_json()[
        "objects"
    ]

    assert len(sellers) == 1 and len(products) == 1
    assert products[0]["seller"] == sellers[0]["resource_uri"]
    refused = client.post(
        "/generic/product/",
        json={"seller": sellers[0]["resource_uri"], "external_id": "extra"},
        headers=marketplace,
    )
    assert refused.status_code == 409  # a partner's products are its Courier catalogue
