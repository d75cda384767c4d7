"""Satisfaction: the requester's 1-5 score of a resolved ticket, from the tray, the portal
or the one-click links of the resolution mail; aggregates and the low-score flag."""
