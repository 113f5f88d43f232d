"""Developer laptop: DEBUG on, everything else from base.py's environment-driven defaults."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
# The demo merchant shop (/demo-shop/) that `make run` shows the checkout with.
DEMO_SHOP = env_bool("DEMO_SHOP", True)
