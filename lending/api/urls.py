from rest_framework.routers import SimpleRouter

from .views import LoanViewSet

# SimpleRouter: no browsable root view or format suffixes, only the resources banks use.
router = SimpleRouter()
router.register("loans", LoanViewSet, basename="loan")

urlpatterns = router.urls
