"""What tests, bench and chaos share: real workers, the running services, the broker's topics.

``harness.workers`` starts ``faust -A app worker`` as ``make run`` does, on
topics and a consumer group of its own; ``harness.services`` reaches the
running PostgreSQL and Elasticsearch; ``harness.broker`` creates, writes,
reads and deletes topics on the real broker. It imports the product (``app``)
and nothing of the tests.
"""
