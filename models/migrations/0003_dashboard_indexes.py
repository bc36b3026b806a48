"""Indexes the dashboard reads through.

attempt(attempted_at)                          the last hour of attempts, for the delivery charts
purchase_order(partner_id, status, created_at) a partner's orders of one status, newest first, and its
                                               counts per status, without visiting other partners' rows
"""


def up(migrator, db):
    migrator.migrate(
        migrator.add_index('attempt', ('attempted_at',), False),
        migrator.add_index('purchase_order', ('partner_id', 'status', 'created_at'), False),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('purchase_order', 'purchase_order_partner_id_status_created_at'),
        migrator.drop_index('attempt', 'attempt_attempted_at'),
    )
