"""A table of the bench project only, written by the bare view (``benchmarks.views``)."""

from django.db import models


class BareHit(models.Model):
    """One row per request of the bare view: what the smallest write of a request costs."""

    token_id = models.CharField(max_length=64)
    charge_id = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "benchmarks"

    def __str__(self) -> str:
        return f"{self.token_id} {self.charge_id}"
