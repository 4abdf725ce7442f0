"""Research uses: the ground truth a simulation knows, and the methods to test against it.

Owns customer journeys (touch paths), the attribution models and their check against the counterfactual
truth, and MMM datasets with their true decomposition. It reads simulation results; it must not run the
engine's internals or optimize.
"""
