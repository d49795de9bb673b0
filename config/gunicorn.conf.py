"""gunicorn's settings for ``make web`` (the scaled-out web processes): each worker, once it has loaded the
application, starts the web warm-ups that the apps registered (``governance.serving``), in the background, as
``manage.py serve`` does on the embedded default."""


def post_worker_init(worker) -> None:
    from governance.serving import web_warm_ups_start

    web_warm_ups_start()
