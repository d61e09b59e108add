"""Training stages: config, LR schedules (stepwise cyclic, warm-up + cosine), a logits view, fit loop with
resume, warm start and MLflow logging."""
