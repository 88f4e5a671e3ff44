"""The Alertmanager webhook receiver: persist, decide, act, measure."""
