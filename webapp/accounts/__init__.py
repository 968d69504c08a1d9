"""Staff accounts on the web: login and its defences, account wording, the account change log."""
