"""Humanitarian Response Forum preparedness plans: plans, actions, activations."""
