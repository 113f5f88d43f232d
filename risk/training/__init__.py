"""Training scorecards: the pure pipeline (split, boost, calibrate, measure), cross-validation
against a logistic-regression baseline, and reading a lender's CSV table. Nothing here needs
Django; the `train_model` command connects it to the platform's data and the registry."""
