"""The pages' forms: one per operation, validated by the JSON API's own input schemas."""
