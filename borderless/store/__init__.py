"""The reference shop: a small Sanic service over a SQL database, seeded from demo/orders.yml.

It gives the assistant a real order system to talk to out of the box and in tests. Modules:
``schema`` (tables), ``seed`` (fixture loading), ``repository`` (queries), ``app`` (HTTP API),
``__main__`` (``python -m borderless.store serve|seed``). Importing this package loads none of them.
"""
