from django.urls import include, path

from benchmarks.views import BareView, FloorView

urlpatterns = [
    path("accepton/", include("django_accepton.urls")),
    path("bench/bare/", BareView.as_view()),
    path("bench/floor/", FloorView.as_view()),
]
