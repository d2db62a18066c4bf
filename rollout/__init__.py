"""A unit's run through the model: the step engine, timeline, dashboard, reports and exports."""
