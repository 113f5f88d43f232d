from django.urls import path

from risk import views

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("decisions/<int:pk>/", views.decision_detail, name="decision"),
    path("decisions/<int:pk>/accept/", views.decision_accept, name="decision_accept"),
]
