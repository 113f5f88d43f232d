"""Stops `make test` early, and says why, when PostgreSQL or Redis cannot be reached."""

import os
import sys
from urllib.parse import urlparse

import psycopg
import redis


def main():
    database_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    problems = []
    try:
        url = urlparse(database_url)
        psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                        password=url.password, dbname="postgres", connect_timeout=3).close()
    except Exception as exc:  # any failure means the same thing to the person running tests
        problems.append(f"PostgreSQL is not reachable at {url.hostname}:{url.port or 5432} "
                        f"({exc.__class__.__name__}: {str(exc).strip()[:200]}).\n"
                        "  Start it, or point DATABASE_URL=postgres://USER@HOST:PORT/DB at one.")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis is not reachable at {redis_url} ({exc.__class__.__name__}).\n"
                        "  Start it, or point REDIS_URL=redis://HOST:PORT/DB at one.")
    if problems:
        print("make test needs PostgreSQL and Redis:\n" + "\n".join(problems), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
