from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accepton/", include("django_accepton.urls")),
    path("store/", include("store.urls")),
]
