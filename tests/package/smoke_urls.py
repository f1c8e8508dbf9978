from django.urls import include, path

urlpatterns = [path("accepton/", include("django_accepton.urls"))]
