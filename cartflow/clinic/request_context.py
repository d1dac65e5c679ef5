"""Every page and API request made known to the services it calls (``current_request``).

A signature's password is counted against the address it came from (django-axes), and an
enrolled signer's authenticator code is read from the request's form or headers; the page
views call the services through layers that do not pass the request down.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from cartflow.clinic.services.context import current_request


class CurrentRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
