"""Self-training: the phase schedule (Table 8) and the pseudo-labeller over Ray."""
