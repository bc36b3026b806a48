"""The first schema: partners, keys, the catalogue, users, orders and the delivery outbox.

A frozen copy of the models as they were; later changes come as later numbered files.
Column defaults live in the application, not the database.
"""
from peewee import *


def up(migrator, db):
    class Partner(Model):
        id = CharField(primary_key=True)
        name = CharField(max_length=200)
        webhook_url = TextField()
        created_at = DateTimeField()
        last_success_at = DateTimeField(null=True)
        failing_since = DateTimeField(null=True)
        consecutive_failures = IntegerField(default=0)
        disabled_at = DateTimeField(null=True)
        disabled_reason = TextField(null=True)
        class Meta:
            database = db
            table_name = 'partner'
    db.create_tables([Partner])

    class ApiKey(Model):
        id = CharField(primary_key=True)
        role = CharField(max_length=20)
        partner = ForeignKeyField(Partner, null=True, on_delete='CASCADE')
        digest = CharField(unique=True, max_length=64)
        created_at = DateTimeField()
        revoked_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'api_key'
    db.create_tables([ApiKey])

    class Product(Model):
        id = CharField(primary_key=True)
        partner = ForeignKeyField(Partner, on_delete='CASCADE')
        name = CharField(max_length=200)
        description = TextField()
        enabled = BooleanField(default=True)
        meta = TextField(default="{}")
        product_type = CharField(max_length=64)
        created_at = DateTimeField(index=True)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'product'
    db.create_tables([Product])

    class Price(Model):
        id = CharField(primary_key=True)
        product = ForeignKeyField(Product, on_delete='CASCADE')
        name = CharField(max_length=200)
        currency = CharField(max_length=3)
        amount = BigIntegerField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'price'
    db.create_tables([Price])

    class EndUser(Model):
        id = CharField(primary_key=True)
        first_name = CharField(max_length=100)
        last_name = CharField(max_length=100)
        email = CharField(max_length=254)
        phone = CharField(null=True, max_length=40)
        date_of_birth = DateField(null=True)
        address_line1 = CharField(null=True, max_length=200)
        address_line2 = CharField(null=True, max_length=200)
        city = CharField(null=True, max_length=100)
        postcode = CharField(null=True, max_length=20)
        country = CharField(null=True, max_length=2)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'end_user'
    db.create_tables([EndUser])

    class Order(Model):
        id = CharField(primary_key=True)
        partner = ForeignKeyField(Partner, on_delete='CASCADE')
        product = ForeignKeyField(Product, on_delete='CASCADE')
        price = ForeignKeyField(Price, on_delete='CASCADE')
        user = ForeignKeyField(EndUser, on_delete='CASCADE')
        status = CharField(index=True, max_length=20, default='Pending')
        input = TextField(default="{}")
        output = TextField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        answered_at = DateTimeField(null=True)
        window_round = IntegerField(default=1)
        window_started_at = DateTimeField()
        window_ends_at = DateTimeField()
        window_expired_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'purchase_order'
            indexes = ((('partner', 'created_at'), False), (('created_at',), False))
    Order.add_index(
        Order.index(Order.window_ends_at, name='order_open_window').where(
            (Order.status == 'Pending') & Order.window_expired_at.is_null()))
    db.create_tables([Order])

    class Delivery(Model):
        id = BigAutoField()
        webhook_id = CharField(unique=True, max_length=40)
        partner = ForeignKeyField(Partner, on_delete='CASCADE')
        order = ForeignKeyField(Order, null=True, on_delete='CASCADE')
        event_type = CharField(max_length=60)
        payload = TextField()
        state = CharField(max_length=12, default='pending')
        attempt_count = IntegerField(default=0)
        next_attempt_at = DateTimeField(null=True)
        next_trigger = CharField(max_length=10, default='scheduled')
        lease_expires_at = DateTimeField(null=True)
        created_at = DateTimeField()
        last_attempt_at = DateTimeField(null=True)
        delivered_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'delivery'
            indexes = ((('partner', 'created_at'), False), (('state', 'created_at'), False), (('created_at',), False))
    Delivery.add_index(
        Delivery.index(Delivery.next_attempt_at, name='delivery_open_next_attempt').where(
            Delivery.state.in_(['pending', 'delivering', 'retrying'])))
    db.create_tables([Delivery])

    class Attempt(Model):
        id = BigAutoField()
        delivery = ForeignKeyField(Delivery, on_delete='CASCADE')
        attempted_at = DateTimeField()
        url = TextField()
        status_code = IntegerField(null=True)
        error = TextField(null=True)
        duration_ms = IntegerField()
        response_excerpt = TextField(null=True)
        trigger = CharField(max_length=10, default='scheduled')
        class Meta:
            database = db
            table_name = 'attempt'
            indexes = ((('delivery', 'attempted_at'), False),)
    db.create_tables([Attempt])

    class WebhookSecret(Model):
        partner = ForeignKeyField(Partner, on_delete='CASCADE')
        secret = CharField(max_length=120)
        created_at = DateTimeField()
        expires_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'webhook_secret'
    db.create_tables([WebhookSecret])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('webhook_secret'))
    migrator.migrate(migrator.drop_table('attempt'))
    migrator.migrate(migrator.drop_table('delivery'))
    migrator.migrate(migrator.drop_table('purchase_order'))
    migrator.migrate(migrator.drop_table('end_user'))
    migrator.migrate(migrator.drop_table('price'))
    migrator.migrate(migrator.drop_table('product'))
    migrator.migrate(migrator.drop_table('api_key'))
    migrator.migrate(migrator.drop_table('partner'))
