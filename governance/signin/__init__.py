"""Signing in: password, lockout of repeated failures, a second factor (TOTP with recovery codes),
idle timeout, and an audit event for every sign-in, failure, lockout and second-factor change.

The pieces are well-kept libraries (django-axes counts failures, django-otp holds the TOTP and
recovery-code devices); this package decides *when* they apply and records what happened.
"""
