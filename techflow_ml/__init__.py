"""The churn prediction model (the `churn_prediction_model` exposure): see churn.py."""
