"""marat-bot: a Microsoft Teams bot that runs a domestic-abuse MARAT and its MARAC conferences."""
