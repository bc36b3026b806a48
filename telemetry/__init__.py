"""What operators watch: JSON logs with a request id (``telemetry.logs``) and Prometheus metrics
(``telemetry.metrics``). Every process configures them from here; nothing in this package imports
``api``, ``workers`` or ``models``."""
