"""Stops `make test` early, and says why, when PostgreSQL or Redis cannot be reached.

It also creates the database DATABASE_URL names when the server does not have it yet (nothing is
ever dropped): `makemigrations --check` reads that database's migration history, and would warn
on every run of a fresh machine without it. The suite itself runs in pytest-django's test_<name>.
"""

import os
import sys
from urllib.parse import unquote, urlparse

import psycopg
import redis
from psycopg import sql


def database_ensure(server, name):
    """Not being allowed to create it is no reason to stop: the check only warns without it."""
    try:
        if name and server.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                   [name]).fetchone() is None:
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created the database {name}.")
    except psycopg.Error as exc:
        print(f"Could not create the database {name} ({exc.__class__.__name__}); "
              "makemigrations --check will warn that it cannot read its history.", file=sys.stderr)


def main():
    database_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    problems = []
    try:
        url = urlparse(database_url)
        with psycopg.connect(host=url.hostname, port=url.port or 5432,
                             user=url.username or "postgres", password=url.password,
                             dbname="postgres", connect_timeout=3, autocommit=True) as server:
            database_ensure(server, unquote(url.path.lstrip("/")))
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
