from django.urls import path

from . import views

urlpatterns = [
    path("demo-shop/", views.shop, name="demo_shop"),
    path("demo-shop/buy/", views.buy, name="demo_shop_buy"),
    path("demo-shop/return/", views.order_return, name="demo_shop_return"),
    path("demo-shop/refund/", views.refund, name="demo_shop_refund"),
]
