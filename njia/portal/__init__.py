"""The organisations' portal (docs/interfaces.md §9): a person signs in for their organisation, uploads a
route report into that organisation's inbox folder, and reads the feedback and the history, in English or
Kiswahili. Accounts, sessions and the audit (`accounts`), files (`files`), the web app (`app`)."""
