"""Training scorecards: the pure pipeline (split, boost, calibrate, measure), cross-validation
against a logistic-regression baseline (nested, with the capacity chosen inside, on a small
table), and reading a lender's CSV table. Nothing here needs Django; the `train_model` command
connects it to the platform's data and the registry."""
