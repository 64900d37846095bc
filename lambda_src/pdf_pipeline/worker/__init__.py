"""The container worker (ECS Fargate, arm64): ``python -m pdf_pipeline.worker --mode large|failsafe``.

``large`` long-polls the large queue and splits each document into chunks on task storage;
``failsafe`` drains the dead-letter queues and takes each message all the way to page images
in-process, quarantining what still fails. Both share the host loop in ``host``.
"""
