from rest_framework.routers import SimpleRouter

from .views import CheckoutViewSet

# SimpleRouter: no browsable root view or format suffixes, only the routes merchants use.
router = SimpleRouter()
router.register("checkouts", CheckoutViewSet, basename="merchant-checkout")

urlpatterns = router.urls
