"""Every change of risk state goes through a function here (docs/architecture.md, "One write
path"): decisions and their acceptance, officers' income verifications, the model registry, the
block list, and the simulator's hidden truth."""
