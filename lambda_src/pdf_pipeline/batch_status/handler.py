"""Placeholder: the batch_status function package replaces this at merge."""


def handler(event, context):
    raise NotImplementedError
