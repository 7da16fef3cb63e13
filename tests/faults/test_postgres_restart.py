"""PostgreSQL restarts under a running web server (a fail-over, a minor upgrade): the next request succeeds. The
server keeps its database connection between requests (CONN_MAX_AGE), so after the restart it holds a dead one;
CONN_HEALTH_CHECKS makes Django check it at the start of the next request and connect again, rather than fail it."""

import psycopg2
import requests
from django.conf import settings

from tests.faults.conftest import FAULT_MARKS, manage

pytestmark = FAULT_MARKS


def server_backends(cluster) -> set[int]:
    """The process ids of the cluster's backends serving connections other than this one: the web server's."""
    with psycopg2.connect(cluster.url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def health(server) -> requests.Response:
    # The health page reads the database and answers 503 when it cannot: what a load balancer asks.
    return requests.get(server.url("/health/"), timeout=30)


def test_after_postgresql_restarts_the_next_request_succeeds(private_postgres, web_server):
    manage("migrate", "--no-input", database_url=private_postgres.url, redis_url=settings.REDIS_URL)
    server = web_server(database_url=private_postgres.url, redis_url=settings.REDIS_URL)

    assert health(server).status_code == 200
    before = server_backends(private_postgres)
    assert health(server).status_code == 200
    assert server_backends(private_postgres) == before, "the server keeps its connection between requests"
    assert len(before) == 1

    private_postgres.restart()

    response = health(server)
    assert response.status_code == 200, response.text
    assert server_backends(private_postgres).isdisjoint(before), "a new connection, the old one died in the restart"
