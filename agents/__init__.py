"""Faust agents, one module each: the stages that consume topics."""
