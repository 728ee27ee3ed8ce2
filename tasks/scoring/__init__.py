"""The score stage: batch scoring with SHAP reasons, the score file, the CRM sinks, the serving
models."""
