"""The generic payments API: buyers, sellers and their products, transactions, reconciliation conflicts.

A frozen copy of the models as they were; the tables they point at are declared as stubs.
Column defaults live in the application, not the database.
"""
from peewee import *


def up(migrator, db):
    class Partner(Model):
        id = CharField(primary_key=True)
        class Meta:
            database = db
            table_name = 'partner'

    class Product(Model):
        id = CharField(primary_key=True)
        class Meta:
            database = db
            table_name = 'product'

    class Order(Model):
        id = CharField(primary_key=True)
        class Meta:
            database = db
            table_name = 'purchase_order'

    class Buyer(Model):
        uuid = CharField(unique=True, max_length=255)
        pin_hash = CharField(null=True, max_length=255)
        pin_confirmed = BooleanField(default=False)
        new_pin_hash = CharField(null=True, max_length=255)
        needs_pin_reset = BooleanField(default=False)
        active = BooleanField(default=True)
        pin_failures = IntegerField(default=0)
        pin_locked_at = DateTimeField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'buyer'
            indexes = ((('active', 'id'), False),)
    db.create_tables([Buyer])

    class Seller(Model):
        uuid = CharField(unique=True, max_length=255)
        partner = ForeignKeyField(Partner, unique=True, null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'seller'
    db.create_tables([Seller])

    class SellerProduct(Model):
        seller = ForeignKeyField(Seller, index=False)
        external_id = CharField(max_length=255)
        public_id = CharField(unique=True, max_length=255)
        product = ForeignKeyField(Product, unique=True, null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'seller_product'
            indexes = ((('seller', 'external_id'), True),)
    db.create_tables([SellerProduct])

    class Transaction(Model):
        id = BigAutoField()
        uuid = CharField(unique=True, max_length=255)
        amount = BigIntegerField()
        currency = CharField(max_length=3)
        provider = IntegerField()
        status = IntegerField(default=0)
        type = IntegerField(default=0)
        buyer = ForeignKeyField(Buyer, null=True)
        seller_product = ForeignKeyField(SellerProduct, index=False)
        related = ForeignKeyField('self', null=True)
        order = ForeignKeyField(Order, unique=True, null=True)
        uid_pay = CharField(null=True, max_length=255)
        uid_support = CharField(null=True, max_length=255)
        notes = TextField(default='')
        created_at = DateTimeField()
        modified_at = DateTimeField()
        reconcile_requested_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'payment_transaction'
            indexes = ((('status', 'id'), False), (('provider', 'id'), False), (('seller_product', 'id'), False))
    Transaction.add_index(
        Transaction.index(Transaction.reconcile_requested_at, name='transaction_reconcile_requested').where(
            Transaction.reconcile_requested_at.is_null(False)))
    db.create_tables([Transaction])

    class ReconciliationConflict(Model):
        transaction = ForeignKeyField(Transaction, index=False)
        order = ForeignKeyField(Order)
        transaction_status = IntegerField()
        order_status = CharField(max_length=20)
        detected_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'reconciliation_conflict'
            indexes = ((('transaction', 'transaction_status', 'order_status'), True),)
    db.create_tables([ReconciliationConflict])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('reconciliation_conflict'))
    migrator.migrate(migrator.drop_table('payment_transaction'))
    migrator.migrate(migrator.drop_table('seller_product'))
    migrator.migrate(migrator.drop_table('seller'))
    migrator.migrate(migrator.drop_table('buyer'))
