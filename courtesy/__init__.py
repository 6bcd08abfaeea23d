"""The courtesy policy every marketing send obeys: consent, quiet hours, one daily cap,
deadlines and each platform's rules."""
