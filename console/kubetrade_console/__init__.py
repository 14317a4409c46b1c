"""kubetrade's web console and REST API.

It reads the Kubernetes API (as the caller, checked by SubjectAccessReview) and the
trade store, and never imports the operator's handlers.
"""
