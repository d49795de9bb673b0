"""Form widgets with the value formats browsers read.

An ``<input type="date">`` shows its value only when it is ``YYYY-MM-DD`` (HTML's valid date string);
Django's default renders the locale's ``01/01/2027``, which the browser shows as empty, so an edit form
that saved fine the first time failed until every date was typed again. The same for datetime-local.
"""

from __future__ import annotations

from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")
