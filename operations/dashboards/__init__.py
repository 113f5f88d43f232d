"""Dashboards for risk and collections staff on the admin index: `queries` reads each figure
(small tables and indexes only), `svg` draws charts on the server, `figures` puts the two
together per dashboard, and `operations.templatetags.dashboards` shows each user the ones their
permissions allow."""
