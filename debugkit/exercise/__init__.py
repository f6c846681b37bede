"""Student notebooks built from bugged baselines, instructor keys, and checking handed-in fixes."""
