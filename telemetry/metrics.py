"""Prometheus metrics that add up across processes.

A dyno runs several processes (gunicorn's workers, dramatiq's processes, the clock), and a scrape
reaches one of them. With ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client's multiprocess mode has
every process write its samples to files in that directory, and the exposition sums them, so one
``/metrics`` tells the story of every process on the host. Unset (tests, one process), the default
in-process registry is used.

The directory is created here, at import, because prometheus_client writes a metric's file as soon as
an unlabelled metric is declared; every module declaring metrics imports this one first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

import settings as settings_module

MULTIPROC_DIR = settings_module.load().prometheus_multiproc_dir
if MULTIPROC_DIR:
    os.makedirs(MULTIPROC_DIR, exist_ok=True)


class _Joined(Collector):
    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition_registry(*scrape_time: Collector) -> Collector:
    """What a scrape reads: every process's metrics on this host, and ``scrape_time`` collectors (which
    read their values, such as queue depths, when asked)."""
    if MULTIPROC_DIR:
        process_metrics: Collector = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_metrics, path=MULTIPROC_DIR)
    else:
        process_metrics = REGISTRY
    return _Joined([process_metrics, *scrape_time])


def mark_process_dead(pid: int) -> None:
    """Drop a stopped process's live gauges (its counters keep counting in the sum)."""
    if MULTIPROC_DIR:
        multiprocess.mark_process_dead(pid, MULTIPROC_DIR)
