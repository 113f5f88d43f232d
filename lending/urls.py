from django.urls import path

from lending import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("borrow/", views.borrow, name="borrow"),
    path("borrow/confirm/", views.borrow_confirm, name="borrow_confirm"),
    path("loans/<int:pk>/", views.loan_detail, name="loan"),
    path("loans/<int:pk>/repay/", views.repay, name="repay"),
]
