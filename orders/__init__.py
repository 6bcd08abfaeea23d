"""Orders: what customers bought, on their profile, with status notices on their channel."""
