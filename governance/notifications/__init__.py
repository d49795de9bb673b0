"""Notifications: one inbox per user (and email, where the user wants it) for every clock the product keeps."""
