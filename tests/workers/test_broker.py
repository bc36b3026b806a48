import dramatiq

from workers.broker import InMemoryBroker


def test_an_in_memory_broker_knows_whether_a_worker_consumes_it_in_this_process():
    broker = InMemoryBroker()
    broker.declare_queue("default")
    assert broker.worker_booted is False

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=10)
    worker.start()
    worker.stop()

    assert broker.worker_booted is True
