from django.urls import path

from lending import views, views_checkout, views_pay_later

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("borrow/", views.borrow, name="borrow"),
    path("borrow/confirm/", views.borrow_confirm, name="borrow_confirm"),
    path("loans/<int:pk>/", views.loan_detail, name="loan"),
    path("loans/<int:pk>/repay/", views.repay, name="repay"),
    path("checkout/<slug:token>/", views_checkout.checkout, name="checkout"),
    path("checkout/<slug:token>/confirm/", views_checkout.checkout_confirm_view,
         name="checkout_confirm"),
    path("checkout/<slug:token>/cancel/", views_checkout.checkout_cancel_view,
         name="checkout_cancel"),
    # The pay-later line (花呗).
    path("pay-later/", views_pay_later.home, name="pay_later_home"),
    path("pay-later/pay/", views_pay_later.pay, name="pay_later_pay"),
    path("pay-later/credit-balance/pay-back/", views_pay_later.credit_balance_refund,
         name="pay_later_credit_pay_back"),
    path("pay-later/statements/", views_pay_later.statement_list, name="pay_later_statements"),
    path("pay-later/statements/<int:pk>/", views_pay_later.statement_detail,
         name="pay_later_statement"),
    path("pay-later/statements/<int:pk>/convert/", views_pay_later.convert,
         {"kind": "statement"}, name="pay_later_statement_convert"),
    path("pay-later/statements/<int:pk>/convert/confirm/", views_pay_later.convert_confirm,
         {"kind": "statement"}, name="pay_later_statement_convert_confirm"),
    path("pay-later/purchases/", views_pay_later.purchase_list, name="pay_later_purchases"),
    path("pay-later/purchases/<int:pk>/", views_pay_later.purchase_detail,
         name="pay_later_purchase"),
    path("pay-later/purchases/<int:pk>/convert/", views_pay_later.convert,
         {"kind": "purchase"}, name="pay_later_purchase_convert"),
    path("pay-later/purchases/<int:pk>/convert/confirm/", views_pay_later.convert_confirm,
         {"kind": "purchase"}, name="pay_later_purchase_convert_confirm"),
    path("pay-later/plans/", views_pay_later.plan_list, name="pay_later_plans"),
    path("pay-later/plans/<int:pk>/", views_pay_later.plan_detail, name="pay_later_plan"),
    path("pay-later/plans/<int:pk>/settle/", views_pay_later.plan_settle,
         name="pay_later_plan_settle"),
]
