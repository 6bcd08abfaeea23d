"""Communities: every group or channel the business's bot sits in, with its roster, its
statistics and the settings its managers give it (welcome, rules, moderation, referrals)."""
