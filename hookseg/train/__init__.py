"""Training stages: config, stepwise cyclic LR, fit loop with resume and MLflow logging."""
