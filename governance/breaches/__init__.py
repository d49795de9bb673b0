"""The personal data breach register (UK GDPR Art. 33–34; DPA 2018 s.67–68 for law-enforcement
processing): what happened, when it was found, what and whom it affected, the risk assessment,
whether and when the Commissioner was told (within 72 hours of becoming aware) or why not, and
whether the people affected were told."""
