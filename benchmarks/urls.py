"""The product's URLs plus the benchmark's baseline view; served only by the benchmark server
(benchmarks.settings), never by the product."""

from django.urls import path

from config.urls import urlpatterns as product_urlpatterns

from .views import one_insert

urlpatterns = [path("bench/insert/", one_insert, name="bench_one_insert"),
               *product_urlpatterns]
