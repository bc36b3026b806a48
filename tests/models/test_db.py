import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT, SERVICE_TIER

# Hundreds of greenlets sharing two connections, as a gevent worker shares its pool.
GREENLETS_SHARING_A_POOL = """
from gevent import monkey; monkey.patch_all()
from psycogreen.gevent import patch_psycopg; patch_psycopg()
import sys, gevent
from models.db import PostgresqlPool
from playhouse.db_url import parse
pool = PostgresqlPool(max_connections=2, timeout=1, **parse(sys.argv[1]))
failures = []
def busy():
    for _ in range(20):
        try:
            pool.execute_sql("SELECT pg_sleep(0.001)")
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            pool.close()
gevent.joinall([gevent.spawn(busy) for _ in range(200)])
print(len(failures), len(pool._in_use))
"""


@pytest.mark.skipif(not SERVICE_TIER, reason="the pool is PostgreSQL's; SQLite opens one per thread")
def test_greenlets_waiting_for_a_connection_are_served_in_turn_none_starves(settings):
    run = subprocess.run(
        [sys.executable, "-c", GREENLETS_SHARING_A_POOL, settings.database_url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    failures, still_in_use = run.stdout.split()
    assert (failures, still_in_use) == ("0", "0"), run.stderr[-2000:]
