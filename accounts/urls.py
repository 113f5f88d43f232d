from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import LoginForm

urlpatterns = [
    path("signup/", views.sign_up, name="signup"),
    path("signup/confirm/<str:token>/", views.sign_up_confirm, name="signup-confirm"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True,
                                                authentication_form=LoginForm),
         name="login"),
    # Django's LogoutView answers only POST (a GET is a 405), so no link or image elsewhere
    # can sign a customer out; the header's "Log out" is a form.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Named as Django's own view is, which this one wraps.
    path("language/", views.language_switch, name="set_language"),
    path("profile/", views.profile, name="profile"),
    path("notices/", views.notices, name="notices"),
    path("notices/read-all/", views.notices_read_all, name="notices-read-all"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
]
