from django.urls import path

from debt_collection import views

urlpatterns = [
    path("loans/<int:pk>/hardship/", views.hardship_request, name="hardship_request"),
    path("hardship/", views.hardship_requests, name="hardship_requests"),
    path("hardship/<int:pk>/withdraw/", views.hardship_withdraw, name="hardship_withdraw"),
]
