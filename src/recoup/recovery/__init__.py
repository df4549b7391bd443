"""Recovery: the engine, repair actions, checkpoints and durable workflows."""
